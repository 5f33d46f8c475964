// The real worker thread and netlink socket: a process that ends while its sync-daemon worker is busy with
// requests (process.exit; an uncaught error whose handler exits, as the VRRP process does; a planned close)
// ends with its own exit code, never by a native crash. The negative control shows the hazard and that these
// runs would see it: a worker thread torn down with an unread netlink reply aborts the process, every time.
// (Ending the real worker without the hook crashes only in some runs, when a reply happens to be pending, so it
// cannot serve as a control that must fail.)
// Without the ip_vs module each request still opens a socket and fails its family lookup: the socket is busy.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'vrrp', 'sync-worker-exit.ts');
const HAZARD = join(ROOT, 'test', 'fixtures', 'vrrp', 'netlink-exit-hazard.ts');
const DELAYS = [0, 2, 5, 10, 20];

/**
 * One fixture process. Asynchronous on purpose: a spawnSync per run blocked this vitest worker's event loop for
 * the whole file (minutes on a loaded machine), long enough for vitest's own worker RPC to time out
 * ('[vitest-worker]: Timeout calling "onTaskUpdate"', an unhandled error that fails the run).
 */
function run(args: string[]): Promise<{ status: number | null; signal: string | null; stdout: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, out: `${stdout}${stderr}`.slice(-500) }));
  });
}

describe('sync-daemon worker: ending the process while the worker is busy', () => {
  for (const [mode, code] of [['exit', 7], ['throw', 70], ['close', 0]] as const) {
    it(`${mode}: exit code ${code} every time`, async () => {
      for (const d of DELAYS) {
        const r = await run([FIXTURE, mode, String(d)]);
        expect({ delay: d, status: r.status, signal: r.signal }, r.out).toEqual({ delay: d, status: code, signal: null });
        expect(r.out).toContain('"errors"');
      }
    }, 120_000);
  }

  it('negative control: a worker torn down with an unread netlink reply aborts the process', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await run([HAZARD]);
      expect(r.stdout).toBe('sent\n');
      expect(r.status === 134 || r.signal === 'SIGABRT', `run ${i}: status ${r.status} signal ${r.signal}: ${r.out}`).toBe(true);
    }
  }, 90_000);
});
