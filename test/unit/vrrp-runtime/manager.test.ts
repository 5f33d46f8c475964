import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { VrrpConfig } from '../../../src/config/types.js';
import { createVrrpManager } from '../../../src/vrrp/runtime/manager.js';
import { FakeLinkEvents, flush, managerFixture, stopManager } from './fakes.js';

function vrrpConfig(instances: string[], syncGroups = ''): VrrpConfig {
  const text = ['vrrp:', '  instances:', ...instances, syncGroups].join('\n');
  const r = parseConfigText(text, 'test.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config.vrrp;
}

const instance = (name: string, vrid: number, vip: string, extra: string[] = []): string =>
  [`    - name: ${name}`, '      interface: eth0', `      virtual_router_id: ${vrid}`, '      priority: 150', `      virtual_ips: [${vip}/24]`, ...extra.map((l) => `      ${l}`)].join('\n');

const setup = (): ReturnType<typeof managerFixture> => managerFixture();

describe('createVrrpManager', () => {
  it('starts every instance with the interface address as advert source and reaches Master', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50'), instance('b', 2, '192.0.2.51')]), t.deps);
    await m.start();
    await t.timers.advance(4000);
    expect(m.status().map((s) => [s.name, s.state, s.masterAddress])).toEqual([
      ['a', 'Master', '192.0.2.1'],
      ['b', 'Master', '192.0.2.1'],
    ]);
    await stopManager(m, t.timers);
  });

  it('fails start naming the instance when the interface has no address', async () => {
    const t = setup();
    t.vips.addresses = [];
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50')]), t.deps);
    await expect(m.start()).rejects.toThrow(/vrrp instance a \(interface eth0\).*no usable IPv4 address/);
  });

  it('starts in Fault when its interface is down, and follows the link (polled operstate)', async () => {
    const t = setup();
    t.operstate.set('eth0', 'down');
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50')]), { ...t.deps, linkPollMs: 100 });
    await m.start();
    expect(m.status()[0]?.state).toBe('Fault');
    t.operstate.set('eth0', 'up');
    await t.timers.advance(300);
    expect(m.status()[0]?.state).toBe('Backup');
    await stopManager(m, t.timers);
  });

  it('reload keeps unchanged instances (same object, same state), restarts changed ones, stops removed ones', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50'), instance('b', 2, '192.0.2.51'), instance('c', 3, '192.0.2.52')]), t.deps);
    await m.start();
    await t.timers.advance(4000);
    const a = m.instance('a');
    const reloading = m.reload(vrrpConfig([instance('a', 1, '192.0.2.50'), instance('b', 2, '192.0.2.61'), instance('d', 4, '192.0.2.53')]));
    // b and c are masters: they hand over (priority 0) and wait for the step-down hold.
    await t.timers.advance(5000);
    const r = await reloading;
    expect(r).toEqual({ kept: ['a'], started: ['b', 'd'], stopped: ['b', 'c'] });
    expect(m.instance('a')).toBe(a);
    expect(m.instance('a')?.status().state).toBe('Master');
    expect(m.instance('b')?.status().state).toBe('Backup');
    expect(m.instance('c')).toBeUndefined();
    expect(t.vips.present.has('192.0.2.51')).toBe(false);
    expect(t.vips.present.has('192.0.2.52')).toBe(false);
    await t.timers.advance(5000);
    await stopManager(m, t.timers);
  });

  it('pool checks feed tracking: a down virtual server lowers the priority by its weight', async () => {
    const t = setup();
    const cfg = vrrpConfig([instance('a', 1, '192.0.2.50')]);
    // (The config cross-check wants a real virtual server named web; the manager only needs the track entry.)
    cfg.instances[0]?.track.checks.push({ virtual_server: 'web', weight: -50, reverse: false });
    const m = createVrrpManager(cfg, t.deps);
    await m.start();
    m.setCheckState('web', undefined, false);
    expect(m.status()[0]?.effectivePriority).toBe(100);
    m.setCheckState('web', undefined, true);
    expect(m.status()[0]?.effectivePriority).toBe(150);
    await stopManager(m, t.timers);
  });

  it('sync group: a fault in one member puts the other in Fault too', async () => {
    const t = setup();
    const cfg = vrrpConfig(
      [instance('a', 1, '192.0.2.50', ['track: { interfaces: [{ name: eth1 }] }']), instance('b', 2, '192.0.2.51')],
      ['  sync_groups:', '    - name: g', '      instances: [a, b]'].join('\n'),
    );
    t.operstate.set('eth1', 'up');
    const m = createVrrpManager(cfg, { ...t.deps, linkPollMs: 100 });
    await m.start();
    await t.timers.advance(4000);
    expect(m.status().map((s) => s.state)).toEqual(['Master', 'Master']);
    t.operstate.set('eth1', 'down');
    await t.timers.advance(300);
    expect(m.status().map((s) => s.state)).toEqual(['Fault', 'Fault']);
    expect(t.vips.present.size).toBe(0);
    t.operstate.set('eth1', 'up');
    await t.timers.advance(4500);
    expect(m.status().map((s) => s.state)).toEqual(['Master', 'Master']);
    await flush();
    await stopManager(m, t.timers);
    expect(t.vips.present.size).toBe(0);
    expect(t.events.filter((e) => e.type === 'vrrp.state' && e.to === 'FAULT').length).toBe(2);
  });

  it('runs notify as notify_user when set (resolved by the config loader)', async () => {
    const t = setup();
    const users: unknown[] = [];
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50', ['notify: [/usr/local/bin/on-vrrp]', 'notify_user: "nobody:nogroup"'])]), {
      ...t.deps,
      notifyRunner: (_argv, _timeout, user) => {
        users.push(user);
        return Promise.resolve({ ok: true, detail: 'exit 0' });
      },
    });
    await m.start();
    await t.timers.advance(4000);
    await stopManager(m, t.timers);
    expect(users.length).toBeGreaterThan(0);
    for (const u of users) expect(u).toEqual({ user: 'nobody:nogroup', uid: 65534, gid: 65534 });
  });

  it('runs notify with INSTANCE <name> <STATE> <priority> appended, in order', async () => {
    const t = setup();
    const runs: string[] = [];
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50', ['notify: [/usr/local/bin/on-vrrp, "x"]'])]), {
      ...t.deps,
      notifyRunner: (argv) => {
        runs.push(argv.join(' '));
        return Promise.resolve({ ok: true, detail: 'exit 0' });
      },
    });
    await m.start();
    await t.timers.advance(4000);
    await stopManager(m, t.timers);
    expect(runs).toEqual([
      '/usr/local/bin/on-vrrp x INSTANCE a BACKUP 150',
      '/usr/local/bin/on-vrrp x INSTANCE a MASTER 150',
      '/usr/local/bin/on-vrrp x INSTANCE a BACKUP 150',
      '/usr/local/bin/on-vrrp x INSTANCE a INIT 150',
    ]);
  });
});

describe('createVrrpManager link notifications', () => {
  it('follows a link notification without a poll, and closes the source at stop', async () => {
    const t = setup();
    const events = new FakeLinkEvents();
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50')]), { ...t.deps, linkEvents: () => Promise.resolve(events), linkPollMs: 100 });
    await m.start();
    await t.timers.advance(4000);
    expect(m.status()[0]?.state).toBe('Master');
    events.notify('eth0', 'down');
    await flush();
    expect(m.status()[0]?.state).toBe('Fault');
    await stopManager(m, t.timers);
    expect(events.closed).toBe(true);
  });

  it('falls back to the fast poll when the notifications cannot be opened', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50')]), { ...t.deps, linkEvents: () => Promise.reject(new Error('EPERM')), linkPollMs: 100 });
    await m.start();
    await t.timers.advance(4000);
    t.operstate.set('eth0', 'down');
    await t.timers.advance(150);
    expect(m.status()[0]?.state).toBe('Fault');
    await stopManager(m, t.timers);
  });
});

describe('createVrrpManager accept mode', () => {
  it('drops VIP traffic while a non-accepting instance is Master, not before, not after stop', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50', ['accept: false']), instance('b', 2, '192.0.2.51')]), t.deps);
    await m.start();
    expect(t.acceptFilter.applied).toEqual([{ v4: [], v6: [] }]); // stale rules removed at start
    await t.timers.advance(4000);
    expect(m.status().map((s) => s.state)).toEqual(['Master', 'Master']);
    expect(t.acceptFilter.last()).toEqual(['192.0.2.50']);
    m.stepDown('a');
    await flush();
    expect(t.acceptFilter.last()).toEqual([]);
    await stopManager(m, t.timers);
    expect(t.acceptFilter.last()).toEqual([]);
  });

  it('without nft, only the instances with accept: false fail to start', async () => {
    const t = setup();
    t.acceptFilter.fail = new Error('nft -f - (table inet lvskeep): nft not found (Debian package nftables)');
    const m = createVrrpManager(vrrpConfig([instance('a', 1, '192.0.2.50', ['accept: false']), instance('b', 2, '192.0.2.51')]), t.deps);
    await expect(m.start()).rejects.toThrow(/vrrp instance a: accept: false needs nftables to drop traffic to its VIPs: .*nft not found/);
    expect(m.status().map((s) => s.name)).toEqual(['b']);
    await stopManager(m, t.timers);
  });
});
