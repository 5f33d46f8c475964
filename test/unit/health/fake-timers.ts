/** A deterministic TimerApi for tests: time moves only through advance(), timers fire in time order. */
import type { TimerApi } from '../../../src/health/scheduler.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Earlier deadline first; among equal deadlines, the timer set first. */
const before = (a: Pending, b: Pending): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * Pending timers live in a binary min-heap (cleared ones are dropped lazily when they reach the top), so
 * setting, clearing and firing cost O(log n): thousands of checks must not make a test CPU-bound (a linear
 * scan per timer made the 5000-check scheduler test take seconds and time out on a loaded machine).
 */
export class FakeTimers implements TimerApi {
  private t = 0;
  private seq = 0;
  private readonly heap: Pending[] = [];
  private readonly live = new Set<number>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.push({ id, at: this.t + Math.max(0, ms), fn });
    this.live.add(id);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle as number);
  }

  get size(): number {
    return this.live.size;
  }

  /** Fire only the earliest timer (synchronously, like one callback in a timers phase). */
  fireNext(): boolean {
    const next = this.take(Infinity);
    if (!next) return false;
    this.t = Math.max(this.t, next.at);
    next.fn();
    return true;
  }

  /** Fire every timer due within `ms`, in order, letting promise callbacks run between timers. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      await flush();
      const next = this.take(end);
      if (!next) break;
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await flush();
  }

  /** Remove and return the earliest live timer due by `end`, if any. */
  private take(end: number): Pending | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      if (!this.live.has(top.id)) {
        this.pop();
        continue;
      }
      if (top.at > end) return undefined;
      this.pop();
      this.live.delete(top.id);
      return top;
    }
  }

  private push(p: Pending): void {
    const h = this.heap;
    let i = h.push(p) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(p, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = p;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && before(h[l + 1]!, h[l]!) ? l + 1 : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

/** Let pending promise continuations run (a macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export { seeded } from '../../harness/seeded-random.js';
