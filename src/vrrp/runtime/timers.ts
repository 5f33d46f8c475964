// The clock and timers a running instance uses, injectable so unit tests drive time by hand. `now()` is a
// monotonic millisecond clock (performance.now), never wall time: a clock step must not fire or stall VRRP timers.
import { performance } from 'node:perf_hooks';
import type { ClockTimers } from '../../util/timers.js';

export type RuntimeTimers = ClockTimers;

export const realRuntimeTimers: RuntimeTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A promise that gives up after `ms` on the runtime's timers, e.g. a hung netlink request. */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string, timers: RuntimeTimers): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const h = timers.setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        timers.clearTimeout(h);
        resolve(v);
      },
      (err: unknown) => {
        timers.clearTimeout(h);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** How late timers fired compared with their deadline: event-loop stalls show up here before they cost a failover. */
export interface LatenessStats {
  count: number;
  lastMs: number;
  maxMs: number;
  meanMs: number;
}

export class LatenessMeter {
  private count = 0;
  private sum = 0;
  private last = 0;
  private max = 0;

  record(latenessMs: number): void {
    const v = Math.max(0, latenessMs);
    this.count++;
    this.sum += v;
    this.last = v;
    if (v > this.max) this.max = v;
  }

  stats(): LatenessStats {
    return { count: this.count, lastMs: this.last, maxMs: this.max, meanMs: this.count === 0 ? 0 : this.sum / this.count };
  }
}
