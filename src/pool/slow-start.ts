/**
 * Slow start: a recovered server's weight climbs in steps from 1 to its full weight over `slowStartMs`, so a
 * cold cache or JIT is not hit by a full share of new connections at once.
 */

export interface Ramp {
  slowStartMs: number;
  stepMs: number;
}

export function rampOf(slowStartMs: number, stepMs?: number): Ramp {
  const step = stepMs !== undefined && stepMs > 0 ? stepMs : Math.max(1000, slowStartMs / 10);
  return { slowStartMs, stepMs: Math.min(step, slowStartMs) };
}

function stepCount(r: Ramp): number {
  return Math.max(1, Math.ceil(r.slowStartMs / r.stepMs));
}

/** Weight `elapsedMs` after the ramp began: at least 1 (a weight-0 server stays 0), full once it is over. */
export function rampWeight(full: number, elapsedMs: number, r: Ramp): number {
  if (full <= 0) return 0;
  if (r.slowStartMs <= 0 || elapsedMs >= r.slowStartMs) return full;
  const k = Math.floor(Math.max(0, elapsedMs) / r.stepMs);
  return Math.max(1, Math.floor((full * k) / stepCount(r)));
}

/** Elapsed time at which the weight next differs from its value at `elapsedMs`; the ramp's end at the latest. */
export function nextRampChange(full: number, elapsedMs: number, r: Ramp): number | undefined {
  if (r.slowStartMs <= 0 || elapsedMs >= r.slowStartMs) return undefined;
  const now = rampWeight(full, elapsedMs, r);
  const steps = stepCount(r);
  for (let k = Math.floor(Math.max(0, elapsedMs) / r.stepMs) + 1; k < steps; k++) {
    if (rampWeight(full, k * r.stepMs, r) !== now) return k * r.stepMs;
  }
  return r.slowStartMs;
}
