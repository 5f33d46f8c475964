import { describe, expect, it } from 'vitest';
import { CheckScheduler, type ScheduledCheck } from '../../../src/health/scheduler.js';
import type { ProbeResult } from '../../../src/health/types.js';
import { FakeTimers, seeded } from './fake-timers.js';

interface Log {
  starts: Map<string, number[]>;
  maxConcurrent: number;
  current: number;
  perId: Map<string, number>;
  overlap: boolean;
  aborted: number;
  closed: number;
  results: number;
}

/** A check whose run takes `durationMs` on the fake clock (or ends early on abort). */
function fakeCheck(timers: FakeTimers, log: Log, id: string, intervalMs: number, durationMs: number, jitterPercent = 0): ScheduledCheck {
  return {
    id,
    intervalMs,
    jitterPercent,
    run: (signal) =>
      new Promise<ProbeResult>((resolve) => {
        log.starts.set(id, [...(log.starts.get(id) ?? []), timers.now()]);
        log.current++;
        log.maxConcurrent = Math.max(log.maxConcurrent, log.current);
        const mine = (log.perId.get(id) ?? 0) + 1;
        log.perId.set(id, mine);
        if (mine > 1) log.overlap = true;
        const end = (ok: boolean): void => {
          log.current--;
          log.perId.set(id, (log.perId.get(id) ?? 1) - 1);
          timers.clearTimeout(h);
          signal.removeEventListener('abort', onAbort); // the signal outlives this run (one per check)
          resolve({ ok, latencyMs: durationMs, reason: ok ? 'ok' : 'aborted' });
        };
        const onAbort = (): void => {
          log.aborted++;
          end(false);
        };
        const h = timers.setTimeout(() => end(true), durationMs);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    onResult: () => {
      log.results++;
    },
    close: async () => {
      log.closed++;
    },
  };
}

/** Timers that fire `lateMs` after they were due, like a busy event loop (the turn timer of 0 ms too). */
class LateTimers extends FakeTimers {
  constructor(private readonly lateMs: number) {
    super();
  }

  override setTimeout(fn: () => void, ms: number): number {
    return super.setTimeout(fn, ms + this.lateMs);
  }
}

/** FakeTimers whose now() (the wall clock) is off by `step` ms; the timers themselves keep real time. */
class SteppedClock extends FakeTimers {
  step = 0;

  override now(): number {
    return super.now() + this.step;
  }
}

function newLog(): Log {
  return { starts: new Map(), maxConcurrent: 0, current: 0, perId: new Map(), overlap: false, aborted: 0, closed: 0, results: 0 };
}

describe('check scheduler', () => {
  it('spreads the first runs of thousands of checks over one interval', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(1), maxConcurrent: 10_000 });
    for (let i = 0; i < 5000; i++) s.add(fakeCheck(timers, log, `c${i}`, 10_000, 5));
    s.start();
    await timers.advance(9_999);
    const firsts = [...log.starts.values()].map((v) => v[0] ?? -1);
    expect(firsts.length).toBe(5000);
    const perSecond = new Array(10).fill(0) as number[];
    const perMs = new Map<number, number>();
    for (const t of firsts) {
      perSecond[Math.floor(t / 1000)]! += 1;
      perMs.set(t, (perMs.get(t) ?? 0) + 1);
    }
    for (const n of perSecond) expect(n).toBeGreaterThan(400); // uniform: 500 per second
    for (const n of perSecond) expect(n).toBeLessThan(600);
    expect(Math.max(...perMs.values())).toBeLessThanOrEqual(6); // not a burst in one millisecond
    await s.stop();
  });

  it('keeps the interval from start to start, with jitter inside its percent', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(2) });
    s.add(fakeCheck(timers, log, 'exact', 1000, 100));
    s.add(fakeCheck(timers, log, 'jitter', 1000, 100, 10));
    s.start();
    await timers.advance(30_000);
    const gaps = (id: string): number[] => {
      const st = log.starts.get(id) ?? [];
      return st.slice(1).map((t, i) => t - (st[i] ?? 0));
    };
    expect(new Set(gaps('exact'))).toEqual(new Set([1000]));
    const j = gaps('jitter');
    expect(j.length).toBeGreaterThan(25);
    for (const g of j) {
      expect(g).toBeGreaterThanOrEqual(900);
      expect(g).toBeLessThanOrEqual(1100);
    }
    expect(new Set(j).size).toBeGreaterThan(5);
    await s.stop();
  });

  it('counts the period from when a run was due: late timers do not stretch it', async () => {
    // Every timer fires 40 ms late, as on a busy event loop. Counting from the actual start would make the
    // period 1040 ms (57.7 runs a minute); counted from the plan it stays 1000 ms.
    const timers = new LateTimers(40);
    const log = newLog();
    const s = new CheckScheduler({ timers, random: () => 0 });
    s.add(fakeCheck(timers, log, 'c', 1000, 10));
    s.start();
    await timers.advance(60_000);
    const st = log.starts.get('c') ?? [];
    expect(st[0]).toBe(40);
    expect(st.length).toBe(60);
    for (let i = 1; i < st.length; i++) expect((st[i] ?? 0) - (st[i - 1] ?? 0)).toBe(1000);
    await s.stop();
  });

  it('counts the period from when a run was due: a wait in the queue does not stretch it', async () => {
    // One slot shared by two checks busy 40 % of the time each, with jitter: they collide now and then and one
    // waits for the other. Counted from the actual start, every wait would lengthen that period for good
    // (about 4 % fewer runs); counted from the plan, each still runs once per interval on average.
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(8), maxConcurrent: 1 });
    s.add(fakeCheck(timers, log, 'a', 1000, 400, 20));
    s.add(fakeCheck(timers, log, 'b', 1000, 400, 20));
    s.start();
    await timers.advance(400_000);
    for (const id of ['a', 'b']) expect(Math.abs((log.starts.get(id)?.length ?? 0) - 400)).toBeLessThanOrEqual(4);
    expect(log.overlap).toBe(false);
    await s.stop();
  });

  it('jitters periods symmetrically: the mean period is the interval', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(7) });
    for (let i = 0; i < 20; i++) s.add(fakeCheck(timers, log, `c${i}`, 1000, 50, 20));
    s.start();
    await timers.advance(500_000);
    const gaps: number[] = [];
    for (const st of log.starts.values()) for (let i = 1; i < st.length; i++) gaps.push((st[i] ?? 0) - (st[i - 1] ?? 0));
    expect(gaps.length).toBeGreaterThan(9000);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1200);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(3); // 1/sqrt(12) x 400 ms / sqrt(9980) = 1.2 ms standard error
    // each check ran once per interval on average: 500 s -> 500 runs (+/- the spread of a random walk)
    for (const st of log.starts.values()) expect(Math.abs(st.length - 500)).toBeLessThanOrEqual(5);
    await s.stop();
  });

  it('after falling behind by more than an interval, runs once at once and does not make up missed runs', async () => {
    // One slot and a hog that holds it 3.5 s: 'late' was due at 0, starts at 3500, then keeps its 1 s period from there.
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: () => 0, maxConcurrent: 1 });
    s.add(fakeCheck(timers, log, 'hog', 100_000, 3500));
    s.add(fakeCheck(timers, log, 'late', 1000, 10));
    s.start();
    await timers.advance(6_000);
    expect(log.starts.get('late')).toEqual([3500, 4500, 5500]);
    await s.stop();
  });

  it('keeps running once per interval when the wall clock steps back or forward', async () => {
    const timers = new SteppedClock();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: () => 0 });
    s.add(fakeCheck(timers, log, 'c', 1000, 10));
    s.start();
    await timers.advance(3_500);
    timers.step = -3_600_000; // an hour back: the plan made on the old clock must not hold the check for an hour
    await timers.advance(3_000);
    timers.step = 0; // and forward again: one run at once, then the period again
    await timers.advance(3_000);
    // runs at 0, 1000, ... 9000 of the timers' own time (the starts logged on the stepped clock are not comparable)
    expect(log.starts.get('c')?.length).toBe(10);
    await s.stop();
  });

  it('never overlaps a check with itself when it runs longer than its interval', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(3) });
    s.add(fakeCheck(timers, log, 'slow', 1000, 2500));
    s.start();
    await timers.advance(20_000);
    expect(log.overlap).toBe(false);
    const st = log.starts.get('slow') ?? [];
    expect(st.length).toBeGreaterThanOrEqual(7);
    for (let i = 1; i < st.length; i++) expect((st[i] ?? 0) - (st[i - 1] ?? 0)).toBe(2500);
    await s.stop();
  });

  it('bounds concurrency and still runs every check (FIFO)', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(4), maxConcurrent: 8 });
    for (let i = 0; i < 200; i++) s.add(fakeCheck(timers, log, `c${i}`, 1000, 400));
    s.start();
    await timers.advance(500);
    expect(s.stats().running).toBe(8);
    expect(s.stats().queued).toBeGreaterThan(0);
    await timers.advance(30_000);
    expect(log.maxConcurrent).toBe(8);
    expect(log.overlap).toBe(false);
    const runs = [...log.starts.values()].map((v) => v.length);
    expect(runs.length).toBe(200);
    // 8 slots x 400 ms -> 20 checks/s for 200 checks: every check ran about 3 times in 30.5 s, none starved
    expect(Math.min(...runs)).toBeGreaterThanOrEqual(2);
    expect(s.stats().queued).toBeLessThanOrEqual(200);
    await s.stop();
  });

  it('starts at most maxLaunchesPerTurn runs before yielding when many are due at once', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: () => 0, maxConcurrent: 1000, maxLaunchesPerTurn: 50 });
    for (let i = 0; i < 500; i++) s.add(fakeCheck(timers, log, `c${i}`, 1000, 100));
    s.start();
    for (let i = 0; i < 500; i++) timers.fireNext(); // the 500 due timers of one timers phase
    expect(s.stats()).toMatchObject({ running: 50, queued: 450 });
    await timers.advance(0); // the following turns start the rest, 50 at a time
    expect(s.stats()).toMatchObject({ running: 500, queued: 0 });
    await s.stop();
    expect(timers.size).toBe(0);
  });

  it('stop() aborts in-flight runs, closes every check, and leaves no timers', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const s = new CheckScheduler({ timers, random: seeded(5), maxConcurrent: 3 });
    for (let i = 0; i < 10; i++) s.add(fakeCheck(timers, log, `c${i}`, 1000, 5000));
    s.start();
    await timers.advance(1500);
    expect(s.stats().running).toBe(3);
    await s.stop();
    expect(log.aborted).toBe(3);
    expect(log.closed).toBe(10);
    expect(timers.size).toBe(0);
    expect(s.stats()).toEqual({ checks: 0, running: 0, queued: 0 });
    const before = log.results;
    await timers.advance(10_000);
    expect(log.results).toBe(before);
    expect(() => s.add(fakeCheck(timers, log, 'late', 1000, 1))).toThrow(/after stop/);
  });

  it('remove() stops one check; a throwing run or onResult does not stop the others', async () => {
    const timers = new FakeTimers();
    const log = newLog();
    const errors: string[] = [];
    const s = new CheckScheduler({ timers, random: seeded(6), onError: (id, where) => errors.push(`${id}:${where}`) });
    s.add(fakeCheck(timers, log, 'keep', 1000, 10));
    s.add(fakeCheck(timers, log, 'gone', 1000, 10));
    const results: ProbeResult[] = [];
    s.add({ id: 'throws', intervalMs: 1000, jitterPercent: 0, run: async () => { throw new Error('kaput'); }, onResult: (r) => { results.push(r); throw new Error('listener bug'); } });
    s.start();
    await timers.advance(2000);
    await s.remove('gone');
    const goneRuns = log.starts.get('gone')?.length ?? 0;
    await timers.advance(5000);
    expect(log.starts.get('gone')?.length).toBe(goneRuns);
    expect(log.starts.get('keep')?.length).toBeGreaterThanOrEqual(6);
    expect(results[0]).toMatchObject({ ok: false, reason: 'check threw: kaput' });
    expect(errors).toContain('throws:onResult');
    expect(() => s.add(fakeCheck(timers, log, 'keep', 1000, 1))).toThrow(/already added/);
    await s.stop();
    expect(timers.size).toBe(0);
  });

  it('passes a check the same signal on every run, aborted only when the check is removed; a run that throws synchronously is a failed run', async () => {
    const timers = new FakeTimers();
    const seen = new Map<string, AbortSignal[]>();
    const errors: string[] = [];
    const results: ProbeResult[] = [];
    const s = new CheckScheduler({ timers, random: () => 0, onError: (id, where) => errors.push(`${id}:${where}`) });
    for (const id of ['a', 'b']) {
      s.add({
        id,
        intervalMs: 1000,
        jitterPercent: 0,
        run: async (signal) => {
          seen.set(id, [...(seen.get(id) ?? []), signal]);
          return { ok: true, latencyMs: 0, reason: 'ok' };
        },
      });
    }
    s.add({ id: 'sync', intervalMs: 1000, jitterPercent: 0, run: () => { throw new Error('not async'); }, onResult: (r) => void results.push(r) });
    s.start();
    await timers.advance(3500);
    const a = seen.get('a') ?? [];
    expect(a.length).toBeGreaterThanOrEqual(3);
    expect(new Set(a).size).toBe(1);
    expect(a[0]).not.toBe(seen.get('b')?.[0]);
    expect(a[0]?.aborted).toBe(false);
    await s.remove('a');
    expect(a[0]?.aborted).toBe(true);
    expect(seen.get('b')?.[0]?.aborted).toBe(false);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect(results[0]).toMatchObject({ ok: false, reason: 'check threw: not async' });
    expect(errors).toEqual([]);
    await s.stop();
    expect(seen.get('b')?.[0]?.aborted).toBe(true);
  });
});
