/**
 * Alert delivery. `publish` is synchronous and does O(1) work per sink: admission (filter, dedup), then either a
 * group bucket or the sink's bounded queue. Each sink drains its own queue in order, one delivery at a time,
 * with a timeout per attempt and exponential backoff between attempts, so a slow or dead receiver only ever
 * delays its own alerts. Drops (queue full, retries exhausted, rejected) are logged and counted.
 */
import { createEvent, type EventBody, type LvsEvent } from '../events/types.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
import { AdmissionPolicy, groupKey } from './policy.js';
import { DEFAULT_BACKOFF, nextRetryDelay, type BackoffPolicy } from './retry.js';
import type { AlertMessage, DeliveryOutcome, Sink, SinkSettings } from './types.js';

export interface SinkStats {
  /** Events this sink accepted (after filter and dedup). */
  accepted: number;
  filtered: number;
  deduplicated: number;
  /** Messages put on the queue (a group counts once). */
  enqueued: number;
  delivered: number;
  skipped: number;
  retries: number;
  reminders: number;
  droppedQueueFull: number;
  droppedFailed: number;
  queueDepth: number;
  failing: boolean;
}

export interface DeliveryResult {
  sink: string;
  outcome: DeliveryOutcome;
}

export interface DispatcherOptions {
  sinks: { settings: SinkSettings; sink: Sink }[];
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffPolicy;
  logger?: Logger;
  /**
   * Told when a sink starts failing (a message dropped after retries) and when it delivers again; the daemon
   * publishes these on the event bus so the other sinks carry the news.
   */
  onDeliveryHealth?: (body: EventBody) => void;
}

/** A full group is sent at once rather than growing without bound during an event storm. */
const MAX_GROUP = 500;

interface QueueItem {
  message: AlertMessage;
  onDone?: (outcome: DeliveryOutcome) => void;
}

interface Bucket {
  events: LvsEvent[];
  timer: TimerHandle;
}

class SinkLane {
  readonly stats: SinkStats = {
    accepted: 0, filtered: 0, deduplicated: 0, enqueued: 0, delivered: 0, skipped: 0, retries: 0, reminders: 0,
    droppedQueueFull: 0, droppedFailed: 0, queueDepth: 0, failing: false,
  };
  private readonly policy: AdmissionPolicy;
  private readonly queue: QueueItem[] = [];
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  /** Group buckets in creation order (Map iteration order), so flushing keeps event order. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly bucketOfKey = new Map<string, string>();
  private readonly reminders = new Map<string, TimerHandle>();

  constructor(
    readonly settings: SinkSettings,
    readonly sink: Sink,
    private readonly d: DispatcherCore,
  ) {
    this.policy = new AdmissionPolicy(settings);
  }

  offer(e: LvsEvent): void {
    const verdict = this.policy.admit(e, this.d.clock.now());
    if (verdict === 'filtered' || verdict === 'own-health') {
      this.stats.filtered++;
      return;
    }
    if (verdict === 'duplicate') {
      this.stats.deduplicated++;
      return;
    }
    this.stats.accepted++;
    this.trackReminder(e);
    if (this.settings.groupWindowMs <= 0 || !this.sink.acceptsGroups) {
      this.enqueue({ message: { kind: 'event', events: [e] } });
      return;
    }
    const gk = groupKey(e);
    const pendingIn = this.bucketOfKey.get(e.dedupKey);
    // The same incident is waiting in another bucket (down, then up): send what waits first, or the receiver
    // would see the changes out of order.
    if (pendingIn !== undefined && pendingIn !== gk) this.flushAll();
    let bucket = this.buckets.get(gk);
    if (!bucket) {
      bucket = { events: [], timer: this.d.clock.setTimer(this.settings.groupWindowMs, () => this.flushUpTo(gk)) };
      this.buckets.set(gk, bucket);
    }
    bucket.events.push(e);
    this.bucketOfKey.set(e.dedupKey, gk);
    if (bucket.events.length >= MAX_GROUP) this.flushUpTo(gk);
  }

  /** Flush `gk` and every bucket opened before it (their windows end first anyway). */
  private flushUpTo(gk: string): void {
    for (const [key] of this.buckets) {
      this.flushBucket(key);
      if (key === gk) break;
    }
  }

  flushAll(): void {
    for (const [key] of this.buckets) this.flushBucket(key);
  }

  private flushBucket(gk: string): void {
    const bucket = this.buckets.get(gk);
    if (!bucket) return;
    bucket.timer.cancel();
    this.buckets.delete(gk);
    for (const e of bucket.events) if (this.bucketOfKey.get(e.dedupKey) === gk) this.bucketOfKey.delete(e.dedupKey);
    const [first, ...rest] = bucket.events;
    if (!first) return;
    this.enqueue({ message: rest.length === 0 ? { kind: 'event', events: [first] } : { kind: 'group', events: bucket.events } });
  }

  private trackReminder(e: LvsEvent): void {
    if (e.resolves) {
      this.reminders.get(e.dedupKey)?.cancel();
      this.reminders.delete(e.dedupKey);
      return;
    }
    if (!e.opens || this.settings.repeatMs <= 0 || this.reminders.has(e.dedupKey)) return;
    const key = e.dedupKey;
    const arm = (): void => {
      this.reminders.set(key, this.d.clock.setTimer(this.settings.repeatMs, () => {
        const open = this.policy.open.get(key);
        if (!open || this.d.closing) {
          this.reminders.delete(key);
          return;
        }
        this.stats.reminders++;
        this.enqueue({ message: { kind: 'reminder', events: [open.event], openSince: open.since } });
        arm();
      }));
    };
    // Bounded like the open-incident map it mirrors: a reminder whose incident was forgotten (resolved, or
    // evicted from the bounded map) removes itself when it next fires.
    arm();
  }

  enqueue(item: QueueItem): void {
    if (this.queue.length >= this.settings.queueSize) {
      this.stats.droppedQueueFull++;
      this.d.logger.warn({ sink: this.sink.name, kind: item.message.kind, queueSize: this.settings.queueSize }, 'alert dropped: sink queue full');
      item.onDone?.({ ok: false, retryable: false, error: `sink ${this.sink.name}: queue full (${this.settings.queueSize})` });
      return;
    }
    this.queue.push(item);
    this.stats.enqueued++;
    this.stats.queueDepth = this.queue.length;
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        this.stats.queueDepth = this.queue.length;
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.deliverWithRetries(item.message);
        } catch (err) {
          // deliverWithRetries does not throw by design; this keeps the lane alive if that ever changes.
          outcome = { ok: false, retryable: false, error: errorMessage(err) };
        }
        try {
          item.onDone?.(outcome);
        } catch {
          // A caller's completion callback must not stop the lane.
        }
      }
    } finally {
      this.busy = false;
      this.stats.queueDepth = this.queue.length;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliverWithRetries(message: AlertMessage): Promise<DeliveryOutcome> {
    const { retries } = this.settings;
    for (let attempt = 0; ; attempt++) {
      const out = await this.attempt(message);
      if (out.ok) {
        if (out.skipped) this.stats.skipped++;
        else this.stats.delivered++;
        this.setHealthy();
        return out;
      }
      const last = !out.retryable || attempt >= retries || this.d.closeSignal.aborted;
      if (last) {
        this.stats.droppedFailed++;
        this.d.logger.error({ sink: this.sink.name, kind: message.kind, attempts: attempt + 1, error: out.error }, 'alert dropped: delivery failed');
        this.setFailing(out.error);
        return out;
      }
      this.stats.retries++;
      const delay = nextRetryDelay(attempt, out.retryAfterMs, this.d.backoff, this.d.random);
      this.d.logger.warn({ sink: this.sink.name, attempt: attempt + 1, retryInMs: delay, error: out.error }, 'alert delivery failed, will retry');
      try {
        await sleep(this.d.clock, delay, this.d.closeSignal);
      } catch {
        // Shutting down: the next loop turn sees closeSignal and gives up.
      }
    }
  }

  /** One attempt, bounded by the sink timeout even if the sink ignores its abort signal. */
  private attempt(message: AlertMessage): Promise<DeliveryOutcome> {
    if (this.d.closeSignal.aborted) return Promise.resolve({ ok: false, retryable: false, error: `sink ${this.sink.name}: dispatcher closed` });
    const controller = new AbortController();
    const onClose = (): void => controller.abort(new Error('dispatcher closing'));
    this.d.closeSignal.addEventListener('abort', onClose, { once: true });
    let timer: TimerHandle | undefined;
    const timeout = new Promise<DeliveryOutcome>((resolve) => {
      timer = this.d.clock.setTimer(this.settings.timeoutMs, () => {
        controller.abort(new Error('timeout'));
        resolve({ ok: false, retryable: true, error: `sink ${this.sink.name}: timed out after ${this.settings.timeoutMs} ms` });
      });
    });
    const delivery = Promise.resolve()
      .then(() => this.sink.deliver(message, controller.signal))
      .catch((err: unknown): DeliveryOutcome => ({ ok: false, retryable: true, error: `sink ${this.sink.name}: ${errorMessage(err)}` }));
    return Promise.race([delivery, timeout]).finally(() => {
      timer?.cancel();
      this.d.closeSignal.removeEventListener('abort', onClose);
    });
  }

  private setFailing(error: string): void {
    if (this.stats.failing) return;
    this.stats.failing = true;
    this.d.reportHealth({ type: 'alert.delivery_failing', sink: this.sink.name, error, dropped: this.stats.droppedFailed });
  }

  private setHealthy(): void {
    if (!this.stats.failing) return;
    this.stats.failing = false;
    this.d.reportHealth({ type: 'alert.delivery_recovered', sink: this.sink.name });
  }

  stopTimers(): void {
    for (const t of this.reminders.values()) t.cancel();
    this.reminders.clear();
  }

  whenIdle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }
}

/** What the lanes share. */
interface DispatcherCore {
  clock: Clock;
  random: () => number;
  backoff: BackoffPolicy;
  logger: Logger;
  closeSignal: AbortSignal;
  closing: boolean;
  reportHealth(body: EventBody): void;
}

export class AlertDispatcher {
  private readonly lanes: SinkLane[];
  private readonly core: DispatcherCore;
  private readonly closeController = new AbortController();

  constructor(opts: DispatcherOptions) {
    const onHealth = opts.onDeliveryHealth;
    const logger = opts.logger ?? silentLogger();
    this.core = {
      clock: opts.clock ?? systemClock,
      random: opts.random ?? Math.random,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      logger,
      closeSignal: this.closeController.signal,
      closing: false,
      reportHealth: (body) => {
        if (!onHealth) return;
        // Deferred: the report re-enters publish(), which must not run inside a lane's own bookkeeping.
        queueMicrotask(() => {
          try {
            onHealth(body);
          } catch (err) {
            logger.error({ error: errorMessage(err) }, 'delivery health callback failed');
          }
        });
      },
    };
    const names = new Set<string>();
    for (const { settings } of opts.sinks) {
      if (names.has(settings.name)) throw new Error(`alerts.sinks: duplicate sink name ${settings.name}`);
      names.add(settings.name);
    }
    this.lanes = opts.sinks.map(({ settings, sink }) => new SinkLane(settings, sink, this.core));
  }

  /** Synchronous and cheap: never waits for a receiver. Events after close() are ignored. */
  publish(event: LvsEvent): void {
    if (this.core.closing) return;
    for (const lane of this.lanes) {
      try {
        lane.offer(event);
      } catch (err) {
        this.core.logger.error({ sink: lane.sink.name, error: errorMessage(err) }, 'alert publish failed');
      }
    }
  }

  /** `lvskeep alert test`: a test event to one sink (or all), bypassing filters; resolves with each outcome. */
  sendTest(sinkName?: string, note = 'sent by lvskeep alert test'): Promise<DeliveryResult[]> {
    const lanes = this.pick(sinkName === undefined ? undefined : [sinkName]);
    const event = createEvent({ type: 'alert.test', note }, this.core.clock.now());
    return Promise.all(lanes.map((lane) => this.submit(lane, { kind: 'test', events: [event] })));
  }

  /** A ready-made message (schedule digests) to the named sinks, or all; bypasses filters and grouping. */
  sendMessage(message: AlertMessage, sinkNames?: readonly string[]): Promise<DeliveryResult[]> {
    return Promise.all(this.pick(sinkNames).map((lane) => this.submit(lane, message)));
  }

  stats(): Record<string, SinkStats> {
    return Object.fromEntries(this.lanes.map((l) => [l.sink.name, { ...l.stats }]));
  }

  get sinkNames(): string[] {
    return this.lanes.map((l) => l.sink.name);
  }

  /**
   * Stop taking events, send what groups hold, and wait up to `graceMs` for queues to drain; then abort what is
   * in flight. Returns the number of messages left undelivered.
   */
  async close(graceMs = 5_000): Promise<number> {
    if (!this.core.closing) {
      this.core.closing = true;
      for (const lane of this.lanes) {
        lane.stopTimers();
        lane.flushAll();
      }
    }
    let timer: TimerHandle | undefined;
    const drained = Promise.all(this.lanes.map((l) => l.whenIdle())).then(() => true);
    const expired = new Promise<boolean>((resolve) => {
      timer = this.core.clock.setTimer(graceMs, () => resolve(false));
    });
    const clean = await Promise.race([drained, expired]);
    timer?.cancel();
    const left = this.lanes.reduce((n, l) => n + l.pending, 0);
    if (!clean) this.closeController.abort(new Error('dispatcher closed'));
    return left;
  }

  private pick(names: readonly string[] | undefined): SinkLane[] {
    if (names === undefined) return this.lanes;
    return names.map((name) => {
      const lane = this.lanes.find((l) => l.sink.name === name);
      if (!lane) throw new Error(`no alert sink named ${name} (have: ${this.sinkNames.join(', ') || 'none'})`);
      return lane;
    });
  }

  private submit(lane: SinkLane, message: AlertMessage): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      lane.enqueue({ message, onDone: (outcome) => resolve({ sink: lane.sink.name, outcome }) });
    });
  }
}
