import type { Clock, TimerHandle } from '../../../src/alerts/clock.js';
import type { AlertMessage, DeliveryOutcome, Sink, SinkSettings } from '../../../src/alerts/types.js';

/** A manual clock: timers fire only inside advance(), in time order, with microtasks flushed after each. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  constructor(start = Date.UTC(2026, 10, 21, 12, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => t.live).length;
  }

  /** Move time forward by `ms`, running due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => t.live);
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.t = next.at;
      next.live = false;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Let pending promise chains run (a few macrotask turns cover chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export type Behaviour = DeliveryOutcome | 'hang' | Error;

/** A sink that records what it was asked to deliver and answers from a script of behaviours (last one repeats). */
export class FakeSink implements Sink {
  readonly type = 'webhook' as const;
  readonly calls: { message: AlertMessage; at: number }[] = [];
  aborted = 0;

  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
    private behaviours: Behaviour[] = [{ ok: true }],
    readonly acceptsGroups = true,
  ) {}

  script(b: Behaviour[]): void {
    this.behaviours = b;
  }

  describe(): string {
    return `fake ${this.name}`;
  }

  deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
    this.calls.push({ message, at: this.clock.now() });
    const b = this.behaviours.length > 1 ? this.behaviours.shift() : this.behaviours[0];
    if (b === undefined) return Promise.resolve({ ok: true });
    if (b instanceof Error) return Promise.reject(b);
    if (b === 'hang') {
      return new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          this.aborted++;
          resolve({ ok: false, retryable: true, error: 'aborted' });
        });
      });
    }
    return Promise.resolve(b);
  }
}

export function settings(name: string, over: Partial<SinkSettings> = {}): SinkSettings {
  return {
    name,
    type: 'webhook',
    url: 'http://127.0.0.1:1/',
    timeoutMs: 1_000,
    queueSize: 10,
    retries: 3,
    groupWindowMs: 0,
    dedupWindowMs: 0,
    repeatMs: 0,
    ...over,
  };
}
