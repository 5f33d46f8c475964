/** Retry timing: pure functions so the policy can be tested without waiting. */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };

/** Longest Retry-After we honour; a receiver asking for an hour would otherwise stall the sink's whole queue. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Delay before retry number `attempt` (0 = first retry): exponential, capped, with "equal jitter" (half fixed,
 * half random) so many directors retrying the same receiver do not stay in lockstep yet never retry instantly.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const half = exp / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random())));
}

/**
 * `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 10.2.3). Returns ms from `now`, clamped to
 * [0, MAX_RETRY_AFTER_MS], or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) {
    ms = Number(v) * 1000;
  } else {
    // Date.parse is lenient ("-5" is a year); an HTTP-date always names its weekday and month.
    if (!/^[A-Za-z]{3},/.test(v) && !/GMT$/.test(v)) return undefined;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/**
 * The wait before the next attempt: never sooner than the receiver's Retry-After, and never sooner than our own
 * backoff either, so `Retry-After: 0` from a failing receiver cannot turn retries into a busy loop.
 */
export function nextRetryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: BackoffPolicy,
  random: () => number,
): number {
  return Math.max(retryAfterMs ?? 0, backoffDelay(attempt, policy, random));
}
