/**
 * Push-style instruments for the places the event stream does not cover: each health check result, each IPVS
 * backend operation, each reconcile pass and each VRRP timer. Each is a thin wrapper or a one-line call the
 * daemon makes where it already has the value; none of them throws into the caller.
 */
import type { ApplyResult, IpvsBackend, IpvsOp } from '../ipvs/backend.js';
import { checkResultLabel, checkTypeLabel, ipvsOpLabel } from './labels.js';
import { checkTargetKey, type Metrics } from './registry.js';

export interface CheckResultLike {
  ok: boolean;
  latencyMs: number;
  reason: string;
}

/** One health check result (after retries), e.g. from HealthMonitor's onResult. */
export function recordCheckResult(
  m: Metrics,
  target: { virtualServer: string; realServer: string; type: string },
  result: CheckResultLike,
): void {
  const { virtualServer, realServer } = target;
  m.checks.targets.set(checkTargetKey(virtualServer, realServer), { virtualServer, realServer });
  m.checks.results.inc({ virtual_server: virtualServer, real_server: realServer, result: checkResultLabel(result.ok, result.reason) });
  if (Number.isFinite(result.latencyMs) && result.latencyMs >= 0) {
    m.checks.duration.observe({ virtual_server: virtualServer, type: checkTypeLabel(target.type) }, result.latencyMs / 1000);
  }
}

/** One reconcile pass (src/ipvs/reconciler.ts PassResult satisfies it). */
export function recordReconcilePass(m: Metrics, pass: { durationMs: number }): void {
  if (Number.isFinite(pass.durationMs) && pass.durationMs >= 0) m.ipvs.reconcileDuration.observe(pass.durationMs / 1000);
}

/**
 * The backend with every operation counted in lvskeep_ipvs_operations_total{op,result}. Table changes are
 * counted per operation from the ApplyResult; dump/flush/zero/info count one each, `error` when they throw.
 */
export function meterIpvsBackend(backend: IpvsBackend, m: Metrics): IpvsBackend {
  const count = (op: string, ok: boolean, n = 1): void => {
    if (n > 0) m.ipvs.operations.inc({ op: ipvsOpLabel(op), result: ok ? 'ok' : 'error' }, n);
  };
  const timed = async <T>(op: string, run: () => Promise<T>): Promise<T> => {
    try {
      const v = await run();
      count(op, true);
      return v;
    } catch (err) {
      count(op, false);
      throw err;
    }
  };
  const countApply = (ops: IpvsOp[], result: ApplyResult | undefined): void => {
    const failed = new Set<IpvsOp>(result ? result.failed.map((f) => f.op) : ops);
    const byKind = new Map<string, { ok: number; error: number }>();
    for (const op of ops) {
      const c = byKind.get(op.op) ?? { ok: 0, error: 0 };
      if (failed.has(op)) c.error++;
      else c.ok++;
      byKind.set(op.op, c);
    }
    for (const [op, c] of byKind) {
      count(op, true, c.ok);
      count(op, false, c.error);
    }
  };
  return {
    name: backend.name,
    dump: (opts) => timed('dump', () => backend.dump(opts)),
    async apply(ops) {
      let result: ApplyResult | undefined;
      try {
        result = await backend.apply(ops);
        return result;
      } finally {
        // A backend that throws (it should not) failed every operation it was given.
        countApply(ops, result);
      }
    },
    flush: () => timed('flush', () => backend.flush()),
    zero: (service) => timed('zero', () => backend.zero(service)),
    info: () => timed('info', () => backend.info()),
    close: () => backend.close(),
  };
}

/** Lateness samples (ms) measured elsewhere, e.g. by the VRRP child process, into lvskeep_vrrp_timer_lateness_seconds. */
export function recordTimerLateness(m: Metrics, samplesMs: readonly number[]): void {
  for (const ms of samplesMs) if (Number.isFinite(ms) && ms >= 0) m.vrrp.timerLateness.observe(ms / 1000);
}

/** The timer interface of src/vrrp/runtime/timers.ts (RuntimeTimers); `now` is monotonic milliseconds. */
export interface MonotonicTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Timers that observe, in lvskeep_vrrp_timer_lateness_seconds, how long after its deadline each timer ran.
 * Give these to the VRRP manager (VrrpManagerDeps.timers): a late advert timer is how a blocked event loop
 * turns into a spurious failover, so the histogram shows the risk before it happens.
 */
export function latenessTimers(base: MonotonicTimers, m: Metrics): MonotonicTimers {
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const due = base.now() + Math.max(0, ms);
      return base.setTimeout(() => {
        try {
          m.vrrp.timerLateness.observe(Math.max(0, base.now() - due) / 1000);
        } catch {
          // Measuring must never keep a VRRP timer from running.
        }
        fn();
      }, ms);
    },
    clearTimeout: (h) => base.clearTimeout(h),
  };
}
