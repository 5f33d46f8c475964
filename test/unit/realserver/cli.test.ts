import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerDirector, runDirectorPrepare } from '../../../src/director/cli.js';
import { EXIT_ERROR, EXIT_NOT_UP, EXIT_OK, EXIT_UNKNOWN, registerRealserver, runRealserverAction, type RealserverCliOptions } from '../../../src/realserver/cli.js';
import type { RealserverDeps } from '../../../src/realserver/realserver.js';
import { memoryStateStore } from '../../../src/realserver/state.js';
import { defaultSysctls, FakeLinks, FakeSysctls, FakeVips } from './fakes.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const opts = (vip: string[]): RealserverCliOptions => ({ vip, mode: 'dr', stateDir: '/nonexistent', vipBackend: 'auto' });
const deps = (): RealserverDeps & { sysctl: FakeSysctls } => ({ sysctl: new FakeSysctls(defaultSysctls()), vips: new FakeVips(), links: new FakeLinks(), state: memoryStateStore() });

describe('realserver command output and exit codes', () => {
  it('status 3 before up, 0 after; a second up says nothing changed', async () => {
    const d = deps();
    const c = capture();
    expect(await runRealserverAction('status', opts(['192.0.2.10']), c.output, d)).toBe(EXIT_NOT_UP);
    expect(c.out.at(-1)).toBe('real server is NOT fully up');
    expect(await runRealserverAction('up', opts(['192.0.2.10']), c.output, d)).toBe(EXIT_OK);
    expect(c.out).toContain('added 192.0.2.10/32 on lo (label lo:0)');
    const second = capture();
    expect(await runRealserverAction('up', opts(['192.0.2.10']), second.output, d)).toBe(EXIT_OK);
    expect(second.out.at(-1)).toBe('nothing to change: real server already up for 192.0.2.10');
    expect(await runRealserverAction('status', opts(['192.0.2.10']), capture().output, d)).toBe(EXIT_OK);
  });

  it('a failure prints the reason, what was done before it, and how to undo it; exit 1', async () => {
    const d = deps();
    d.sysctl.failWriteOnly.set('net.ipv4.conf.lo.arp_ignore', 'EIO');
    const c = capture();
    expect(await runRealserverAction('up', opts(['192.0.2.10']), c.output, d)).toBe(EXIT_ERROR);
    expect(c.err[0]).toMatch(/^lvskeep realserver up: write net.ipv4.conf.lo.arp_ignore failed: EIO/);
    expect(c.err).toContain('done before the failure:');
    expect(c.err).toContain('  set net.ipv4.conf.all.arp_ignore 0 -> 1');
    expect(c.err.at(-1)).toMatch(/realserver.json; `lvskeep realserver down` with the same --vip\/--mode undoes it/);
  });

  it('an unreadable state is "status unknown" (4), and bad flags are errors (1) that change nothing', async () => {
    const d = deps();
    d.state.load = () => Promise.reject(new Error('state file broken'));
    const c = capture();
    expect(await runRealserverAction('status', opts(['192.0.2.10']), c.output, d)).toBe(EXIT_UNKNOWN);
    expect(c.err[0]).toBe('lvskeep realserver status: state file broken');
    const bad = capture();
    expect(await runRealserverAction('up', opts(['192.0.2.10/24']), bad.output, deps())).toBe(EXIT_ERROR);
    expect(bad.err[0]).toMatch(/--vip 192.0.2.10\/24/);
  });

  it('registers realserver up|down|status with repeatable --vip and the flags the systemd unit uses', () => {
    const program = new Command('lvskeep');
    registerRealserver(program);
    registerDirector(program);
    const rs = program.commands.find((c) => c.name() === 'realserver');
    expect(rs?.commands.map((c) => c.name())).toEqual(['up', 'down', 'status']);
    const up = rs?.commands[0];
    expect(up?.options.map((o) => o.long)).toEqual(['--vip', '--mode', '--dev', '--state-dir', '--vip-backend']);
    const parsed = up?.parseOptions(['--vip', '192.0.2.10', '--vip', '192.0.2.11', '--mode', 'dr']);
    expect(parsed?.unknown).toEqual([]);
    expect(up?.opts()).toMatchObject({ vip: ['192.0.2.10', '192.0.2.11'], mode: 'dr', stateDir: '/var/lib/lvskeep' });
    const director = program.commands.find((c) => c.name() === 'director');
    expect(director?.commands.map((c) => c.name())).toEqual(['prepare']);
  });
});

describe('director prepare command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvskeep-director-'));
    await writeFile(
      join(dir, 'nat.yaml'),
      `vrrp:
  instances:
    - { name: a, interface: eth0, virtual_router_id: 1, virtual_ips: [203.0.113.10/24] }
virtual_servers:
  - { name: web, address: "203.0.113.10:80", protocol: tcp, forwarding: nat, real_servers: [{ address: "198.51.100.11:80" }] }
`,
    );
    await writeFile(join(dir, 'broken.yaml'), 'virtual_servers: 7\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('--dry-run says "would set", the real run "set", the third run "nothing to change"', async () => {
    const io = new FakeSysctls(defaultSysctls());
    const dry = capture();
    expect(await runDirectorPrepare({ config: join(dir, 'nat.yaml'), dryRun: true }, dry.output, io)).toBe(0);
    expect(dry.out[0]).toMatch(/^would set net.ipv4.ip_forward 0 -> 1 {2}\(NAT virtual servers/);
    expect(io.writes).toEqual([]);
    const run = capture();
    expect(await runDirectorPrepare({ config: join(dir, 'nat.yaml') }, run.output, io)).toBe(0);
    expect(run.out.filter((l) => l.startsWith('set '))).toHaveLength(4);
    const again = capture();
    expect(await runDirectorPrepare({ config: join(dir, 'nat.yaml') }, again.output, io)).toBe(0);
    expect(again.out.at(-1)).toBe('nothing to change: director sysctls already in place');
  });

  it('a broken config or a failing write exits 1 and says what was changed', async () => {
    const c = capture();
    expect(await runDirectorPrepare({ config: join(dir, 'broken.yaml') }, c.output, new FakeSysctls())).toBe(1);
    expect(c.err.at(-1)).toMatch(/broken.yaml; nothing was changed$/);
    const io = new FakeSysctls(defaultSysctls());
    io.failWrite.set('net.ipv4.ip_forward', 'EACCES');
    const denied = capture();
    expect(await runDirectorPrepare({ config: join(dir, 'nat.yaml') }, denied.output, io)).toBe(1);
    expect(denied.err).toEqual(['lvskeep director prepare: cannot write net.ipv4.ip_forward: EACCES', 'nothing was changed']);
  });
});
