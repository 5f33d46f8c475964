// IPVS connection synchronisation that follows the VRRP state (keepalived's lvs_sync_daemon): the master
// director runs the kernel's master sync daemon, which multicasts its connection entries on `interface`; the
// others run the backup daemon, which copies them into their own table, so that connections survive a
// failover. Master -> master daemon, and the backup daemon kept (it receives the connections a director leaving
// master hands over: conn-handover.ts); Backup/Fault -> backup daemon (master one stopped); Initialize -> none.
// The pure part plans the daemon changes from what the kernel runs now; the controller carries them out one
// after the other, always towards the latest wanted state, and reports failures as ipvs.error events.
import type { EventBus } from '../../events/bus.js';
import { createEvent, type LvsEvent } from '../../events/types.js';
import type { DaemonConfig } from '../../ipvs/netlink/attrs.js';
import type { Logger } from '../../log/logger.js';
import { errnoCode, errorMessage } from '../../util/errors.js';
import type { VrrpStateName } from '../state-machine.js';
import { realRuntimeTimers, TimeoutError, withTimeout, type RuntimeTimers } from './timers.js';

export type SyncDaemonState = DaemonConfig['state'];

export interface LvsSyncSettings {
  /** Interface the sync multicast uses (keepalived's lvs_sync_daemon interface). */
  interface: string;
  syncId: number;
}

/** What the controller needs of the kernel: the sync-daemon part of the netlink backend. */
export interface SyncDaemonBackend {
  startDaemon(d: DaemonConfig): Promise<void>;
  stopDaemon(state: SyncDaemonState): Promise<void>;
  daemons(): Promise<DaemonConfig[]>;
}

export type SyncDaemonOp = { op: 'stop'; state: SyncDaemonState } | { op: 'start'; daemon: DaemonConfig };

/** The daemon a VRRP state wants; undefined = none (not started, or shut down). */
export function wantedSyncDaemon(state: VrrpStateName): SyncDaemonState | undefined {
  if (state === 'Master') return 'master';
  if (state === 'Backup' || state === 'Fault') return 'backup';
  return undefined;
}

export function describeDaemon(d: DaemonConfig): string {
  return `${d.state} sync daemon on ${d.mcastIfn} syncid ${d.syncId}`;
}

/** The daemons a wanted state means: a master also keeps its backup daemon (see planSyncDaemons). */
export function daemonsFor(want: SyncDaemonState | undefined): SyncDaemonState[] {
  if (want === 'master') return ['master', 'backup'];
  return want === 'backup' ? ['backup'] : [];
}

/**
 * Pure: the stops and starts that take the kernel from `running` to exactly the wanted daemons. A master runs
 * the master daemon and keeps the backup one: a director that stops being master hands its connections over to
 * the backup daemons (ConnHandover), and the new master may already be master when they arrive. A running
 * daemon of a wanted state but another interface or sync id is restarted; stops come before starts.
 */
export function planSyncDaemons(want: SyncDaemonState | undefined, settings: LvsSyncSettings, running: readonly DaemonConfig[]): SyncDaemonOp[] {
  const stops: SyncDaemonOp[] = [];
  const starts: SyncDaemonOp[] = [];
  const kept = new Set<SyncDaemonState>();
  const wanted = daemonsFor(want);
  for (const d of running) {
    const same = wanted.includes(d.state) && d.mcastIfn === settings.interface && d.syncId === settings.syncId;
    if (same) kept.add(d.state);
    else stops.push({ op: 'stop', state: d.state });
  }
  // The master daemon first: it is what the other directors need at once.
  for (const state of wanted) if (!kept.has(state)) starts.push({ op: 'start', daemon: { state, mcastIfn: settings.interface, syncId: settings.syncId } });
  return [...stops, ...starts];
}

export interface LvsSyncDeps {
  backend: SyncDaemonBackend;
  logger: Logger;
  bus?: EventBus<LvsEvent>;
  timers?: RuntimeTimers;
  wallClock?: () => number;
  /** Limit for one start or dump; default 10 s. */
  requestTimeoutMs?: number;
  /**
   * How long a stop may take before we stop waiting for its answer and look at GET_DAEMON instead. The
   * kernel stops the sync thread synchronously; under load (or UML) the answer can be late.
   */
  stopAnswerMs?: number;
  /** How long, in all, a stopped daemon may take to disappear from GET_DAEMON; default 60 s. */
  stopGoneMs?: number;
  /** Pause between GET_DAEMON polls while waiting for a stop; default 500 ms. */
  pollMs?: number;
  /** After a failed attempt, try again this much later (while the wanted state is unchanged); default 5 s. */
  retryMs?: number;
  /** Give up (and say so) after this many failed attempts in a row for one wanted state; default 5. */
  maxAttempts?: number;
}

export interface LvsSyncStatus {
  wanted: SyncDaemonState | 'none';
  /** What we last read from or did to the kernel; undefined before the first success. */
  applied?: SyncDaemonState | 'none';
  failures: number;
  lastError?: string;
}

/**
 * Drives the kernel's sync daemons towards the state given to `follow`. One worker at a time; a change of
 * wanted state while it runs is picked up when the current step ends (only the latest state matters).
 */
export class LvsSyncController {
  private wanted: SyncDaemonState | undefined;
  private applied: SyncDaemonState | undefined | null = null;
  private worker: Promise<void> | undefined;
  private retryHandle: unknown;
  private failures = 0;
  private lastError: string | undefined;
  private closed = false;
  private readonly timers: RuntimeTimers;

  constructor(
    readonly instance: string,
    readonly settings: LvsSyncSettings,
    private readonly deps: LvsSyncDeps,
  ) {
    this.timers = deps.timers ?? realRuntimeTimers;
  }

  /** Make the daemons follow a VRRP state (called on every state change). */
  follow(state: VrrpStateName): void {
    if (this.closed) return;
    const want = wantedSyncDaemon(state);
    if (want !== this.wanted) this.failures = 0;
    this.wanted = want;
    this.kick();
  }

  /** Resolves when no work is running (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** Stop every sync daemon of ours and stop following. */
  async close(): Promise<void> {
    this.wanted = undefined;
    this.failures = 0;
    this.kick();
    await this.settled();
    this.closed = true;
    this.clearRetry();
  }

  status(): LvsSyncStatus {
    const s: LvsSyncStatus = { wanted: this.wanted ?? 'none', failures: this.failures };
    if (this.applied !== null) s.applied = this.applied ?? 'none';
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private kick(): void {
    this.clearRetry();
    if (this.worker || this.closed) return;
    this.worker = this.run().finally(() => {
      this.worker = undefined;
    });
  }

  private clearRetry(): void {
    if (this.retryHandle !== undefined) this.timers.clearTimeout(this.retryHandle);
    this.retryHandle = undefined;
  }

  private async run(): Promise<void> {
    // Bounded: each pass either reaches the wanted state, or counts a failure and schedules at most one retry.
    for (let pass = 0; pass < 100 && this.applied !== this.wanted; pass++) {
      const target = this.wanted;
      try {
        await this.reach(target);
        this.applied = target;
        this.failures = 0;
        this.lastError = undefined;
      } catch (err) {
        this.applied = null;
        if (this.wanted !== target) continue; // the state moved on meanwhile: aim at the new one
        this.failures++;
        this.lastError = errorMessage(err);
        const max = this.deps.maxAttempts ?? 5;
        const giveUp = this.failures >= max;
        this.deps.logger.error(
          { instance: this.instance, wanted: target ?? 'none', attempt: this.failures, err: this.lastError },
          giveUp ? `IPVS sync daemon change failed ${this.failures} times; giving up until the VRRP state changes` : 'IPVS sync daemon change failed; will retry',
        );
        if (!giveUp && !this.closed) {
          this.retryHandle = this.timers.setTimeout(() => {
            this.retryHandle = undefined;
            this.kick();
          }, this.deps.retryMs ?? 5000);
        }
        return;
      }
    }
  }

  /** Read what runs, then stop and start as planned. Errors carry the operation and are also emitted. */
  private async reach(target: SyncDaemonState | undefined): Promise<void> {
    const running = await this.call('GET_DAEMON', 'sync daemons', () => this.deps.backend.daemons(), this.deps.requestTimeoutMs ?? 10_000);
    const ops = planSyncDaemons(target, this.settings, running);
    for (const op of ops) {
      if (op.op === 'stop') await this.stop(op.state);
      else {
        const d = op.daemon;
        await this.call(`NEW_DAEMON ${d.state}`, describeDaemon(d), () => this.deps.backend.startDaemon(d), this.deps.requestTimeoutMs ?? 10_000);
        this.deps.logger.info({ instance: this.instance, daemon: describeDaemon(d) }, 'IPVS sync daemon started');
      }
    }
  }

  /**
   * DEL_DAEMON, tolerating a late answer: the kernel acts on the request even when we stop waiting, so on a
   * timeout we poll GET_DAEMON until the daemon is gone (bounded by stopGoneMs). ESRCH means it was already gone.
   */
  private async stop(state: SyncDaemonState): Promise<void> {
    const what = `${state} sync daemon`;
    const t0 = this.timers.now();
    try {
      await withTimeout(this.deps.backend.stopDaemon(state), this.deps.stopAnswerMs ?? 10_000, `DEL_DAEMON ${state}`, this.timers);
      this.deps.logger.info({ instance: this.instance, daemon: what }, 'IPVS sync daemon stopped');
      return;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ESRCH') return;
      const late = code === 'ETIMEDOUT';
      if (!late) throw this.fail(`DEL_DAEMON ${state}`, what, err);
      this.deps.logger.warn({ instance: this.instance, daemon: what, err: errorMessage(err) }, 'DEL_DAEMON not answered yet; watching GET_DAEMON for the daemon to go');
    }
    const deadline = t0 + (this.deps.stopGoneMs ?? 60_000);
    const pollMs = this.deps.pollMs ?? 500;
    for (let i = 0; i < 10_000 && this.timers.now() < deadline; i++) {
      let running: DaemonConfig[] | undefined;
      try {
        running = await withTimeout(this.deps.backend.daemons(), Math.max(1, deadline - this.timers.now()), 'GET_DAEMON', this.timers);
      } catch (err) {
        this.deps.logger.debug({ instance: this.instance, err: errorMessage(err) }, 'GET_DAEMON while waiting for a stop failed');
      }
      if (running && !running.some((d) => d.state === state)) {
        this.deps.logger.info({ instance: this.instance, daemon: what, ms: Math.round(this.timers.now() - t0) }, 'IPVS sync daemon stopped (late answer)');
        return;
      }
      await new Promise<void>((r) => this.timers.setTimeout(r, pollMs));
    }
    throw this.fail(`DEL_DAEMON ${state}`, what, new TimeoutError(`still listed by GET_DAEMON ${this.deps.stopGoneMs ?? 60_000} ms after the stop request`));
  }

  private async call<T>(operation: string, object: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
    try {
      return await withTimeout(fn(), timeoutMs, operation, this.timers);
    } catch (err) {
      throw this.fail(operation, object, err);
    }
  }

  private fail(operation: string, object: string, err: unknown): Error {
    const error = errorMessage(err);
    const body = { type: 'ipvs.error' as const, operation, object: `${object} (vrrp instance ${this.instance})`, error };
    this.deps.bus?.emit(createEvent(body, (this.deps.wallClock ?? Date.now)()));
    return new Error(`${operation} ${object}: ${error}`, { cause: err });
  }
}

/** The errno name of a backend error: IpvsError keeps it in `errno`, Node and our timeouts in `code`. */
function errorCode(err: unknown): string | undefined {
  const errno = typeof err === 'object' && err !== null && 'errno' in err ? (err as { errno: unknown }).errno : undefined;
  return typeof errno === 'string' ? errno : errnoCode(err);
}


/**
 * A backend opened on first use and shared; an open that failed (IPVS module not loaded, no CAP_NET_ADMIN) is
 * tried again on the next call rather than remembered, so loading the module later is enough.
 */
export function lazySyncBackend(open: () => Promise<SyncDaemonBackend & { close?(): Promise<void> }>): SyncDaemonBackend & { close(): Promise<void> } {
  let opening: Promise<SyncDaemonBackend & { close?(): Promise<void> }> | undefined;
  const get = (): Promise<SyncDaemonBackend> => {
    opening ??= open().catch((err: unknown) => {
      opening = undefined;
      throw new Error(`cannot open the IPVS sync daemon control: ${errorMessage(err)}`, { cause: err });
    });
    return opening;
  };
  return {
    startDaemon: async (d) => (await get()).startDaemon(d),
    stopDaemon: async (s) => (await get()).stopDaemon(s),
    daemons: async () => (await get()).daemons(),
    async close() {
      const o = opening;
      opening = undefined;
      if (!o) return;
      const b = await o.catch(() => undefined);
      await b?.close?.();
    },
  };
}
