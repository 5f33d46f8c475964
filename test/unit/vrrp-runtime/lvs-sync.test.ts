import { describe, expect, it } from 'vitest';
import { IpvsError } from '../../../src/ipvs/backend.js';
import type { DaemonConfig } from '../../../src/ipvs/netlink/attrs.js';
import { LvsSyncController, lazySyncBackend, planSyncDaemons, wantedSyncDaemon, type SyncDaemonState } from '../../../src/vrrp/runtime/lvs-sync.js';
import { FakeSyncKernel } from './fake-sync-kernel.js';
import { ManualTimers, flush, logger, recordingBus } from './fakes.js';

const SETTINGS = { interface: 'eth1', syncId: 7 };

function setup(opts: ConstructorParameters<typeof LvsSyncController>[2] extends infer D ? Partial<D> : never = {}) {
  const timers = new ManualTimers();
  const kernel = new FakeSyncKernel(timers);
  const { bus, events } = recordingBus();
  const ctl = new LvsSyncController('vi1', SETTINGS, { backend: kernel, logger, bus, timers, wallClock: () => 5000, retryMs: 1000, maxAttempts: 3, ...opts });
  return { timers, kernel, events, ctl };
}

describe('wantedSyncDaemon', () => {
  it('maps Master to the master daemon, Backup and Fault to the backup daemon, Initialize to none', () => {
    expect(wantedSyncDaemon('Master')).toBe('master');
    expect(wantedSyncDaemon('Backup')).toBe('backup');
    expect(wantedSyncDaemon('Fault')).toBe('backup');
    expect(wantedSyncDaemon('Initialize')).toBeUndefined();
  });
});

describe('planSyncDaemons', () => {
  const d = (state: SyncDaemonState, mcastIfn = 'eth1', syncId = 7): DaemonConfig => ({ state, mcastIfn, syncId });

  it('starts the wanted daemons when none runs: a master runs the master daemon and keeps a backup one', () => {
    expect(planSyncDaemons('master', SETTINGS, [])).toEqual([{ op: 'start', daemon: d('master') }, { op: 'start', daemon: d('backup') }]);
    expect(planSyncDaemons('backup', SETTINGS, [])).toEqual([{ op: 'start', daemon: d('backup') }]);
  });
  it('becoming master keeps the backup daemon (it receives hand-overs); leaving master stops only the master one', () => {
    expect(planSyncDaemons('master', SETTINGS, [d('backup')])).toEqual([{ op: 'start', daemon: d('master') }]);
    expect(planSyncDaemons('backup', SETTINGS, [d('master'), d('backup')])).toEqual([{ op: 'stop', state: 'master' }]);
    expect(planSyncDaemons('backup', SETTINGS, [d('master')])).toEqual([{ op: 'stop', state: 'master' }, { op: 'start', daemon: d('backup') }]);
  });
  it('does nothing when exactly the wanted daemons run', () => {
    expect(planSyncDaemons('backup', SETTINGS, [d('backup')])).toEqual([]);
    expect(planSyncDaemons('master', SETTINGS, [d('backup'), d('master')])).toEqual([]);
  });
  it('restarts a daemon of a wanted state on another interface or sync id', () => {
    expect(planSyncDaemons('master', SETTINGS, [d('master', 'eth0'), d('backup')])).toEqual([{ op: 'stop', state: 'master' }, { op: 'start', daemon: d('master') }]);
    expect(planSyncDaemons('master', SETTINGS, [d('master'), d('backup', 'eth1', 8)])).toEqual([{ op: 'stop', state: 'backup' }, { op: 'start', daemon: d('backup') }]);
  });
  it('stops everything when no daemon is wanted', () => {
    expect(planSyncDaemons(undefined, SETTINGS, [d('master'), d('backup')])).toEqual([{ op: 'stop', state: 'master' }, { op: 'stop', state: 'backup' }]);
  });
});

describe('LvsSyncController', () => {
  it('follows Backup -> Master -> Fault -> Initialize with the right daemon each time', async () => {
    const t = setup();
    t.ctl.follow('Backup');
    await t.ctl.settled();
    expect(t.kernel.running).toEqual([{ state: 'backup', mcastIfn: 'eth1', syncId: 7 }]);
    t.ctl.follow('Master');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup', 'master']);
    t.ctl.follow('Fault');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup']);
    t.ctl.follow('Initialize');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual([]);
    expect(t.kernel.log).toEqual(['start backup eth1 7', 'start master eth1 7', 'stop master', 'stop backup']);
    expect(t.events).toEqual([]);
    expect(t.ctl.status()).toEqual({ wanted: 'none', applied: 'none', failures: 0 });
  });

  it('aims at the latest state when states change faster than the kernel answers', async () => {
    const t = setup();
    t.ctl.follow('Backup');
    t.ctl.follow('Master');
    t.ctl.follow('Backup');
    t.ctl.follow('Master');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup', 'master']);
    // At most one detour through the first wanted state, never a daemon left over.
    expect(t.kernel.log.length).toBeLessThanOrEqual(3);
  });

  it('takes over daemons a previous run left behind (stop the wrong one, keep the right one)', async () => {
    const t = setup();
    t.kernel.running = [{ state: 'master', mcastIfn: 'eth1', syncId: 7 }, { state: 'backup', mcastIfn: 'eth1', syncId: 7 }];
    t.ctl.follow('Backup');
    await t.ctl.settled();
    expect(t.kernel.log).toEqual(['stop master']);
    expect(t.kernel.states()).toEqual(['backup']);
  });

  it('turns a failed start into an ipvs.error event naming operation, daemon and instance, retries, then succeeds', async () => {
    const t = setup();
    t.kernel.failStart = new IpvsError({ op: 'daemon' }, 'EPERM', 'NEW_DAEMON master on eth1 syncid 7: EPERM');
    t.ctl.follow('Master');
    await t.ctl.settled();
    expect(t.events.map((e) => e.type)).toEqual(['ipvs.error']);
    expect(t.events[0]).toMatchObject({ operation: 'NEW_DAEMON master', object: 'master sync daemon on eth1 syncid 7 (vrrp instance vi1)', error: expect.stringContaining('EPERM') as string });
    expect(t.ctl.status()).toMatchObject({ wanted: 'master', failures: 1, lastError: expect.stringContaining('EPERM') as string });
    t.kernel.failStart = undefined;
    await t.timers.advance(1000);
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup', 'master']);
    expect(t.ctl.status()).toEqual({ wanted: 'master', applied: 'master', failures: 0 });
  });

  it('gives up after maxAttempts failures and starts again on the next state change', async () => {
    const t = setup();
    t.kernel.failStart = new Error('ENOMEM');
    t.ctl.follow('Master');
    for (let i = 0; i < 5; i++) {
      await t.ctl.settled();
      await t.timers.advance(1000);
    }
    expect(t.kernel.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
    expect(t.timers.count()).toBe(0);
    t.kernel.failStart = undefined;
    t.ctl.follow('Backup');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup']);
  });

  it('treats ESRCH from DEL_DAEMON as already stopped', async () => {
    const t = setup();
    const kernel = t.kernel;
    t.kernel.running = [{ state: 'master', mcastIfn: 'eth1', syncId: 7 }];
    // The daemon vanishes between the dump and the stop (another tool stopped it).
    const dump = kernel.daemons.bind(kernel);
    kernel.daemons = async () => {
      const r = await dump();
      kernel.running = [];
      return r;
    };
    t.ctl.follow('Backup');
    await t.ctl.settled();
    expect(kernel.log).toEqual(['stop master', 'start backup eth1 7']);
    expect(t.events).toEqual([]);
  });

  it('a DEL_DAEMON without an answer is done once GET_DAEMON no longer lists the daemon', async () => {
    const t = setup({ stopAnswerMs: 2000, stopGoneMs: 30_000, pollMs: 500 });
    t.kernel.running = [{ state: 'master', mcastIfn: 'eth1', syncId: 7 }];
    t.kernel.hangStop = true;
    t.kernel.slowStopMs = 12_000;
    t.ctl.follow('Backup');
    await t.timers.advance(11_000);
    expect(t.kernel.states()).toEqual(['master']);
    await t.timers.advance(2_000);
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual(['backup']);
    expect(t.events).toEqual([]);
  });

  it('reports a stop that never takes effect as DEL_DAEMON failure after stopGoneMs', async () => {
    const t = setup({ stopAnswerMs: 2000, stopGoneMs: 10_000, pollMs: 500, maxAttempts: 1 });
    t.kernel.running = [{ state: 'backup', mcastIfn: 'eth1', syncId: 7 }];
    t.kernel.hangStop = true;
    t.ctl.follow('Initialize');
    await t.timers.advance(11_000);
    await t.ctl.settled();
    expect(t.events).toHaveLength(1);
    expect(t.events[0]).toMatchObject({ type: 'ipvs.error', operation: 'DEL_DAEMON backup', error: expect.stringContaining('still listed by GET_DAEMON') as string });
    expect(t.kernel.log.filter((l) => l.startsWith('start'))).toEqual([]);
  });

  it('a hung GET_DAEMON times out as an error instead of blocking forever', async () => {
    const t = setup({ requestTimeoutMs: 3000, maxAttempts: 1 });
    t.kernel.daemons = () => new Promise<DaemonConfig[]>(() => undefined);
    t.ctl.follow('Master');
    await t.timers.advance(3001);
    await t.ctl.settled();
    expect(t.events[0]).toMatchObject({ type: 'ipvs.error', operation: 'GET_DAEMON', error: expect.stringContaining('no answer within 3000 ms') as string });
  });

  it('close() stops the daemons and ignores later state changes', async () => {
    const t = setup();
    t.ctl.follow('Master');
    await t.ctl.settled();
    await t.ctl.close();
    expect(t.kernel.states()).toEqual([]);
    t.ctl.follow('Master');
    await t.ctl.settled();
    expect(t.kernel.states()).toEqual([]);
  });
});

describe('lazySyncBackend', () => {
  it('opens once on first use, retries an open that failed, and closes what it opened', async () => {
    const kernel = new FakeSyncKernel();
    let opens = 0;
    let closes = 0;
    const lazy = lazySyncBackend(() => {
      opens++;
      if (opens === 1) return Promise.reject(new Error('IPVS generic netlink family not found'));
      return Promise.resolve(Object.assign(kernel, { close: () => Promise.resolve(void closes++) }));
    });
    expect(opens).toBe(0);
    await expect(lazy.daemons()).rejects.toThrow(/cannot open the IPVS sync daemon control: IPVS generic netlink family not found/);
    await lazy.startDaemon({ state: 'backup', mcastIfn: 'eth1', syncId: 1 });
    expect(await lazy.daemons()).toHaveLength(1);
    expect(opens).toBe(2);
    await lazy.close();
    expect(closes).toBe(1);
    await flush();
  });
});
