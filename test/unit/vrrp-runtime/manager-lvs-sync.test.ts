// The manager wires lvs_sync (IPVS sync daemons follow the instance, and its sync group) and the start-up
// policy (state_hint, saved Master state: listen one Master_Down_Interval unless priority 255).
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import type { VrrpConfig } from '../../../src/config/types.js';
import type { ConnPusher, ConnPushSettings } from '../../../src/ipvs/conn-sync/pusher.js';
import { HANDOVER_PUSH_AT_MS } from '../../../src/vrrp/runtime/conn-handover.js';
import { createVrrpManager } from '../../../src/vrrp/runtime/manager.js';
import { ResetGuardController } from '../../../src/vrrp/runtime/reset-guard-tc.js';
import { FakeSyncKernel } from './fake-sync-kernel.js';
import { flush, logger, managerFixture, stopManager } from './fakes.js';

function vrrpConfig(lines: string[]): VrrpConfig {
  const r = parseConfigText(['vrrp:', ...lines].join('\n'), 'test.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config.vrrp;
}

const inst = (name: string, vrid: number, vip: string, priority: number, extra: string[] = []): string[] => [
  `    - name: ${name}`,
  '      interface: eth0',
  `      virtual_router_id: ${vrid}`,
  `      priority: ${priority}`,
  '      advert_interval: 1s',
  `      virtual_ips: [${vip}/24]`,
  ...extra.map((l) => `      ${l}`),
];

function setup() {
  const f = managerFixture(['eth0', 'eth1']);
  const kernel = new FakeSyncKernel(f.timers);
  let opens = 0;
  /** When each hand-over push ran (fake clock), and with what. */
  const pushes: { at: number; settings: ConnPushSettings }[] = [];
  const pusher: ConnPusher = {
    push: (settings) => {
      pushes.push({ at: f.timers.now(), settings });
      return Promise.resolve({ conns: 1, datagrams: 1, skipped: {}, ms: 0 });
    },
    close: () => Promise.resolve(),
  };
  /** tc batches the reset guard ran, with the fake clock time. */
  const tc: { at: number; lines: readonly string[] }[] = [];
  const resetGuard = new ResetGuardController((lines) => {
    tc.push({ at: f.timers.now(), lines });
    return Promise.resolve();
  }, logger);
  const deps = {
    ...f.deps,
    connPusher: () => pusher,
    resetGuard,
    linkPollMs: 100,
    syncDaemonBackend: () => {
      opens++;
      return Promise.resolve(kernel);
    },
  };
  return { ...f, kernel, deps, pushes, tc, resetGuard, opens: () => opens };
}

/** The one-instance config most tests use: `ext` (priority 150) with lvs_sync on eth1, id 9, plus `extra` keys. */
const lvsSyncConfig = (extra = ''): VrrpConfig => vrrpConfig(['  instances:', ...inst('ext', 1, '192.0.2.50', 150, [`lvs_sync: { interface: eth1, sync_id: 9${extra} }`])]);

describe('manager: lvs_sync', () => {
  it('runs the backup daemon from start-up, the master daemon as Master, and none after stop', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(), t.deps);
    await m.start();
    await t.timers.advance(100);
    expect(m.status()[0]?.state).toBe('Backup');
    expect(t.kernel.running).toEqual([{ state: 'backup', mcastIfn: 'eth1', syncId: 9 }]);
    await t.timers.advance(4000);
    expect(m.status()[0]?.state).toBe('Master');
    expect(t.kernel.running).toEqual([{ state: 'backup', mcastIfn: 'eth1', syncId: 9 }, { state: 'master', mcastIfn: 'eth1', syncId: 9 }]);
    await stopManager(m, t.timers);
    expect(t.kernel.running).toEqual([]);
    // A planned stop steps down first (Backup while the peer takes over: backup daemon), then shuts down.
    expect(t.kernel.log).toEqual(['start backup eth1 9', 'start master eth1 9', 'stop master', 'stop backup']);
    expect(t.opens()).toBe(1);
  });

  it('hands the connections over when leaving Master: at once, on the schedule, and once more on stop', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(), t.deps);
    await m.start();
    await t.timers.advance(4000);
    expect(m.status()[0]?.state).toBe('Master');
    expect(t.pushes).toEqual([]); // becoming master hands nothing over
    const t0 = t.timers.now();
    m.stepDown('ext', 'test');
    await flush();
    expect(t.pushes.map((p) => p.at - t0)).toEqual([0]);
    expect(t.pushes[0]?.settings).toEqual({ interface: 'eth1', syncId: 9 });
    await t.timers.advance(HANDOVER_PUSH_AT_MS.at(-1) ?? 0);
    expect(t.pushes.map((p) => p.at - t0)).toEqual([...HANDOVER_PUSH_AT_MS]);
    await stopManager(m, t.timers);
    expect(t.pushes).toHaveLength(HANDOVER_PUSH_AT_MS.length); // schedule over: nothing in progress at stop
  });

  it('a stop while Master pushes as it steps down and once more before the process ends; lvs_sync.handover: false never pushes', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(), t.deps);
    await m.start();
    await t.timers.advance(4000);
    await stopManager(m, t.timers);
    expect(t.pushes.length).toBeGreaterThanOrEqual(2);
    expect(t.pushes[0]?.settings).toEqual({ interface: 'eth1', syncId: 9 });

    const off = setup();
    const m2 = createVrrpManager(lvsSyncConfig(', handover: false'), off.deps);
    await m2.start();
    await off.timers.advance(4000);
    m2.stepDown('ext', 'test');
    await off.timers.advance(6000);
    await stopManager(m2, off.timers);
    expect(off.pushes).toEqual([]);
  });

  it('reset guard: cleaned at start, up as Backup, kept for reset_grace after becoming Master, down on stop', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(', reset_grace: 2s'), t.deps);
    await m.start();
    await t.timers.advance(100);
    expect(m.status()[0]?.state).toBe('Backup');
    await t.resetGuard.idle();
    expect(t.tc[0]?.lines).toEqual(['filter del dev eth0 egress pref 4646', 'filter del dev eth0 egress pref 4647']);
    expect(t.resetGuard.guarded()).toEqual(['eth0 192.0.2.50']);
    await t.timers.advance(4000);
    expect(m.status()[0]?.state).toBe('Master');
    expect(t.resetGuard.guarded()).toEqual(['eth0 192.0.2.50']); // still within the grace
    await t.timers.advance(2000);
    await t.resetGuard.idle();
    expect(t.resetGuard.guarded()).toEqual([]);
    expect(t.tc.at(-1)?.lines).toEqual(['filter del dev eth0 egress pref 4646 handle 0xc0000232 protocol ip flower']);
    m.stepDown('ext', 'test');
    await t.timers.advance(10);
    await t.resetGuard.idle();
    expect(t.resetGuard.guarded()).toEqual(['eth0 192.0.2.50']);
    await stopManager(m, t.timers);
    expect(t.resetGuard.guarded()).toEqual([]);
  });

  it('reset_grace: 0s never runs tc', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(', reset_grace: 0s'), t.deps);
    await m.start();
    await t.timers.advance(4000);
    m.stepDown('ext', 'test');
    await t.timers.advance(5000);
    await stopManager(m, t.timers);
    expect(t.tc).toEqual([]);
  });

  it('opens no IPVS control when no instance sets lvs_sync', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig(['  instances:', ...inst('ext', 1, '192.0.2.50', 150)]), t.deps);
    await m.start();
    await t.timers.advance(4000);
    await stopManager(m, t.timers);
    expect(t.opens()).toBe(0);
  });

  it('in a sync group, the daemon follows the group: a fault of the other member moves it to backup', async () => {
    const t = setup();
    const cfg = vrrpConfig([
      '  instances:',
      ...inst('ext', 1, '192.0.2.50', 150, ['lvs_sync: { interface: eth1, sync_id: 9 }']),
      ...inst('int', 2, '192.0.2.51', 150, ['track: { interfaces: [{ name: eth1 }] }']),
      '  sync_groups:',
      '    - name: nat',
      '      instances: [ext, int]',
    ]);
    const m = createVrrpManager(cfg, t.deps);
    await m.start();
    await t.timers.advance(4000);
    expect(m.status().map((s) => s.state)).toEqual(['Master', 'Master']);
    expect(t.kernel.states()).toEqual(['backup', 'master']);
    t.operstate.set('eth1', 'down');
    await t.timers.advance(300);
    expect(m.status().map((s) => s.state)).toEqual(['Fault', 'Fault']);
    expect(t.kernel.states()).toEqual(['backup']);
    await stopManager(m, t.timers);
  });

  it('a kernel without IPVS gives ipvs.error events, and VRRP keeps working', async () => {
    const t = setup();
    const m = createVrrpManager(lvsSyncConfig(), {
      ...t.deps,
      syncDaemonBackend: () => Promise.reject(new Error('IPVS generic netlink family not found: is the ip_vs module loaded?')),
      lvsSyncTiming: { retryMs: 1000 },
    });
    await m.start();
    await t.timers.advance(4000);
    expect(m.status()[0]?.state).toBe('Master');
    const errors = t.events.filter((e) => e.type === 'ipvs.error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ operation: 'GET_DAEMON', error: expect.stringContaining('ip_vs module') as string });
    await stopManager(m, t.timers);
  });
});

describe('manager: lvs_sync in status()', () => {
  it('reports the sync daemon of instances that set lvs_sync, with its interface and sync id, and nothing for others', async () => {
    const t = setup();
    const cfg = vrrpConfig([
      '  instances:',
      ...inst('ext', 1, '192.0.2.50', 150, ['lvs_sync: { interface: eth1, sync_id: 51 }']),
      ...inst('int', 2, '192.0.2.51', 150),
    ]);
    const m = createVrrpManager(cfg, t.deps);
    await m.start();
    await t.timers.advance(100);
    const byName = () => new Map(m.status().map((s) => [s.name, s]));
    expect(byName().get('ext')?.lvsSync).toEqual({ wanted: 'backup', applied: 'backup', interface: 'eth1', syncId: 51, failures: 0 });
    expect(byName().get('int')).toBeDefined();
    expect(byName().get('int')).not.toHaveProperty('lvsSync');
    await t.timers.advance(4000);
    expect(byName().get('ext')).toMatchObject({ state: 'Master', lvsSync: { wanted: 'master', applied: 'master', interface: 'eth1', syncId: 51 } });
    await stopManager(m, t.timers);
  });

  it('shows a failing sync daemon with its error while VRRP runs on', async () => {
    const t = setup();
    t.kernel.failStart = new Error('EPERM');
    const m = createVrrpManager(lvsSyncConfig(), {
      ...t.deps,
      lvsSyncTiming: { retryMs: 60_000 },
    });
    await m.start();
    await t.timers.advance(100);
    const s = m.status()[0];
    expect(s?.state).toBe('Backup');
    expect(s?.lvsSync).toMatchObject({ wanted: 'backup', failures: 1, interface: 'eth1', syncId: 9, lastError: expect.stringContaining('EPERM') as string });
    expect(s?.lvsSync?.applied).not.toBe('backup');
    t.kernel.failStart = undefined;
    await stopManager(m, t.timers);
  });
});

describe('manager: start-up policy (state_hint, restart next to a running master)', () => {
  // priority 200, 1 s adverts: Master_Down_Interval = 3000 + (256 - 200) * 1000 / 256 = 3218.75 ms
  const MASTER_DOWN_MS = 3000 + (56 * 1000) / 256;
  const peerAdvert = (priority: number) => ({ version: 3 as const, vrid: 1, priority, intervalCs: 100, addresses: ['192.0.2.50'] });

  it('state_hint MASTER below 255 listens one Master_Down_Interval before claiming Master', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig(['  instances:', ...inst('ext', 1, '192.0.2.50', 200, ['state_hint: MASTER'])]), t.deps);
    await m.start();
    await t.timers.advance(MASTER_DOWN_MS - 10);
    expect(m.status()[0]).toMatchObject({ state: 'Backup', holdingVips: false });
    expect(t.vips.present.size).toBe(0);
    expect(t.transports[0]?.sent).toEqual([]);
    await t.timers.advance(20);
    expect(m.status()[0]?.state).toBe('Master');
    await stopManager(m, t.timers);
  });

  it('a restarted instance (hint MASTER) next to a running higher-priority master never becomes Master', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig(['  instances:', ...inst('ext', 1, '192.0.2.50', 200, ['state_hint: MASTER'])]), t.deps);
    await m.start();
    const tr = t.transports[0];
    if (!tr) throw new Error('no transport');
    for (let i = 0; i < 10; i++) {
      tr.deliverAdvert(peerAdvert(250), '192.0.2.2');
      await t.timers.advance(1000);
      expect(m.status()[0]?.state).toBe('Backup');
    }
    expect(t.vips.log.filter((l) => l.startsWith('add'))).toEqual([]);
    expect(t.events.filter((e) => e.type === 'vrrp.state' && e.to === 'MASTER')).toEqual([]);
    await stopManager(m, t.timers);
  });

  it('priority 255 (address owner) becomes Master at start-up without waiting', async () => {
    const t = setup();
    const m = createVrrpManager(vrrpConfig(['  instances:', ...inst('ext', 1, '192.0.2.50', 255, ['state_hint: MASTER'])]), t.deps);
    await m.start();
    await flush();
    expect(m.status()[0]?.state).toBe('Master');
    await stopManager(m, t.timers);
  });
});
