// The parent side of the VRRP child process on a manual clock with fake children: the status cache, event and
// lateness forwarding, restart with backoff after a crash (logged, reported, VIPs released, tracking replayed),
// the planned stop and its timeout, and the bound on messages to a child that does not read.
import { describe, expect, it } from 'vitest';
import type { VrrpConfig } from '../../../src/config/types.js';
import { exitReason, nextCrashCount, restartDelayMs } from '../../../src/vrrp/process/backoff.js';
import { createSupervisedVrrp, stopTimeoutFor, type SupervisorOptions } from '../../../src/vrrp/process/supervisor.js';
import { flush, ManualTimers, recordingBus } from '../vrrp-runtime/fakes.js';
import { capturingLogger, spawner, status, vrrpConfig } from './fakes.js';

const SETTINGS = { vipBackend: 'auto' as const, logLevel: 'info', logFormat: 'json' as const, statusIntervalMs: 1000 };

async function fixture(over: Partial<SupervisorOptions> = {}) {
  const timers = new ManualTimers();
  const { bus, events } = recordingBus();
  const { logger, lines } = await capturingLogger();
  const kids = spawner();
  const released: VrrpConfig[] = [];
  const lateness: number[] = [];
  const sup = createSupervisedVrrp({
    config: vrrpConfig(),
    settings: SETTINGS,
    logger,
    bus,
    spawn: kids.spawn,
    timers,
    wallClock: () => 5_000,
    releaseVips: (c) => {
      released.push(c);
      return Promise.resolve();
    },
    onTimerLateness: (ms) => lateness.push(...ms),
    // Fake children push nothing by themselves: the watchdog is tested on its own below.
    unresponsiveMs: 1e9,
    defer: (fn) => queueMicrotask(fn),
    ...over,
  });
  const logged = (msg: string) => lines().filter((l) => l.msg === msg);
  return { timers, bus, events, sup, kids, released, lateness, logged, lines, logger };
}

describe('restart policy', () => {
  it('restarts at once, then 1 s, 2 s, 4 s ... up to 30 s; a child that lived a minute starts the count again', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => restartDelayMs(n))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(nextCrashCount(3, 59_999)).toBe(4);
    expect(nextCrashCount(3, 60_000)).toBe(1);
    expect(exitReason(null, 'SIGKILL', undefined)).toBe('signal SIGKILL');
    expect(exitReason(70, null, 'uncaught: boom')).toBe('exit code 70 (uncaught: boom)');
  });

  it('gives a planned stop time for the slowest instance to hand over', () => {
    expect(stopTimeoutFor(vrrpConfig(['a'], 100))).toBe(9_000);
    expect(stopTimeoutFor(vrrpConfig(['a', 'b'], 3_000))).toBe(17_000);
  });
});

describe('supervised VRRP process', () => {
  it('starts a child with the config and settings, answers status from what it pushes, forwards events and lateness', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    expect(f.sup.pid).toBe(child.pid);
    expect(child.of('start')[0]).toMatchObject({ config: vrrpConfig(), settings: SETTINGS });
    expect(f.sup.status()).toEqual([]);

    child.push({ t: 'status', status: [status('vi1', 'Master')], lateness: [3, 250], latenessDropped: 0 });
    expect(f.sup.status().map((s) => [s.name, s.state, s.holdingVips])).toEqual([['vi1', 'Master', true]]);
    expect(f.lateness).toEqual([3, 250]);

    const event = { type: 'vrrp.state', instance: 'vi1', from: 'BACKUP', to: 'MASTER', reason: 'r', priority: 150, severity: 'warning', dedupKey: 'k', opens: false, resolves: false, time: 1 };
    child.push({ t: 'event', event });
    expect(f.events).toEqual([event]);
    child.push({ t: 'nonsense' });
    expect(f.logged('ignored a malformed message from the VRRP process')).toHaveLength(1);
    await f.sup.stop();
  });

  it('sets the configured nice on every child it forks; without the privilege it warns once and goes on', async () => {
    const calls: [number, number][] = [];
    let deny = false;
    let gone = false;
    const setPriority = (pid: number, prio: number): void => {
      calls.push([pid, prio]);
      if (gone) throw Object.assign(new Error('A system error occurred: uv_os_setpriority returned ESRCH (no such process)'), { code: 'ERR_SYSTEM_ERROR', info: { code: 'ESRCH' } });
      if (deny) throw Object.assign(new Error('A system error occurred: uv_os_setpriority returned EACCES (permission denied)'), { code: 'ERR_SYSTEM_ERROR', info: { code: 'EACCES' } });
    };
    const f = await fixture({ nice: -10, setPriority });
    await f.sup.start();
    const first = f.kids.last();
    expect(calls).toEqual([[first.pid, -10]]);
    expect(f.logged('VRRP process nice set')).toMatchObject([{ level: 20, pid: first.pid, nice: -10 }]);

    deny = true;
    for (let i = 0; i < 2; i++) {
      f.kids.last().die(null, 'SIGKILL');
      await flush();
      await f.timers.advance(1_000 * 2 ** i);
    }
    expect(f.kids.children).toHaveLength(3);
    expect(calls.map(([, p]) => p)).toEqual([-10, -10, -10]);
    expect(calls.map(([pid]) => pid)).toEqual(f.kids.children.map((c) => c.pid));
    const warned = f.lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot set the nice of the VRRP process'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, nice: -10 });
    expect(warned[0]?.msg).toContain('CAP_SYS_NICE');
    // The child runs all the same.
    expect(f.kids.last().of('start')).toHaveLength(1);
    // A child already gone when reniced is the exit handler's business: no warning about the nice.
    gone = true;
    f.kids.last().die(null, 'SIGKILL');
    await flush();
    await f.timers.advance(4_000);
    expect(f.kids.children).toHaveLength(4);
    expect(f.lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot set the nice'))).toHaveLength(1);
    await f.sup.stop();
  });

  it('leaves the nice alone when none is configured', async () => {
    const calls: number[] = [];
    const f = await fixture({ setPriority: (_pid, prio) => calls.push(prio) });
    await f.sup.start();
    expect(calls).toEqual([]);
    await f.sup.stop();
  });

  it('sends step-down and reload, and each tracked check state once per change', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    f.sup.stepDown('vi1', 'operator request (control socket)');
    f.sup.setCheckState('web', undefined, false);
    f.sup.setCheckState('web', undefined, false);
    f.sup.setCheckState('web', '198.51.100.11:80', true);
    f.sup.setCheckState('web', undefined, true);
    expect(child.of('step-down')).toEqual([{ t: 'step-down', name: 'vi1', reason: 'operator request (control socket)' }]);
    expect(child.of('check-state').map((m) => [m.virtualServer, m.realServer, m.up])).toEqual([['web', undefined, false], ['web', '198.51.100.11:80', true], ['web', undefined, true]]);
    const next = vrrpConfig(['vi1', 'vi2']);
    await expect(f.sup.reload(next)).resolves.toEqual({ kept: ['vi1'], started: [], stopped: [] });
    expect(child.of('reload')[0]?.config).toBe(next);
    await f.sup.stop();
  });

  it('a crashed child is logged with why, reported, its VIPs released, and restarted with tracking replayed', async () => {
    const f = await fixture();
    await f.sup.start();
    const first = f.kids.last();
    first.push({ t: 'status', status: [status('vi1', 'Master')], lateness: [], latenessDropped: 0 });
    f.sup.setCheckState('web', undefined, false);

    first.push({ t: 'fatal', error: 'uncaught: boom' });
    first.die(70, null);
    await flush();
    const crash = f.logged('VRRP process exited unexpectedly; releasing its VIPs and restarting it');
    expect(crash).toHaveLength(1);
    expect(crash[0]).toMatchObject({ pid: first.pid, reason: 'exit code 70 (uncaught: boom)', restartInMs: 0, crashes: 1 });
    expect(f.events.filter((e) => e.type === 'vrrp.process')).toMatchObject([{ status: 'exited', reason: 'exit code 70 (uncaught: boom)', severity: 'critical', opens: true }]);
    expect(f.released).toHaveLength(1);
    // Nothing claims the VIPs while no child runs: the cached instance is shown restarting, not Master.
    expect(f.sup.status()).toMatchObject([{ name: 'vi1', state: 'Initialize', holdingVips: false, lastChange: { reason: 'VRRP process exited: exit code 70 (uncaught: boom)' } }]);
    f.sup.stepDown(undefined, 'x'); // no child to tell: a warning, not a throw

    await f.timers.advance(0);
    expect(f.kids.children).toHaveLength(2);
    const second = f.kids.last();
    expect(second.of('start')).toHaveLength(1);
    expect(second.of('check-state').map((m) => [m.virtualServer, m.up])).toEqual([['web', false]]);
    expect(f.sup.restarts).toBe(1);
    expect(f.sup.pid).toBe(second.pid);
    expect(f.logged('VRRP process restarted; its instances start in Backup')).toHaveLength(1);
    expect(f.events.filter((e) => e.type === 'vrrp.process').map((e) => [e.type === 'vrrp.process' && e.status, e.resolves])).toEqual([['exited', false], ['restarted', true]]);
    await f.sup.stop();
  });

  it('backs off when the child keeps crashing, and counts from one again after a stable run', async () => {
    const f = await fixture();
    await f.sup.start();
    const spawnedAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      f.kids.last().die(1, null);
      await flush();
      const before = f.kids.children.length;
      while (f.kids.children.length === before) await f.timers.advance(100);
      spawnedAt.push(f.timers.now());
    }
    // Restart delays 0, 1 s, 2 s, 4 s (each measured from the crash, on a 100 ms grid).
    expect(spawnedAt.map((t, i) => t - (i === 0 ? 0 : spawnedAt[i - 1] ?? 0))).toEqual([100, 1_000, 2_000, 4_000]);
    expect(f.logged('VRRP process exited unexpectedly; releasing its VIPs and restarting it').map((l) => l.restartInMs)).toEqual([0, 1_000, 2_000, 4_000]);

    await f.timers.advance(60_000);
    f.kids.last().die(1, null);
    await flush();
    expect(f.logged('VRRP process exited unexpectedly; releasing its VIPs and restarting it').at(-1)).toMatchObject({ restartInMs: 0, crashes: 1 });
    await f.timers.advance(0);
    await f.sup.stop();
    expect(f.kids.children).toHaveLength(6);
  });

  it('kills a started child that stays silent past the limit, then restarts it the crash way', async () => {
    const f = await fixture({ unresponsiveMs: 5_000 });
    await f.sup.start();
    const first = f.kids.last();
    // A child that pushes keeps living.
    for (let i = 0; i < 8; i++) {
      await f.timers.advance(1_000);
      first.push({ t: 'status', status: [status('vi1', 'Master')], lateness: [], latenessDropped: 0 });
    }
    expect(first.killed).toBe(false);
    // Then its loop is stuck: killed once 5 s pass without a word, VIPs released, a new child started.
    await f.timers.advance(5_500);
    expect(first.killed).toBe(false);
    await f.timers.advance(1_000);
    expect(first.killed).toBe(true);
    expect(f.logged('killing the VRRP process')[0]).toMatchObject({ pid: first.pid });
    expect(f.logged('VRRP process exited unexpectedly; releasing its VIPs and restarting it')[0]?.reason).toMatch(/^signal SIGKILL \(unresponsive for \d+ ms\)$/);
    expect(f.released).toHaveLength(1);
    await f.timers.advance(0);
    expect(f.kids.children).toHaveLength(2);
    await f.sup.stop();
  });

  it('does not blame the child for its own stall: messages waiting to be read count before the verdict', async () => {
    let deferred: (() => void) | undefined;
    const f = await fixture({ unresponsiveMs: 5_000, defer: (fn) => (deferred = fn) });
    await f.sup.start();
    const child = f.kids.last();
    await f.timers.advance(7_000); // our loop "stalled": the watchdog runs before the queued status is read
    expect(deferred).toBeDefined();
    child.push({ t: 'status', status: [], lateness: [], latenessDropped: 0 });
    deferred?.();
    expect(child.killed).toBe(false);
    await f.sup.stop();
  });

  it('a child that never answers start is killed and replaced', async () => {
    const f = await fixture({ startTimeoutMs: 3_000 });
    f.kids.autoAnswer = false;
    const starting = f.sup.start().then(() => 'started', (err: unknown) => String(err));
    f.kids.autoAnswer = true; // only the first child hangs
    await f.timers.advance(3_100);
    expect(await starting).toMatch('did not answer start within 3000 ms');
    expect(f.kids.children[0]?.killed).toBe(true);
    await f.timers.advance(0);
    expect(f.kids.children).toHaveLength(2);
    expect(f.kids.children[1]?.of('start')).toHaveLength(1);
    await f.sup.stop();
  });

  it('stop asks for the planned stop and does not restart the child that then exits', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    await f.sup.stop();
    expect(child.of('stop')).toHaveLength(1);
    expect(child.killed).toBe(false);
    await f.timers.advance(60_000);
    expect(f.kids.children).toHaveLength(1);
    expect(f.released).toHaveLength(0);
    expect(f.events.filter((e) => e.type === 'vrrp.process')).toEqual([]);
  });

  it('a child that hangs on stop is killed after the timeout and its VIPs are released here', async () => {
    const f = await fixture({ stopTimeoutMs: 5_000 });
    await f.sup.start();
    const child = f.kids.last();
    child.autoAnswer = false;
    let done = false;
    const stopping = f.sup.stop().then(() => (done = true));
    await f.timers.advance(4_900);
    expect(done).toBe(false);
    expect(child.killed).toBe(false);
    await f.timers.advance(200);
    await stopping;
    expect(child.killed).toBe(true);
    expect(f.released).toHaveLength(1);
    expect(f.logged('the VRRP process did not stop in time; killing it and releasing its VIPs here')[0]).toMatchObject({ timeoutMs: 5_000 });
    await f.timers.advance(60_000);
    expect(f.kids.children).toHaveLength(1); // a stop is final
  });

  it('a child that answers stop but does not exit is killed after 2 s', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    child.autoAnswer = false;
    const stopping = f.sup.stop();
    await flush();
    const stop = child.of('stop')[0];
    child.push({ t: 'reply', id: stop?.id ?? -1, ok: true });
    await f.timers.advance(2_100);
    await stopping;
    expect(child.killed).toBe(true);
    expect(f.released).toHaveLength(0);
  });

  it('drops updates to a child that stopped reading once 1000 are in flight, and says so once', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    child.reading = false;
    for (let i = 0; i < 1_500; i++) f.sup.setCheckState(`vs${i}`, undefined, false);
    expect(f.logged('the VRRP process is not reading its messages; dropping updates to it')).toHaveLength(1);
    child.autoAnswer = false;
    const stopping = f.sup.stop();
    await f.timers.advance(10_000);
    await stopping;
    expect(child.killed).toBe(true);
  });

  it('a reload during a restart is kept for the restarted child', async () => {
    const f = await fixture();
    await f.sup.start();
    f.kids.last().die(null, 'SIGKILL');
    await flush();
    const next = vrrpConfig(['vi1', 'vi2']);
    await expect(f.sup.reload(next)).resolves.toEqual({ kept: [], started: [], stopped: [] });
    await f.timers.advance(0);
    expect(f.kids.children).toHaveLength(2);
    expect(f.kids.last().of('start')[0]?.config).toBe(next);
    await f.sup.stop();
  });

  it('runs no process without VRRP instances, and starts one when a reload adds them', async () => {
    const f = await fixture({ config: vrrpConfig([]) });
    await f.sup.start();
    expect(f.kids.children).toHaveLength(0);
    await expect(f.sup.reload(vrrpConfig(['vi1']))).resolves.toEqual({ kept: [], started: ['vi1'], stopped: [] });
    expect(f.kids.children).toHaveLength(1);
    await f.sup.stop();
  });

  it('a failed start is reported to the caller; the child keeps running what did start', async () => {
    const f = await fixture();
    f.kids.autoAnswer = false;
    const starting = f.sup.start();
    const child = f.kids.last();
    await flush();
    const start = child.of('start')[0];
    child.push({ t: 'reply', id: start?.id ?? -1, ok: false, error: 'VRRP: 1 instance(s) failed to start' });
    await expect(starting).rejects.toThrow('1 instance(s) failed to start');
    f.sup.setCheckState('web', undefined, true);
    expect(child.of('check-state')).toHaveLength(1);
    child.autoAnswer = true;
    await f.sup.stop();
  });

  it('a reload the child refuses rejects with its reason', async () => {
    const f = await fixture();
    await f.sup.start();
    const child = f.kids.last();
    child.autoAnswer = false;
    const reloading = f.sup.reload(vrrpConfig(['vi1', 'bad']));
    await flush();
    const r = child.of('reload')[0];
    child.push({ t: 'reply', id: r?.id ?? -1, ok: false, error: 'vrrp instance bad: cannot open the raw transport' });
    await expect(reloading).rejects.toThrow('cannot open the raw transport');
    child.autoAnswer = true;
    await f.sup.stop();
  });

  it('the child follows the parent logger level', async () => {
    const f = await fixture();
    await f.sup.start();
    f.logger.level = 'warn';
    expect(f.kids.last().of('log-level')).toEqual([{ t: 'log-level', level: 'warn' }]);
    await f.sup.stop();
    // A restarted child would start with the new level.
  });
});
