/**
 * Runs thousands of periodic checks: each on its own interval with symmetric jitter, first starts spread over
 * one interval (so a restart does not fire every check in the same millisecond), never overlapping with itself,
 * at most `maxConcurrent` in flight (the rest wait in a FIFO holding each check at most once). A run is planned
 * one jittered interval after the previous one was due (not after it started or ended), so timer lateness and
 * waits in the queue do not accumulate: on average a check runs once per interval whenever the CPU allows it.
 * Timers are injectable; `stop()` clears every timer, aborts every run, waits for them and closes every check.
 * A run allocates no AbortController and no closures of its own: at thousands of checks a second the
 * scheduler's per-run garbage showed in the daemon's CPU profile (see `Entry.ctl`).
 */
import { errorMessage } from '../util/errors.js';
import type { ProbeResult } from './types.js';

/** Opaque timer handle of a TimerApi. */
export type TimerHandle = unknown;

export interface TimerApi {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: TimerApi = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ScheduledCheck {
  id: string;
  intervalMs: number;
  jitterPercent: number;
  /**
   * One check (retries included). Should resolve, and soon after `signal` aborts. The signal is the same for
   * every run of this check (it aborts only when the check is removed or the scheduler stops), so a run must
   * remove any listener it adds to it once it ends.
   */
  run(signal: AbortSignal): Promise<ProbeResult>;
  onResult?(result: ProbeResult, at: number): void;
  /** Release sockets/agents; called on remove() and stop(). */
  close?(): Promise<void>;
}

export interface SchedulerOptions {
  timers?: TimerApi;
  maxConcurrent?: number;
  /** Uniform [0, 1); injectable for reproducible spreading in tests. */
  random?: () => number;
  /** A callback (onResult, close) threw: reported here instead of crashing the loop. */
  onError?: (checkId: string, where: string, err: unknown) => void;
  /** Longest stop() waits for in-flight runs to settle after aborting them. */
  stopGraceMs?: number;
  /**
   * Most runs started in one go before yielding to I/O: starting a probe is synchronous work (sockets, TLS
   * setup), and when the loop falls behind, thousands of due timers would otherwise start in one long block.
   */
  maxLaunchesPerTurn?: number;
}

interface Entry {
  check: ScheduledCheck;
  /**
   * When the current (or next) run was planned to start. Periods are counted from this plan, not from the
   * moment a run actually started, so a late timer or a wait in the queue does not lengthen every later period.
   */
  due: number;
  timer?: TimerHandle;
  queued: boolean;
  /**
   * Aborted when the entry is retired (remove/stop), the only thing that cancels a run: one controller for
   * every run of the check, not one per run (an AbortController and a first listener on its fresh signal
   * cost several microseconds each, a measurable share of an HTTP check).
   */
  readonly ctl: AbortController;
  /** The run in flight, settling once its result is handled; undefined between runs. */
  running: Promise<void> | undefined;
  /** When the run in flight started. */
  startedAt: number;
  /** The run's outcome handlers, bound once per check so a run creates no closures. */
  readonly onRan: (result: ProbeResult) => void;
  readonly onThrew: (err: unknown) => void;
  removed: boolean;
}

export interface SchedulerStats {
  checks: number;
  running: number;
  queued: number;
}

export class CheckScheduler {
  private readonly timers: TimerApi;
  private readonly maxConcurrent: number;
  private readonly random: () => number;
  private readonly onError: NonNullable<SchedulerOptions['onError']>;
  private readonly stopGraceMs: number;
  private readonly entries = new Map<string, Entry>();
  private queue: Entry[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private launchesThisTurn = 0;
  private turnTimer: TimerHandle | undefined;
  private readonly maxLaunchesPerTurn: number;
  private started = false;
  private stopped = false;

  constructor(opts: SchedulerOptions = {}) {
    this.timers = opts.timers ?? realTimers;
    this.maxConcurrent = Math.max(1, Math.floor(opts.maxConcurrent ?? 256));
    this.random = opts.random ?? Math.random;
    this.onError = opts.onError ?? (() => undefined);
    this.stopGraceMs = opts.stopGraceMs ?? 5000;
    this.maxLaunchesPerTurn = Math.max(1, Math.floor(opts.maxLaunchesPerTurn ?? 64));
  }

  add(check: ScheduledCheck): void {
    if (this.stopped) throw new Error(`scheduler: add(${check.id}) after stop()`);
    if (this.entries.has(check.id)) throw new Error(`scheduler: check id ${check.id} already added`);
    if (!(check.intervalMs > 0)) throw new Error(`scheduler: check ${check.id}: intervalMs ${check.intervalMs} must be > 0`);
    const entry: Entry = {
      check,
      due: 0,
      queued: false,
      ctl: new AbortController(),
      running: undefined,
      startedAt: 0,
      onRan: (result) => this.ran(entry, result),
      onThrew: (err) => this.ran(entry, { ok: false, latencyMs: 0, reason: `check threw: ${errorMessage(err)}` }),
      removed: false,
    };
    this.entries.set(check.id, entry);
    if (this.started) this.scheduleFirst(entry);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const entry of this.entries.values()) this.scheduleFirst(entry);
  }

  async remove(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    await this.retire(entry);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.turnTimer !== undefined) this.timers.clearTimeout(this.turnTimer);
    this.turnTimer = undefined;
    this.queue = [];
    this.queueHead = 0;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => this.retire(e)));
  }

  stats(): SchedulerStats {
    return { checks: this.entries.size, running: this.inFlight, queued: this.queue.length - this.queueHead };
  }

  /** Stop one entry for good: no timer, not queued, run aborted and awaited (bounded), check closed. */
  private async retire(entry: Entry): Promise<void> {
    entry.removed = true;
    if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.queued = false; // a queued entry is skipped when dequeued
    entry.ctl.abort(new Error('check stopped'));
    if (entry.running) await this.bounded(entry.running);
    try {
      await entry.check.close?.();
    } catch (err) {
      this.onError(entry.check.id, 'close', err);
    }
  }

  private async bounded(p: Promise<void>): Promise<void> {
    let handle: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => {
      handle = this.timers.setTimeout(resolve, this.stopGraceMs);
    });
    await Promise.race([p, grace]);
    this.timers.clearTimeout(handle);
  }

  /** Spread first runs uniformly over one interval. */
  private scheduleFirst(entry: Entry): void {
    entry.due = this.timers.now() + Math.floor(this.random() * entry.check.intervalMs);
    this.schedule(entry);
  }

  /** The interval stretched or shrunk by up to jitterPercent, uniformly: on average exactly the interval. */
  private jittered(check: ScheduledCheck): number {
    const j = Math.min(Math.max(check.jitterPercent, 0), 100) / 100;
    return Math.max(1, Math.round(check.intervalMs * (1 + (this.random() * 2 - 1) * j)));
  }

  /**
   * Plan the run after the one that was due at `entry.due` and started at `startedAt` (called once it has
   * finished): one jittered interval after it was due, so a late timer or a wait in the queue does not lengthen
   * the period and the mean period is the interval. If it started a whole period late, the plan slips to one
   * period after its start instead (missed runs are not made up); if it ended past the next start (it took
   * longer than the interval), the next run starts at once. Never more than one period ahead: the clock may
   * be the wall clock, and one stepped back must not hold every check until it catches up with the old plan.
   */
  private scheduleNext(entry: Entry, startedAt: number): void {
    const period = this.jittered(entry.check);
    const now = this.timers.now();
    let next = entry.due + period;
    if (next <= startedAt) next = startedAt + period;
    entry.due = Math.min(Math.max(next, now), now + period);
    this.schedule(entry);
  }

  private schedule(entry: Entry): void {
    if (entry.removed || this.stopped) return;
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = undefined;
      this.due(entry);
    }, Math.max(0, entry.due - this.timers.now()));
  }

  private due(entry: Entry): void {
    if (entry.removed || this.stopped || entry.running || entry.queued) return;
    if (this.inFlight < this.maxConcurrent && this.canLaunchThisTurn()) return this.launch(entry);
    entry.queued = true;
    this.queue.push(entry);
  }

  /** Counts launches in this turn of the event loop; past the limit, the rest wait for the next turn. */
  private canLaunchThisTurn(): boolean {
    if (this.turnTimer === undefined) {
      this.turnTimer = this.timers.setTimeout(() => {
        this.turnTimer = undefined;
        this.launchesThisTurn = 0;
        this.pump();
      }, 0);
    }
    return this.launchesThisTurn < this.maxLaunchesPerTurn;
  }

  private pump(): void {
    while (this.inFlight < this.maxConcurrent && this.queueHead < this.queue.length && !this.stopped && this.canLaunchThisTurn()) {
      const entry = this.queue[this.queueHead++];
      if (!entry || !entry.queued || entry.removed) continue;
      entry.queued = false;
      this.launch(entry);
    }
    // Compact now and then so the array does not grow without bound.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private launch(entry: Entry): void {
    entry.startedAt = this.timers.now();
    this.inFlight++;
    this.launchesThisTurn++;
    let run: Promise<ProbeResult>;
    try {
      run = entry.check.run(entry.ctl.signal);
    } catch (err) {
      run = Promise.reject(err);
    }
    entry.running = run.then(entry.onRan, entry.onThrew);
  }

  /** A run ended: report it, plan the next one, launch what waits. Never throws (its promise is awaited by retire()). */
  private ran(entry: Entry, result: ProbeResult): void {
    const check = entry.check;
    try {
      if (!entry.removed) {
        try {
          check.onResult?.(result, this.timers.now());
        } catch (err) {
          this.onError(check.id, 'onResult', err);
        }
      }
    } finally {
      // Even if onError threw above: the run is over, and the check must be planned again.
      try {
        this.inFlight--;
        entry.running = undefined;
        if (!entry.removed && !this.stopped) this.scheduleNext(entry, entry.startedAt);
        this.pump();
      } catch (err) {
        this.onError(check.id, 'scheduler', err);
      }
    }
  }
}
