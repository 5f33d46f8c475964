// The control socket of a real `lvskeep run` refuses every user but root: `lvskeep status` run as nobody (through
// setpriv, as an operator would switch user) is denied, at the directory lvskeep creates (0700) and, with that
// directory opened up, at the socket itself (0600). With control.mode '0666' the same command gets in, which
// shows the refusals come from the modes and not from nobody being unable to run the CLI at all.
// Needs root (to switch to nobody); the net suite gives the daemon its own network namespace.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DaemonProcess, REPO, runCli } from '../daemon/cli.js';
import { describeIf } from '../../harness/privileges.js';

interface Result { code: number | null; stdout: string; stderr: string }

/** `lvskeep status --socket PATH` as nobody:nogroup with no supplementary groups. */
function statusAsNobody(socket: string): Promise<Result> {
  return new Promise((resolve) => {
    const argv = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'status', '--socket', socket];
    // HOME: nobody's is /nonexistent; tsx keeps its cache under the temp directory, which nobody can write.
    const child = spawn('setpriv', argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeIf({ label: 'net/security/control-socket-users', root: true, commands: ['setpriv'] })('the control socket and other users', () => {
  let dir: string;
  let daemon: DaemonProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-ctl-users-'));
    chmodSync(dir, 0o755); // nobody may reach the run directory; what happens there is under test
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function startDaemon(name: string, mode?: string): Promise<string> {
    const socket = join(dir, name, 'lvskeep.sock');
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `control:\n  socket: ${socket}\n${mode ? `  mode: '${mode}'\n` : ''}metrics:\n  enabled: false\n`);
    chmodSync(file, 0o600);
    daemon = new DaemonProcess(['-c', file, '--dry-run']);
    await daemon.waitFor('lvskeep started', (l) => l.msg === 'lvskeep started', 30_000);
    return socket;
  }

  it('defaults: socket 0600 in a 0700 directory; root gets the status, nobody is refused', async () => {
    const socket = await startDaemon('run-default');
    expect(statSync(join(dir, 'run-default')).mode & 0o777).toBe(0o700);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(socket).uid).toBe(0);

    const root = await runCli(['status', '--socket', socket]);
    expect(root.code).toBe(0);

    const nobody = await statusAsNobody(socket);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toContain(`permission denied on ${socket}: run as root`);
    expect(nobody.code).not.toBe(0);

    // Even with the directory opened up (as a shared /run would be), the socket's own mode refuses.
    chmodSync(join(dir, 'run-default'), 0o755);
    const again = await statusAsNobody(socket);
    expect(again.stderr).toContain(`permission denied on ${socket}: run as root`);
    expect(again.code).not.toBe(0);
  });

  it("control.mode '0666' in a traversable directory lets nobody in: the modes are the whole access control", async () => {
    const socket = await startDaemon('run-open', '0666');
    chmodSync(join(dir, 'run-open'), 0o755);
    expect(statSync(socket).mode & 0o777).toBe(0o666);
    const nobody = await statusAsNobody(socket);
    expect(nobody.stderr).toBe('');
    expect(nobody.code).toBe(0);
  });
});
