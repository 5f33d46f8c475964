import { describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import type { CronDriver } from '../../../src/schedules/cron-driver.js';
import { nodeCronDriver } from '../../../src/schedules/cron-driver.js';
import { buildDigest, digestSender, type PoolSnapshot } from '../../../src/schedules/digest.js';
import { ScheduleError, Scheduler, validateSchedules, type ScheduleCallbacks, type ScheduleSpec } from '../../../src/schedules/scheduler.js';
import { FakeClock, FakeSink, settings, settle } from './fakes.js';

/** Cron driver whose jobs fire only when the test says so; validation is node-cron's real one. */
class ManualCron implements CronDriver {
  readonly ticks = new Map<string, () => void>();
  stopped: string[] = [];
  validate = nodeCronDriver.validate;
  start(name: string, _expr: string, _tz: string | undefined, onTick: () => void) {
    this.ticks.set(name, onTick);
    return { stop: () => void this.stopped.push(name), nextRun: () => null };
  }
  tick(name: string): void {
    const t = this.ticks.get(name);
    if (!t) throw new Error(`no job ${name}`);
    t();
  }
}

function recorder() {
  const calls: string[] = [];
  const callbacks: ScheduleCallbacks = {
    digest: (sinks, s) => calls.push(`digest ${s} ${sinks?.join(',') ?? 'all'}`),
    setMaintenance: (targets, s, until) => calls.push(`set ${s} ${targets.map((t) => t.realServer).join(',')} until ${until}`),
    clearMaintenance: (targets, s) => calls.push(`clear ${s} ${targets.map((t) => t.realServer).join(',')}`),
    reload: (s) => calls.push(`reload ${s}`),
  };
  return { calls, callbacks };
}

const target = { virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80' };
const maint: ScheduleSpec = { name: 'patch-tuesday', cron: '0 2 * * 2', timezone: 'Europe/Berlin', action: 'maintenance', targets: [target], durationMs: 3_600_000 };

describe('schedule validation', () => {
  it('names the schedule and field of every problem', () => {
    const problems = validateSchedules([
      { name: 'a', cron: '61 * * * *', action: 'reload' },
      { name: 'b', cron: '* * *', action: 'reload' },
      { name: 'c', cron: '0 3 * * *', timezone: 'Mars/Olympus', action: 'reload' },
      { name: 'd', cron: '0 3 * * *', action: 'maintenance' },
      { name: 'e', cron: '0 8 * * 1', action: 'digest', sinks: ['slack', 'nope'] },
      { name: 'a', cron: '0 3 * * *', action: 'reload' },
    ], nodeCronDriver, ['slack']);
    expect(problems).toEqual([
      'schedules[a].cron "61 * * * *": minute: 61 is a invalid expression for minute',
      'schedules[b].cron "* * *": expected 5 or 6 fields, got 3',
      'schedules[c].timezone: unknown time zone "Mars/Olympus"',
      'schedules[d].targets: maintenance needs at least one target',
      'schedules[d].duration: maintenance needs a positive duration',
      'schedules[e].sinks: no alert sink named nope',
      'schedules[a]: duplicate schedule name',
    ]);
  });

  it('refuses to construct with an invalid schedule and starts nothing', () => {
    const driver = new ManualCron();
    expect(() => new Scheduler({ schedules: [{ name: 'bad', cron: 'nope nope', action: 'reload' }], callbacks: recorder().callbacks, driver }))
      .toThrow(ScheduleError);
    expect(() => new Scheduler({ schedules: [{ name: 'bad', cron: 'nope nope', action: 'reload' }], callbacks: recorder().callbacks, driver }))
      .toThrow('schedules[bad].cron');
    expect(driver.ticks.size).toBe(0);
  });
});

describe('Scheduler actions (fake clock, manual cron)', () => {
  it('opens a maintenance window for its duration and closes it by itself', async () => {
    const clock = new FakeClock();
    const driver = new ManualCron();
    const { calls, callbacks } = recorder();
    const s = new Scheduler({ schedules: [maint], callbacks, clock, driver });
    s.start();
    const t0 = clock.now();
    driver.tick('patch-tuesday');
    await settle();
    expect(calls).toEqual([`set patch-tuesday 198.51.100.11:80 until ${t0 + 3_600_000}`]);
    expect(s.openWindows()).toEqual({ 'patch-tuesday': t0 + 3_600_000 });
    await clock.advance(3_599_999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls[1]).toBe('clear patch-tuesday 198.51.100.11:80');
    expect(s.openWindows()).toEqual({});
  });

  it('a tick during an open window extends it instead of closing early', async () => {
    const clock = new FakeClock();
    const driver = new ManualCron();
    const { calls, callbacks } = recorder();
    const s = new Scheduler({ schedules: [maint], callbacks, clock, driver });
    s.start();
    driver.tick('patch-tuesday');
    await clock.advance(3_000_000);
    driver.tick('patch-tuesday');
    await clock.advance(1_000_000); // past the first window's end
    expect(calls.filter((c) => c.startsWith('clear'))).toHaveLength(0);
    await clock.advance(2_600_000);
    expect(calls.filter((c) => c.startsWith('clear'))).toHaveLength(1);
  });

  it('stop ends open windows and stops jobs', async () => {
    const clock = new FakeClock();
    const driver = new ManualCron();
    const { calls, callbacks } = recorder();
    const s = new Scheduler({ schedules: [maint, { name: 'r', cron: '0 4 * * *', action: 'reload' }], callbacks, clock, driver });
    s.start();
    driver.tick('patch-tuesday');
    await settle();
    await s.stop();
    expect(calls.at(-1)).toBe('clear patch-tuesday 198.51.100.11:80');
    expect(driver.stopped.sort()).toEqual(['patch-tuesday', 'r']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs digest and reload callbacks; a failing action is counted, not thrown; overlap is skipped', async () => {
    const driver = new ManualCron();
    let release: () => void = () => undefined;
    const calls: string[] = [];
    const s = new Scheduler({
      schedules: [
        { name: 'weekly', cron: '0 8 * * 1', timezone: 'UTC', action: 'digest', sinks: ['slack'] },
        { name: 'nightly', cron: '0 4 * * *', action: 'reload' },
      ],
      callbacks: {
        digest: () => Promise.reject(new Error('snapshot failed')),
        reload: (name) => new Promise<void>((r) => { calls.push(`reload ${name}`); release = r; }),
        setMaintenance: () => undefined,
        clearMaintenance: () => undefined,
      },
      driver,
      clock: new FakeClock(),
    });
    s.start();
    driver.tick('weekly');
    driver.tick('nightly');
    driver.tick('nightly'); // still running
    await settle();
    expect(calls).toEqual(['reload nightly']);
    expect(s.counters).toEqual({ runs: 2, failures: 1, skippedOverlap: 1 });
    release();
    await settle();
    driver.tick('nightly');
    await settle();
    expect(calls).toEqual(['reload nightly', 'reload nightly']);
  });
});

describe('digest', () => {
  const snap: PoolSnapshot = {
    host: 'lb1',
    vrrp: [{ instance: 'VI_1', state: 'MASTER', priority: 150 }],
    virtualServers: [
      {
        id: 'tcp 203.0.113.1:80',
        realServers: [
          { id: '198.51.100.11:80', health: 'up', weight: 1 },
          { id: '198.51.100.12:80', health: 'down', weight: 0, since: Date.UTC(2026, 10, 21, 11, 0, 0) },
          { id: '198.51.100.13:80', health: 'maintenance', weight: 0 },
        ],
      },
      { id: 'udp 203.0.113.1:53', realServers: [{ id: '198.51.100.21:53', health: 'up', weight: 1 }], quorumLost: false },
    ],
  };
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);

  it('summarises counts and names what is not up', () => {
    const m = buildDigest(snap, now, 'weekly');
    expect(m.title).toBe('lvskeep digest for lb1: 2/4 real servers up, attention needed');
    expect(m.text.split('\n')).toEqual([
      'tcp 203.0.113.1:80: 1/3 up (198.51.100.12:80 down for 60 min; 198.51.100.13:80 maintenance)',
      'udp 203.0.113.1:53: 1/1 up',
    ]);
    expect(Object.fromEntries(m.fields)).toMatchObject({ VRRP: 'VI_1 MASTER (150)', down: '1', maintenance: '1', 'real servers up': '2/4', schedule: 'weekly' });
  });

  it('goes to the chosen sinks through the dispatcher', async () => {
    const clock = new FakeClock(now);
    const slack = new FakeSink('slack', clock);
    const pd = new FakeSink('pd', clock);
    const d = new AlertDispatcher({ sinks: [{ settings: settings('slack'), sink: slack }, { settings: settings('pd'), sink: pd }], clock });
    const send = digestSender(() => snap, d, () => clock.now());
    const done = send(['slack'], 'weekly');
    await clock.advance(0);
    await expect(done).resolves.toEqual([{ sink: 'slack', outcome: { ok: true } }]);
    expect(slack.calls[0]?.message.kind).toBe('digest');
    expect(pd.calls).toHaveLength(0);
  });
});

describe('node-cron driver', () => {
  it('fires a real every-second job within a bounded wait, in the given time zone', async () => {
    const fired: number[] = [];
    const job = nodeCronDriver.start('tick', '* * * * * *', 'Europe/Berlin', () => fired.push(Date.now()));
    try {
      const deadline = Date.now() + 3_000;
      while (fired.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(fired.length).toBeGreaterThanOrEqual(1);
      expect(job.nextRun()).toBeInstanceOf(Date);
    } finally {
      job.stop();
    }
    const count = fired.length;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(fired.length).toBe(count); // stopped means stopped
  });
});
