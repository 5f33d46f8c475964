// `lvskeep check` and `lvskeep run` warn about secrets written in a configuration file that other users can read
// (FILE:LINE:COL: path, the mode and `chmod 600`), and are quiet once the file is 0600. The net suite gives `run`
// its own network namespace for the control socket and metrics listener.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, runCli } from '../daemon/cli.js';

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvskeep-secrets-cli-'));
  file = join(dir, 'lvskeep.yaml');
  writeFileSync(
    file,
    `control:
  socket: ${join(dir, 'lvskeep.sock')}
metrics:
  listen: 127.0.0.1:19597
vrrp:
  instances:
    - name: v1
      interface: lo
      virtual_router_id: 51
      virtual_ips: [203.0.113.10/24]
      auth: { type: hmac, secret: "0123456789abcdef0123" }
alerts:
  sinks:
    - { name: hook, type: webhook, url: "http://127.0.0.1:9/in?token=abc", events: [rs.down] }
`,
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const expected = (mode: string): string[] => [
  `warning: ${file}:11:35: vrrp.instances[0].auth.secret: VRRP hmac secret written in a file readable by its group and others (mode ${mode}): chmod 600 ${file}, or set it from the environment with \${NAME}`,
  `warning: ${file}:14:41: alerts.sinks[0].url: webhook URL with a token or credentials in it written in a file readable by its group and others (mode ${mode}): chmod 600 ${file}, or set it from the environment with \${NAME}`,
];

describe('secrets in a world-readable configuration, from the command line', () => {
  it('lvskeep check warns (and still says ok); after chmod 600 it is quiet', async () => {
    chmodSync(file, 0o644);
    const r = await runCli(['check', '-c', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr.trim().split('\n')).toEqual(expected('0644'));

    chmodSync(file, 0o600);
    const quiet = await runCli(['check', '-c', file]);
    expect(quiet).toMatchObject({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('lvskeep run logs the same warnings at start', async () => {
    chmodSync(file, 0o644);
    const d = new DaemonProcess(['-c', file, '--dry-run']);
    try {
      await d.waitFor('lvskeep started', (l) => l.msg === 'lvskeep started', 30_000);
      const warnings = d.lines.filter((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('written in a file readable by')).map((l) => `warning: ${String(l.msg)}`);
      expect(warnings).toEqual(expected('0644'));
    } finally {
      await d.stop();
    }
  });
});
