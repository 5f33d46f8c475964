/** A deterministic TimerApi for tests: time moves only through advance(), timers fire in time order. */
import type { TimerApi } from '../../../src/health/scheduler.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeTimers implements TimerApi {
  private t = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.pending.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Fire only the earliest timer (synchronously, like one callback in a timers phase). */
  fireNext(): boolean {
    let next: Pending | undefined;
    for (const p of this.pending) if (!next || p.at < next.at || (p.at === next.at && p.id < next.id)) next = p;
    if (!next) return false;
    this.pending = this.pending.filter((p) => p !== next);
    this.t = Math.max(this.t, next.at);
    next.fn();
    return true;
  }

  /** Fire every timer due within `ms`, in order, letting promise callbacks run between timers. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      await flush();
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await flush();
  }
}

/** Let pending promise continuations run (a macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export { seeded } from '../../harness/seeded-random.js';
