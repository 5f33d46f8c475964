// Connection hand-over when this director stops being master (planned step-down, preemption, shutdown): the
// kernel's master sync daemon batches entries for up to ~2 s and drops what it holds when it is stopped, so the
// new master would not know the newest connections and would reset them. Here this director sends its whole
// connection table to the backup daemons itself (src/ipvs/conn-sync/), at once and a few times more while
// clients move over to the new master (new connections keep arriving here until their ARP entries change).
import type { Logger } from '../../log/logger.js';
import type { ConnPusher, ConnPushSettings } from '../../ipvs/conn-sync/pusher.js';
import { errorMessage } from '../../util/errors.js';
import { realRuntimeTimers, withTimeout, type RuntimeTimers } from './timers.js';

/** When the pushes go out, in ms after leaving master. */
export const HANDOVER_PUSH_AT_MS: readonly number[] = [0, 50, 150, 300, 600, 1_200, 2_500, 5_000];
const PUSH_TIMEOUT_MS = 5_000;

export interface ConnHandoverDeps {
  pusher: ConnPusher;
  logger: Logger;
  timers?: RuntimeTimers;
  pushAtMs?: readonly number[];
}

export class ConnHandover {
  private handles: unknown[] = [];
  private running: Promise<void> | undefined;
  /** A push asked for while one runs (its schedule offset): run once more when it ends. */
  private again: { round: number; at: number } | undefined;
  private round = 0;
  private closed = false;
  private readonly timers: RuntimeTimers;

  constructor(
    readonly instance: string,
    readonly settings: ConnPushSettings,
    private readonly deps: ConnHandoverDeps,
  ) {
    this.timers = deps.timers ?? realRuntimeTimers;
  }

  /** This director just left master: push now and on the schedule (a new hand-over restarts the schedule). */
  start(): void {
    if (this.closed) return;
    this.cancel();
    this.round++;
    const round = this.round;
    for (const at of this.deps.pushAtMs ?? HANDOVER_PUSH_AT_MS) {
      if (at <= 0) this.pushSoon(round, at);
      else {
        const h: unknown = this.timers.setTimeout(() => {
          this.handles = this.handles.filter((x) => x !== h);
          this.pushSoon(round, at);
        }, at);
        this.handles.push(h);
      }
    }
  }

  /** Became master again: the rest of the schedule has nothing to hand over. */
  cancel(): void {
    for (const h of this.handles) this.timers.clearTimeout(h);
    this.handles = [];
  }

  /** Shutdown: one last push if a hand-over is under way (its later pushes would never go out), then close. */
  async close(): Promise<void> {
    if (this.closed) return;
    const inProgress = this.handles.length > 0 || this.running !== undefined;
    this.cancel();
    this.closed = true;
    while (this.running) await this.running;
    if (inProgress) await this.pushOnce(this.round, -1);
    await this.deps.pusher.close();
  }

  private pushSoon(round: number, at: number): void {
    if (this.running) {
      this.again = { round, at };
      return;
    }
    this.running = this.pushOnce(round, at).finally(() => {
      this.running = undefined;
      const next = this.again;
      this.again = undefined;
      if (next && !this.closed) this.pushSoon(next.round, next.at);
    });
  }

  private async pushOnce(round: number, at: number): Promise<void> {
    try {
      const r = await withTimeout(this.deps.pusher.push(this.settings), PUSH_TIMEOUT_MS, 'connection hand-over push', this.timers);
      const fields = { instance: this.instance, round, atMs: at, conns: r.conns, datagrams: r.datagrams, ms: r.ms, skipped: r.skipped };
      if (at <= 0) this.deps.logger.info(fields, 'IPVS connections handed over to the backup sync daemons');
      else this.deps.logger.debug(fields, 'IPVS connections handed over again');
    } catch (err) {
      this.deps.logger.warn({ instance: this.instance, round, atMs: at, err: errorMessage(err) }, 'IPVS connection hand-over push failed (the kernel sync daemon still runs)');
    }
  }
}
