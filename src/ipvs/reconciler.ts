import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import type { ApplyResult, IpvsBackend, IpvsOp } from './backend.js';
import type { DesiredService } from './model.js';
import { formatOp } from './save-format.js';
import { diffTables, type PlanOptions } from './reconcile.js';
import type { Timers } from '../util/timers.js';

/**
 * The loop adapter around planChanges: reads the kernel table, applies the difference, and does so at
 * start, after every change of the desired table (changes in quick succession coalesce into one pass) and
 * every `interval`, so that a hand-run `ipvsadm -d/-e/-C` is repaired and reported. One pass at a time;
 * a pass never throws (errors are logged and returned). It never flushes the table: only the planned,
 * object-by-object operations touch it, so connections to unchanged real servers survive.
 */

export type { Timers };

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // the reconciler must not keep a stopping process alive
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type PassReason = 'start' | 'desired-changed' | 'interval' | 'manual';

export interface ReconcileEvent {
  /** 'drift': the table no longer matched a configuration it had matched; 'change': a new configuration. */
  kind: 'drift' | 'change';
  reasons: PassReason[];
  /** What was found, one human line per difference (describeDrift). */
  found: string[];
  /** What was done: the ops in ipvsadm syntax, failed ones with their error. */
  done: string[];
  result: ApplyResult;
}

export interface PassResult {
  ops: IpvsOp[];
  result?: ApplyResult;
  event?: ReconcileEvent;
  /** Set when the pass could not run (dump failed, bad desired table). */
  error?: string;
  durationMs: number;
}

export interface ReconcilerOptions {
  backend: IpvsBackend;
  logger: Logger;
  /** Milliseconds between drift checks. */
  interval: number;
  owned: PlanOptions['owned'];
  /** Delay that coalesces bursts of setDesired calls into one pass; default 0 (next tick). */
  coalesceMs?: number;
  timers?: Timers;
  now?: () => number;
  onDrift?: (event: ReconcileEvent) => void;
  /**
   * After every pass that ran (read the kernel), failed ones included; not for the no-op before the first
   * desired table. For pass-level metrics (metrics/instruments.ts recordReconcilePass). A throw is logged.
   */
  onPass?: (result: PassResult) => void;
}

export interface Reconciler {
  setDesired(desired: DesiredService[]): void;
  /** Runs a pass that starts after this call (joining one already queued) and resolves with its result. */
  reconcileNow(): Promise<PassResult>;
  start(): void;
  /** Stops the timers and waits for a running pass to finish. */
  stop(): Promise<void>;
}

const MAX_LOGGED_LINES = 50;

export function createReconciler(opts: ReconcilerOptions): Reconciler {
  const timers = opts.timers ?? realTimers;
  const now = opts.now ?? Date.now;
  const log = opts.logger;

  let desired: DesiredService[] | undefined;
  let desiredVersion = 0;
  /** The desired version the table last fully matched; a diff against the same version is drift. */
  let convergedVersion = -1;
  let started = false;
  /** Bumped by start() and stop(), so an interval chain from before a restart does not carry on. */
  let generation = 0;
  let intervalTimer: unknown;
  let changeTimer: unknown;
  let inFlight: Promise<void> | undefined;
  let wanted = false;
  let reasons = new Set<PassReason>();
  let waiters: ((r: PassResult) => void)[] = [];

  function request(reason: PassReason): Promise<PassResult> {
    return new Promise((resolve) => {
      waiters.push(resolve);
      reasons.add(reason);
      wanted = true;
      kick();
    });
  }

  function kick(): void {
    if (inFlight) return;
    inFlight = (async () => {
      while (wanted) {
        wanted = false;
        const mine = waiters;
        waiters = [];
        const why = [...reasons];
        reasons = new Set();
        const r = await pass(why);
        for (const w of mine) w(r);
      }
    })()
      .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'IPVS reconciler loop failed'))
      .finally(() => {
        inFlight = undefined;
        if (wanted) kick();
      });
  }

  async function pass(why: PassReason[]): Promise<PassResult> {
    if (!desired) return { ops: [], error: 'no desired table yet', durationMs: 0 };
    const r = await runPass(desired, desiredVersion, why);
    notify('onPass', () => opts.onPass?.(r));
    return r;
  }

  async function runPass(want: DesiredService[], version: number, why: PassReason[]): Promise<PassResult> {
    const t0 = now();
    try {
      const actual = await opts.backend.dump();
      const items = diffTables(want, actual, { owned: opts.owned });
      if (items.length === 0) {
        convergedVersion = version;
        return { ops: [], durationMs: now() - t0 };
      }
      const ops = items.map((i) => i.op);
      const result = await opts.backend.apply(ops);
      const failedText = new Map(result.failed.map((f) => [f.op, f.error.message]));
      const event: ReconcileEvent = {
        kind: convergedVersion === version ? 'drift' : 'change',
        reasons: why,
        found: items.map((i) => `${i.object}: ${i.found}`),
        done: ops.map((op) => {
          const err = failedText.get(op);
          return err ? `FAILED ${formatOp(op)}: ${err}` : formatOp(op);
        }),
        result,
      };
      if (result.failed.length === 0) convergedVersion = version;
      report(event);
      return { ops, result, event, durationMs: now() - t0 };
    } catch (err) {
      const error = errorMessage(err);
      log.error({ err: error, reasons: why }, 'IPVS reconcile pass failed; will retry');
      return { ops: [], error, durationMs: now() - t0 };
    }
  }

  function report(event: ReconcileEvent): void {
    const fields = {
      reasons: event.reasons,
      found: event.found.slice(0, MAX_LOGGED_LINES),
      done: event.done.slice(0, MAX_LOGGED_LINES),
      changes: event.done.length,
      failed: event.result.failed.length,
    };
    if (event.kind === 'drift') log.warn(fields, 'IPVS table drifted from the configuration; repaired');
    else log.info(fields, 'IPVS table updated to the configuration');
    for (const f of event.result.failed.slice(0, MAX_LOGGED_LINES)) log.error({ errno: f.error.errno }, f.error.message);
    if (event.kind === 'drift') notify('onDrift', () => opts.onDrift?.(event));
  }

  /** A callback that throws is the caller's bug; it must not cost the table a pass. */
  function notify(name: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      log.error({ err: errorMessage(err) }, `${name} callback threw`);
    }
  }

  function scheduleInterval(gen: number): void {
    if (!started || gen !== generation) return;
    intervalTimer = timers.setTimeout(() => {
      intervalTimer = undefined;
      void request('interval').then(() => scheduleInterval(gen));
    }, opts.interval);
  }

  return {
    setDesired(next) {
      desired = next.map((s) => structuredClone(s));
      desiredVersion++;
      if (!started || changeTimer !== undefined) return;
      changeTimer = timers.setTimeout(() => {
        changeTimer = undefined;
        void request('desired-changed');
      }, opts.coalesceMs ?? 0);
    },
    reconcileNow() {
      return request('manual');
    },
    start() {
      if (started) return;
      started = true;
      const gen = ++generation;
      void request('start').then(() => scheduleInterval(gen));
    },
    async stop() {
      started = false;
      generation++;
      if (intervalTimer !== undefined) timers.clearTimeout(intervalTimer);
      if (changeTimer !== undefined) timers.clearTimeout(changeTimer);
      intervalTimer = undefined;
      changeTimer = undefined;
      await inFlight;
    },
  };
}
