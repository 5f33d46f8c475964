import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createScriptProber } from '../../../src/health/script.js';
import type { Prober, ScriptCheckSpec } from '../../../src/health/types.js';

const dir = mkdtempSync(join(tmpdir(), 'lvskeep-script-'));
chmodSync(dir, 0o755); // the uid test runs a script as nobody
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SLACK = 400;

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const probers: Prober[] = [];
afterEach(async () => {
  await Promise.all(probers.splice(0).map((p) => p.close()));
});
function run(command: string[], over: Partial<ScriptCheckSpec> = {}): Prober {
  const p = createScriptProber(
    { intervalMs: 1000, timeoutMs: 2000, rise: 1, fall: 1, retries: 0, retryDelayMs: 0, assume: 'down', jitterPercent: 0, type: 'script', command, dynamicWeight: false, ...over },
    { address: '198.51.100.11', port: 8080, virtualServer: 'tcp 203.0.113.1:80' },
  );
  probers.push(p);
  return p;
}

/** Running (not a zombie waiting for whoever adopted it to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('script checker', () => {
  it('exit 0 is up, exit 1 is down with the first stderr line', async () => {
    expect(await run([script('ok.sh', 'exit 0')]).probe()).toMatchObject({ ok: true, reason: 'exit 0' });
    expect(await run([script('no.sh', 'echo "backend says no" >&2; echo more >&2; exit 1')]).probe()).toMatchObject({ ok: false, reason: 'exit 1: backend says no' });
  });
  it('runs with a clean environment naming the real server and service', async () => {
    const s = script('env.sh', 'echo "$LVSKEEP_RS_ADDR|$LVSKEEP_RS_PORT|$LVSKEEP_VS|$PATH|${HOME:-nohome}|${LVSKEEP_SECRET:-none}" >&2; exit 1');
    process.env.LVSKEEP_SECRET = 'leak';
    try {
      const r = await run([s]).probe();
      expect(r.reason).toBe('exit 1: 198.51.100.11|8080|tcp 203.0.113.1:80|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|nohome|none');
    } finally {
      delete process.env.LVSKEEP_SECRET;
    }
  });
  it('passes argv literally, never through a shell', async () => {
    const marker = join(dir, 'pwned');
    const s = script('argv.sh', `[ "$1" = 'a b; touch x' ] && [ "$2" = '$(touch ${marker})' ]`);
    expect(await run([s, 'a b; touch x', `$(touch ${marker})`]).probe()).toMatchObject({ ok: true });
    expect(existsSync(marker)).toBe(false);
  });
  it('dynamic weight: exit 2..255 is up with weight exit-2; without it, down', async () => {
    const s = script('w.sh', 'exit 7');
    expect(await run([s], { dynamicWeight: true }).probe()).toMatchObject({ ok: true, weight: 5, reason: 'exit 7 (weight 5)' });
    expect(await run([s]).probe()).toMatchObject({ ok: false, reason: 'exit 7' });
    expect(await run([script('w1.sh', 'exit 1')], { dynamicWeight: true }).probe()).toMatchObject({ ok: false });
  });
  it('a script past its timeout is killed with its children', async () => {
    const pidFile = join(dir, 'child.pid');
    const s = script('slow.sh', `sleep 30 & echo $! > ${pidFile}; sleep 30`);
    const r = await run([s], { timeoutMs: 400 }).probe();
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 400 ms (killed)' });
    expect(r.latencyMs).toBeGreaterThanOrEqual(390);
    expect(r.latencyMs).toBeLessThan(400 + SLACK);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pid).toBeGreaterThan(1);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(pid)).toBe(false);
  });
  it('a program that cannot run, and a signal death, are down with a reason', async () => {
    expect(await run(['/nonexistent/check']).probe()).toMatchObject({ ok: false, reason: 'cannot run /nonexistent/check: no such file' });
    expect(await run([script('sig.sh', 'kill -TERM $$')]).probe()).toMatchObject({ ok: false, reason: 'killed by SIGTERM' });
    expect(await run([]).probe()).toMatchObject({ ok: false, reason: 'script check: empty command' });
  });
  it.runIf(process.getuid?.() === 0)('runs as the configured uid/gid', async () => {
    const s = script('id.sh', 'echo "$(id -u):$(id -g)" >&2; exit 1');
    expect(await run([s], { user: { uid: 65534, gid: 65534 } }).probe()).toMatchObject({ ok: false, reason: 'exit 1: 65534:65534' });
  });

  it('close() kills a running script and ends the probe', async () => {
    const p = run([script('hang.sh', 'sleep 30')], { timeoutMs: 10_000 });
    const pending = p.probe();
    await new Promise((res) => setTimeout(res, 100));
    await p.close();
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted: check stopped' });
  });
});
