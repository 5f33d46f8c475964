/**
 * Rise/fall hysteresis of one real server's health, as a pure function of check results. A server changes
 * state only after `rise` consecutive successes (down -> up) or `fall` consecutive failures (up -> down).
 */
import type { HealthStatus, ProbeResult } from './types.js';

export interface RiseFall {
  rise: number;
  fall: number;
}

export interface HealthState {
  status: HealthStatus;
  /** When `status` began (ms, caller's clock). */
  since: number;
  /** Consecutive results that disagree with `status` so far. */
  streak: number;
  lastReason: string;
  /** Dynamic weight last reported by the check (script misc_dynamic), if any. */
  weight?: number;
  /** True until the first result arrives: `status` is then only the configured assumption. */
  assumed: boolean;
}

export interface HealthTransition {
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
  /** Time spent in `from`. */
  durationMs: number;
  at: number;
}

export interface HealthStep {
  state: HealthState;
  transition?: HealthTransition;
}

export function initialHealthState(assume: HealthStatus, now: number): HealthState {
  return { status: assume, since: now, streak: 0, lastReason: `assumed ${assume}`, assumed: true };
}

/** Thresholds below 1 would make a server flip on no evidence; treat them as 1. */
function threshold(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
}

export function applyResult(state: HealthState, result: ProbeResult, limits: RiseFall, now: number): HealthStep {
  const agrees = (result.ok ? 'up' : 'down') === state.status;
  const weight = result.weight ?? state.weight;
  const base: HealthState = { ...state, lastReason: result.reason, assumed: false };
  if (weight !== undefined) base.weight = weight;
  if (agrees) return { state: { ...base, streak: 0 } };

  const streak = state.streak + 1;
  const needed = result.ok ? threshold(limits.rise) : threshold(limits.fall);
  if (streak < needed) return { state: { ...base, streak } };

  const to: HealthStatus = result.ok ? 'up' : 'down';
  const transition: HealthTransition = {
    from: state.status,
    to,
    reason: result.reason,
    durationMs: Math.max(0, now - state.since),
    at: now,
  };
  return { state: { ...base, status: to, since: now, streak: 0 }, transition };
}
