// The child side with a fake channel and a fake manager: it builds the manager on `start` with timers that
// sample lateness, forwards bus events and pushes status (on events and every interval), answers requests,
// stops the planned way on `stop` or when the parent is gone, and keeps what waits for the parent bounded.
import { describe, expect, it } from 'vitest';
import type { VrrpConfig } from '../../../src/config/types.js';
import { createEvent } from '../../../src/events/types.js';
import type { EventBus } from '../../../src/events/bus.js';
import type { LvsEvent } from '../../../src/events/types.js';
import { silentLogger, type Logger } from '../../../src/log/logger.js';
import { createVrrpChild, type ChildDeps } from '../../../src/vrrp/process/child.js';
import type { FromChild } from '../../../src/vrrp/process/protocol.js';
import type { VrrpControl } from '../../../src/vrrp/runtime/manager.js';
import type { RuntimeTimers } from '../../../src/vrrp/runtime/timers.js';
import { flush, ManualTimers } from '../vrrp-runtime/fakes.js';
import { capturingLogger, status, vrrpConfig } from './fakes.js';

const SETTINGS = { vipBackend: 'auto' as const, logLevel: 'info', logFormat: 'json' as const, statusIntervalMs: 500 };

function fixture(opts: { parentReads?: boolean; logger?: Logger; setRealtime?: (priority: number, rttimeUs: number) => void; cpus?: number } = {}) {
  const timers = new ManualTimers();
  const sent: FromChild[] = [];
  const calls: string[] = [];
  let exited = 0;
  let bus: EventBus<LvsEvent> | undefined;
  let managerTimers: RuntimeTimers | undefined;
  let state: 'Backup' | 'Master' = 'Backup';
  const manager: VrrpControl = {
    start: () => {
      calls.push('start');
      return Promise.resolve();
    },
    stop: () => {
      calls.push('stop');
      return Promise.resolve();
    },
    reload: (c: VrrpConfig) => {
      calls.push(`reload ${c.instances.length}`);
      return Promise.resolve({ kept: ['vi1'], started: [], stopped: [] });
    },
    status: () => [status('vi1', state)],
    stepDown: (name, reason) => calls.push(`step-down ${name ?? '*'} ${reason ?? ''}`),
    setCheckState: (vs, rs, up) => calls.push(`check ${vs} ${rs ?? '-'} ${up}`),
  };
  const deps: ChildDeps = {
    channel: {
      send(msg, done) {
        sent.push(msg);
        if (opts.parentReads ?? true) done(null);
      },
    },
    makeLogger: () => Promise.resolve(opts.logger ?? silentLogger()),
    ...(opts.setRealtime ? { setRealtime: opts.setRealtime } : {}),
    ...(opts.cpus !== undefined ? { cpuCount: () => opts.cpus as number } : {}),
    makeManager: (_config, d) => {
      bus = d.bus;
      managerTimers = d.timers;
      return manager;
    },
    timers,
    exit: () => exited++,
  };
  const child = createVrrpChild(deps);
  return {
    child,
    timers,
    sent,
    calls,
    exits: () => exited,
    bus: () => bus,
    managerTimers: () => managerTimers,
    setState: (s: 'Backup' | 'Master') => (state = s),
    of: <T extends FromChild['t']>(t: T) => sent.filter((m): m is Extract<FromChild, { t: T }> => m.t === t),
  };
}

describe('VRRP child', () => {
  it('starts the manager, answers, forwards events with a fresh status, and pushes status and lateness each interval', async () => {
    const f = fixture();
    f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings: SETTINGS });
    await flush();
    expect(f.calls).toEqual(['start']);
    expect(f.of('reply')).toEqual([{ t: 'reply', id: 1, ok: true, value: undefined }]);

    f.setState('Master');
    const event = createEvent({ type: 'vrrp.state', instance: 'vi1', from: 'BACKUP', to: 'MASTER', reason: 'r', priority: 150 }, 1);
    f.bus()?.emit(event);
    const afterEvent = f.sent.slice(-2);
    expect(afterEvent[0]).toEqual({ t: 'event', event });
    expect(afterEvent[1]).toMatchObject({ t: 'status', status: [{ name: 'vi1', state: 'Master' }] });

    // A VRRP timer armed through the manager's timers that runs 40 ms late is reported at the next tick.
    f.timers.lateByMs = 40;
    f.managerTimers()?.setTimeout(() => undefined, 100);
    const before = f.of('status').length;
    await f.timers.advance(600);
    const pushes = f.of('status').slice(before);
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    expect(pushes.flatMap((p) => p.lateness)).toContain(40);
  });

  it('passes reload, step-down, check states and log level to the manager', async () => {
    const f = fixture();
    f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings: SETTINGS });
    await flush();
    f.child.handle({ t: 'reload', id: 2, config: vrrpConfig(['a', 'b']) });
    f.child.handle({ t: 'step-down', name: 'vi1', reason: 'operator' });
    f.child.handle({ t: 'check-state', virtualServer: 'web', up: false });
    f.child.handle({ t: 'log-level', level: 'debug' });
    await flush();
    expect(f.calls).toEqual(['start', 'reload 2', 'step-down vi1 operator', 'check web - false']);
    expect(f.of('reply').find((r) => r.id === 2)).toEqual({ t: 'reply', id: 2, ok: true, value: { kept: ['vi1'], started: [], stopped: [] } });
  });

  it('stop: planned stop of the manager, then the answer, then the process ends', async () => {
    const f = fixture();
    f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings: SETTINGS });
    await flush();
    f.child.handle({ t: 'stop', id: 2 });
    await flush();
    expect(f.calls).toEqual(['start', 'stop']);
    expect(f.sent.at(-1)).toEqual({ t: 'reply', id: 2, ok: true });
    expect(f.exits()).toBe(1);
    // No more pushes after the stop.
    const n = f.sent.length;
    await f.timers.advance(5_000);
    expect(f.sent.length).toBe(n);
  });

  it('a parent that is gone makes it stop the planned way and exit', async () => {
    const f = fixture();
    f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings: SETTINGS });
    await flush();
    await f.child.parentGone();
    expect(f.calls).toEqual(['start', 'stop']);
    expect(f.exits()).toBe(1);
  });

  it('keeps what waits for a parent that does not read bounded: status pushes first, then events', async () => {
    const f = fixture({ parentReads: false });
    f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings: SETTINGS });
    await flush();
    await f.timers.advance(500 * 200);
    expect(f.of('status').length).toBeLessThanOrEqual(64);
    for (let i = 0; i < 3_000; i++) f.bus()?.emit(createEvent({ type: 'vrrp.split_brain', instance: 'vi1', peer: '192.0.2.2', cleared: false }, i));
    expect(f.sent.length).toBeLessThanOrEqual(1_000);
    expect(f.of('event').length).toBeGreaterThan(900);
  });

  describe('global.vrrp_rt_priority', () => {
    const RT = { ...SETTINGS, realtime: { priority: 10, rttimeUs: 100_000 } };
    async function startWith(settings: typeof SETTINGS & { realtime?: { priority: number; rttimeUs: number } }, setRealtime?: (p: number, us: number, managerCalls: readonly string[]) => void, cpus?: number) {
      const { logger, lines } = await capturingLogger();
      // `f` is assigned before `start` reaches setRealtime, so the callback can see what the manager was asked so far.
      const f = fixture({ logger, ...(cpus !== undefined ? { cpus } : {}), ...(setRealtime ? { setRealtime: (p: number, us: number) => setRealtime(p, us, f.calls) } : {}) });
      f.child.handle({ t: 'start', id: 1, config: vrrpConfig(), settings });
      await flush();
      await flush();
      return { f, warnings: () => lines().filter((l) => l.level === 40).map((l) => String(l.msg)) };
    }

    it('makes the thread SCHED_RR after the manager started, at the configured priority and RLIMIT_RTTIME', async () => {
      const calls: string[] = [];
      const { f, warnings } = await startWith(RT, (p, us, managerCalls) => calls.push(`rt ${p} ${us} after ${managerCalls.join(',')}`));
      expect(calls).toEqual(['rt 10 100000 after start']);
      expect(warnings()).toEqual([]);
      expect(f.of('reply')).toEqual([{ t: 'reply', id: 1, ok: true, value: undefined }]);
    });

    it('two CPUs or more: goes real-time', async () => {
      const calls: number[] = [];
      const { warnings } = await startWith(RT, (p) => calls.push(p), 2);
      expect(calls).toEqual([10]);
      expect(warnings()).toEqual([]);
    });

    it('one CPU: stays at normal scheduling with one warning saying why, VRRP starts anyway', async () => {
      const calls: number[] = [];
      const { f, warnings } = await startWith(RT, (p) => calls.push(p), 1);
      expect(calls).toEqual([]);
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/only one CPU/);
      expect(f.of('reply')).toEqual([{ t: 'reply', id: 1, ok: true, value: undefined }]);
    });

    it('off (no realtime setting): never touches the scheduling', async () => {
      const calls: number[] = [];
      await startWith(SETTINGS, (p) => calls.push(p));
      expect(calls).toEqual([]);
    });

    it('EPERM: one warning naming CAP_SYS_NICE, VRRP starts anyway', async () => {
      const { f, warnings } = await startWith(RT, () => {
        throw Object.assign(new Error('sched_setscheduler(SCHED_RR, priority 10): Operation not permitted (EPERM)'), { code: 'EPERM' });
      });
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/CAP_SYS_NICE/);
      expect(f.of('reply')).toEqual([{ t: 'reply', id: 1, ok: true, value: undefined }]);
    });

    it('no native addon (or one built before setRealtime): one warning, VRRP starts anyway', async () => {
      const { f, warnings } = await startWith(RT);
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(/native addon/);
      expect(f.of('reply')).toEqual([{ t: 'reply', id: 1, ok: true, value: undefined }]);
    });
  });
});
