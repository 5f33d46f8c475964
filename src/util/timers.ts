/**
 * The timer seam every loop in the daemon is built on, so unit tests can drive time by hand. Each capability
 * keeps its own real implementation where it differs (the IPVS reconciler's timers are unref'd, VRRP's clock is
 * monotonic).
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Timers with the clock they are measured against (milliseconds). */
export interface ClockTimers extends Timers {
  now(): number;
}
