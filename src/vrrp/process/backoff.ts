// When to restart a crashed VRRP child. Pure: the supervisor keeps the count and the clock.
//
// The first restart is immediate: a restarted child starts every non-owner instance in Backup and listens one
// Master_Down_Interval before claiming Master (startup-policy.ts), so an immediate restart cannot make a second
// master; it only shortens the time this director is out of the election. A child that keeps crashing is
// restarted ever more slowly (1 s, 2 s, 4 s ... capped), so a crash loop cannot burn the CPU that health checks
// need. A child that ran for `stableMs` is healthy again: its next crash counts as the first.

export interface RestartPolicy {
  /** Delay before the second restart in a row; doubles after that. */
  baseMs: number;
  /** Upper bound of the delay. */
  maxMs: number;
  /** A child that lived this long resets the count. */
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseMs: 1_000, maxMs: 30_000, stableMs: 60_000 };

/** `crashes` counts consecutive crashes including this one (1 for the first). */
export function restartDelayMs(crashes: number, p: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  if (crashes <= 1) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(crashes - 2, 30));
}

/** The crash count after a child that lived `livedMs` died. */
export function nextCrashCount(previous: number, livedMs: number, p: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return livedMs >= p.stableMs ? 1 : previous + 1;
}

/** `exit code 70 (uncaught: boom)`, `signal SIGKILL`: why a child ended, for logs and the event. */
export function exitReason(code: number | null, signal: string | null, fatal: string | undefined): string {
  const how = signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`;
  return fatal ? `${how} (${fatal})` : how;
}
