// The native addon, when it cannot be loaded, is named up front by the real CLI: `check` fails (or warns)
// per instance at its place in the file, `run` refuses to start VRRP before touching anything. The addon is
// made unloadable through LVSKEEP_NATIVE_ADDON: a missing file and a corrupt one (not an ELF object).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../../net/daemon/cli.js';

const dir = join(REPO, '.lvskeep-test', `native-addon-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const missing = join(dir, 'missing.node');
const corrupt = join(dir, 'corrupt.node');
writeFileSync(corrupt, 'this is not a shared object\n');

function config(name: string, transport: 'vrrp' | 'udp', vip = '203.0.113.100/24'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'vrrp:',
      '  instances:',
      '    - name: public',
      '      interface: eth0',
      '      virtual_router_id: 51',
      `      transport: ${transport}`,
      ...(transport === 'udp' ? ['      unicast_peers: [203.0.113.2]'] : []),
      `      virtual_ips: [${vip}]`,
      '',
    ].join('\n'),
  );
  return file;
}

const withAddon = (path: string): NodeJS.ProcessEnv => ({ ...process.env, LVSKEEP_NATIVE_ADDON: path });
const FIX = 'build it with `npm run build:native` (needs the Debian packages python3, make and g++)';

describe('native addon that cannot be loaded, through the CLI', () => {
  const vrrpFile = config('vrrp.yaml', 'vrrp');

  it('check names the instance at its transport key, why the addon does not load, and the fix', async () => {
    const r = await runCli(['check', '-c', vrrpFile], 60_000, withAddon(missing));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${vrrpFile}:6:18: vrrp.instances[0].transport: instance "public" uses transport vrrp (IP protocol 112), which needs the lvskeep native addon: cannot load ${missing}`);
    expect(r.stderr).toContain(FIX);
    expect(r.stderr).toContain(`1 error: ${vrrpFile} is valid, but this host cannot run it`);
  }, 60_000);

  it('says what the loader said about a corrupt file', async () => {
    const r = await runCli(['check', '-c', vrrpFile], 60_000, withAddon(corrupt));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot load \S+corrupt\.node: .*(invalid ELF header|file too short)/);
  }, 60_000);

  it('without transport vrrp it only warns: gratuitous ARP falls back to arping', async () => {
    const udp = config('udp.yaml', 'udp');
    const r = await runCli(['check', '-c', udp], 60_000, withAddon(missing));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).toContain('warning: ');
    expect(r.stderr).toContain('gratuitous ARP falls back to `arping -U` (Debian package iputils-arping)');
  }, 60_000);

  it('with the built addon, the same file is ok', async () => {
    const r = await runCli(['check', '-c', vrrpFile], 60_000, { ...process.env, LVSKEEP_NATIVE_ADDON: '' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.code).toBe(0);
  }, 60_000);

  it('run refuses to start, with the same message, before opening anything', async () => {
    // No control socket, IPVS backend or address is touched: the only log lines are the refusal.
    const r = await runCli(['run', '-c', vrrpFile], 60_000, withAddon(missing));
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringContaining(`${vrrpFile}:6:18: vrrp.instances[0].transport: instance "public" uses transport vrrp`),
      'VRRP cannot run without the native addon; not starting',
    ]);
    expect(lines[0]?.msg).toContain(FIX);
  }, 60_000);
});
