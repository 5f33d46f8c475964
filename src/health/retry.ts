/** Retries inside one check: a check fails only when every attempt failed. */
import type { Prober, ProbeResult } from './types.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Resolves after `ms`, or early when `signal` aborts; never rejects and leaves no timer behind. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export interface RetryPolicy {
  retries: number;
  retryDelayMs: number;
}

export async function probeWithRetries(
  prober: Prober,
  policy: RetryPolicy,
  signal?: AbortSignal,
  sleep: Sleep = realSleep,
): Promise<ProbeResult> {
  const attempts = 1 + Math.max(0, Math.floor(policy.retries));
  let last: ProbeResult = { ok: false, latencyMs: 0, reason: 'not probed' };
  for (let i = 1; i <= attempts; i++) {
    try {
      last = await prober.probe(signal);
    } catch (err) {
      // Probers are written not to throw; if one does, it is a failed attempt, not a crashed scheduler.
      last = { ok: false, latencyMs: 0, reason: `probe threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (last.ok) return i === 1 ? last : { ...last, reason: `${last.reason} (attempt ${i} of ${attempts})` };
    if (signal?.aborted) return last;
    if (i < attempts) await sleep(policy.retryDelayMs, signal);
  }
  return attempts === 1 ? last : { ...last, reason: `${last.reason} (${attempts} attempts)` };
}
