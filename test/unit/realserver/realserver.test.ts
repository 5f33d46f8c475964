import { describe, expect, it } from 'vitest';

import { RealserverError, realserverDown, realserverStatus, realserverUp, type RealserverDeps } from '../../../src/realserver/realserver.js';
import { memoryStateStore } from '../../../src/realserver/state.js';
import { defaultSysctls, FakeLinks, FakeSysctls, FakeVips } from './fakes.js';

function setup(initial: Record<string, string> = defaultSysctls()) {
  const sysctl = new FakeSysctls(initial);
  const vips = new FakeVips();
  const links = new FakeLinks();
  const state = memoryStateStore();
  const deps: RealserverDeps = { sysctl, vips, links, state };
  return { sysctl, vips, links, state, deps };
}

const dr = (...vips: string[]) => ({ vips, mode: 'dr' as const });

describe('realserver up (DR)', () => {
  it('sets the ARP sysctls before adding the VIPs with labels lo:0, lo:1, and records the old values', async () => {
    const t = setup();
    t.sysctl.values.set('net.ipv4.conf.all.arp_announce', '1');
    const order: string[] = [];
    const write = t.sysctl.write.bind(t.sysctl);
    t.sysctl.write = async (k, v) => {
      order.push(`sysctl ${k}`);
      await write(k, v);
    };
    const add = t.vips.add.bind(t.vips);
    t.vips.add = async (v) => {
      order.push(`add ${v.address}`);
      await add(v);
    };
    const report = await realserverUp(dr('192.0.2.10', '192.0.2.11'), t.deps);
    expect(report.done).toEqual([
      'set net.ipv4.conf.all.arp_ignore 0 -> 1',
      'set net.ipv4.conf.all.arp_announce 1 -> 2',
      'set net.ipv4.conf.lo.arp_ignore 0 -> 1',
      'set net.ipv4.conf.lo.arp_announce 0 -> 2',
      'added 192.0.2.10/32 on lo (label lo:0)',
      'added 192.0.2.11/32 on lo (label lo:1)',
    ]);
    expect(order.findIndex((o) => o.startsWith('add'))).toBeGreaterThan(order.findLastIndex((o) => o.startsWith('sysctl')));
    expect(t.state.current().sysctls).toEqual({
      'net.ipv4.conf.all.arp_ignore': '0',
      'net.ipv4.conf.all.arp_announce': '1',
      'net.ipv4.conf.lo.arp_ignore': '0',
      'net.ipv4.conf.lo.arp_announce': '0',
    });
    expect(t.state.current().vips.map((v) => `${v.address} ${v.label ?? ''} ${v.added}`)).toEqual(['192.0.2.10 lo:0 true', '192.0.2.11 lo:1 true']);
  });

  it('is a no-op the second time: no writes, no adds, state untouched', async () => {
    const t = setup();
    await realserverUp(dr('192.0.2.10'), t.deps);
    const before = t.state.current();
    const writes = t.sysctl.writes.length;
    const calls = t.vips.calls.length;
    let saves = 0;
    const save = t.state.save.bind(t.state);
    t.state.save = (s) => {
      saves += 1;
      return save(s);
    };
    const again = await realserverUp(dr('192.0.2.10'), t.deps);
    expect(again.done).toEqual([]);
    expect(again.kept).toContain('192.0.2.10/32 on lo (label lo:0) already');
    expect(t.sysctl.writes.length).toBe(writes);
    expect(t.vips.calls.length).toBe(calls);
    expect(saves).toBe(0);
    expect(t.state.current()).toEqual(before);
  });

  it('skips labels taken by addresses already on lo, and leaves an existing VIP in place on down', async () => {
    const t = setup();
    t.vips.byDev.set('lo', [
      { address: '127.0.0.1', prefix: 8, dev: 'lo' },
      { address: '192.0.2.99', prefix: 32, dev: 'lo', label: 'lo:0' },
      { address: '192.0.2.11', prefix: 32, dev: 'lo' },
    ]);
    const up = await realserverUp(dr('192.0.2.10', '192.0.2.11'), t.deps);
    expect(up.done).toContain('added 192.0.2.10/32 on lo (label lo:1)');
    expect(up.kept).toContain('192.0.2.11/32 on lo already');
    const down = await realserverDown(dr('192.0.2.10', '192.0.2.11'), t.deps);
    expect(down.done).toContain('removed 192.0.2.10/32 from lo');
    expect(down.kept).toContain('192.0.2.11/32 on lo was there before lvskeep; left in place');
    expect((await t.vips.list('lo')).map((v) => v.address)).toEqual(['127.0.0.1', '192.0.2.99', '192.0.2.11']);
  });

  it('refuses an unknown device before changing anything', async () => {
    const t = setup();
    const err = await realserverUp({ ...dr('192.0.2.10'), dev: 'eth9' }, t.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RealserverError);
    expect((err as Error).message).toMatch(/unknown device eth9/);
    expect((err as RealserverError).done).toEqual([]);
    expect(t.sysctl.writes).toEqual([]);
  });

  it('a sysctl that cannot be written (no root, read-only /proc/sys) stops it before the first write', async () => {
    const t = setup();
    t.sysctl.failWrite.set('net.ipv4.conf.lo.arp_ignore', 'EROFS');
    const err = (await realserverUp(dr('192.0.2.10'), t.deps).catch((e: unknown) => e)) as RealserverError;
    expect(err.message).toMatch(/net.ipv4.conf.lo.arp_ignore: EROFS/);
    expect(err.done).toEqual([]);
    expect(t.sysctl.writes).toEqual([]);
    expect(t.vips.calls).toEqual([]);
  });

  it('a failure part-way reports what was done, and down undoes exactly that', async () => {
    const t = setup();
    t.sysctl.failWriteOnly.set('net.ipv4.conf.lo.arp_ignore', 'EIO');
    const err = (await realserverUp(dr('192.0.2.10'), t.deps).catch((e: unknown) => e)) as RealserverError;
    expect(err).toBeInstanceOf(RealserverError);
    expect(err.done).toEqual(['set net.ipv4.conf.all.arp_ignore 0 -> 1', 'set net.ipv4.conf.all.arp_announce 0 -> 2']);
    expect(t.vips.calls).toEqual([]);
    // The state holds the originals of every planned change, so down restores whatever was written.
    t.sysctl.failWriteOnly.clear();
    const state = t.state.current();
    expect(state.vips).toEqual([]);
    expect(Object.keys(state.sysctls)).toHaveLength(4);
    // With no VIP held, down restores at once (nothing else needs the values).
    const down = await realserverDown(dr('192.0.2.10'), t.deps);
    expect(down.done).toEqual(['restored net.ipv4.conf.all.arp_ignore 1 -> 0', 'restored net.ipv4.conf.all.arp_announce 2 -> 0']);
    expect(down.kept).toContain('192.0.2.10 on lo: not set up by lvskeep (not in (memory)); left alone');
    expect(t.state.current()).toEqual({ version: 1, sysctls: {}, vips: [], links: [] });
  });

  it('a VIP that cannot be added is reported after the sysctls it did set', async () => {
    const t = setup();
    t.vips.failAdd = '192.0.2.11';
    const err = (await realserverUp(dr('192.0.2.10', '192.0.2.11'), t.deps).catch((e: unknown) => e)) as RealserverError;
    expect(err.message).toMatch(/add 192.0.2.11: refused by fake/);
    expect(err.done.at(-1)).toBe('added 192.0.2.10/32 on lo (label lo:0)');
    expect(err.done).toHaveLength(5);
  });
});

describe('realserver down', () => {
  it('restores the exact values found before up', async () => {
    const odd = { ...defaultSysctls(), 'net.ipv4.conf.all.arp_ignore': '8', 'net.ipv4.conf.lo.arp_announce': '1', 'net.ipv4.conf.all.arp_announce': '2' };
    const t = setup(odd);
    await realserverUp(dr('192.0.2.10'), t.deps);
    const down = await realserverDown(dr('192.0.2.10'), t.deps);
    expect(down.done).toContain('removed 192.0.2.10/32 from lo');
    for (const [k, v] of Object.entries(odd)) expect(t.sysctl.values.get(k), k).toBe(v);
    expect(t.state.current().sysctls).toEqual({});
    // all.arp_announce was already 2: never written, so not "restored" either.
    expect(t.sysctl.writes.filter((w) => w.startsWith('net.ipv4.conf.all.arp_announce'))).toEqual([]);
  });

  it('with one unit per VIP, keeps the sysctls until the last VIP goes', async () => {
    const t = setup();
    await realserverUp(dr('192.0.2.10'), t.deps);
    await realserverUp(dr('192.0.2.11'), t.deps);
    expect(t.state.current().vips.map((v) => v.label)).toEqual(['lo:0', 'lo:1']);
    const first = await realserverDown(dr('192.0.2.10'), t.deps);
    expect(first.done).toEqual(['removed 192.0.2.10/32 from lo']);
    expect(first.kept).toEqual(['sysctls and links kept: still needed for 192.0.2.11 on lo']);
    expect(t.sysctl.values.get('net.ipv4.conf.all.arp_ignore')).toBe('1');
    const last = await realserverDown(dr('192.0.2.11'), t.deps);
    expect(last.done).toContain('restored net.ipv4.conf.all.arp_ignore 1 -> 0');
    expect(t.sysctl.values.get('net.ipv4.conf.all.arp_ignore')).toBe('0');
  });

  it('twice is a no-op the second time', async () => {
    const t = setup();
    await realserverUp(dr('192.0.2.10'), t.deps);
    await realserverDown(dr('192.0.2.10'), t.deps);
    const writes = t.sysctl.writes.length;
    const again = await realserverDown(dr('192.0.2.10'), t.deps);
    expect(again.done).toEqual([]);
    expect(t.sysctl.writes.length).toBe(writes);
  });
});

describe('realserver TUN', () => {
  it('brings up tunl0 (after loading ipip), sets rp_filter=0, puts the VIP on tunl0; down sets tunl0 down again', async () => {
    const t = setup();
    t.vips.byDev.set('tunl0', []);
    const up = await realserverUp({ vips: ['192.0.2.10'], mode: 'tun' }, t.deps);
    expect(up.done).toEqual([
      'loaded the ipip module (tunl0 appeared)',
      'set net.ipv4.conf.all.arp_ignore 0 -> 1',
      'set net.ipv4.conf.all.arp_announce 0 -> 2',
      'set net.ipv4.conf.tunl0.arp_ignore 0 -> 1',
      'set net.ipv4.conf.tunl0.arp_announce 0 -> 2',
      'set net.ipv4.conf.all.rp_filter 2 -> 0',
      'set net.ipv4.conf.tunl0.rp_filter 2 -> 0',
      'set tunl0 up',
      'added 192.0.2.10/32 on tunl0 (label tunl0:0)',
    ]);
    expect(t.state.current().links).toEqual([{ name: 'tunl0', action: 'set-up' }]);
    const down = await realserverDown({ vips: ['192.0.2.10'], mode: 'tun' }, t.deps);
    expect(down.done.at(-1)).toBe('set tunl0 down');
    expect(t.sysctl.values.get('net.ipv4.conf.all.rp_filter')).toBe('2');
  });

  it('fails with the reason when the kernel has no ipip', async () => {
    const t = setup();
    t.links.tunnelAvailable = false;
    const err = (await realserverUp({ vips: ['192.0.2.10'], mode: 'tun' }, t.deps).catch((e: unknown) => e)) as RealserverError;
    expect(err.message).toMatch(/tunl0 is missing and could not be made: ipip unavailable/);
    expect(err.done).toEqual([]);
  });
});

describe('realserver status', () => {
  it('lists what is missing until up, then reports fully up', async () => {
    const t = setup();
    const before = await realserverStatus(dr('192.0.2.10'), t.deps);
    expect(before.up).toBe(false);
    expect(before.lines.filter((l) => !l.ok).map((l) => l.text)).toEqual([
      'net.ipv4.conf.all.arp_ignore = 0 (wanted 1: reply to ARP only for addresses on the receiving interface (not the VIP))',
      'net.ipv4.conf.all.arp_announce = 0 (wanted 2: never use the VIP as the source of ARP requests)',
      'net.ipv4.conf.lo.arp_ignore = 0 (wanted 1: reply to ARP only for addresses on the receiving interface (not the VIP))',
      'net.ipv4.conf.lo.arp_announce = 0 (wanted 2: never use the VIP as the source of ARP requests)',
      '192.0.2.10/32 is not on lo',
    ]);
    await realserverUp(dr('192.0.2.10'), t.deps);
    const after = await realserverStatus(dr('192.0.2.10'), t.deps);
    expect(after.up).toBe(true);
    expect(after.lines.at(-1)?.text).toBe('192.0.2.10/32 on lo (label lo:0), added by lvskeep');
    // Another VIP that is not there makes the status "not up" again.
    expect((await realserverStatus(dr('192.0.2.10', '192.0.2.12'), t.deps)).up).toBe(false);
  });

  it('reports a missing device as not up', async () => {
    const t = setup();
    const s = await realserverStatus({ vips: ['192.0.2.10'], mode: 'tun' }, t.deps);
    expect(s).toEqual({ up: false, lines: [{ ok: false, text: 'device tunl0 does not exist' }] });
  });
});
