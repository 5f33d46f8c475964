/**
 * A hard per-attempt deadline as an AbortSignal, linked to an outer signal (the scheduler stopping). The timer
 * is always cleared by `done()`, so a finished probe leaves nothing behind.
 */

export interface Deadline {
  signal: AbortSignal;
  /** True when our own timer fired (as opposed to the outer signal aborting). */
  expired(): boolean;
  done(): void;
}

export function startDeadline(timeoutMs: number, outer?: AbortSignal): Deadline {
  const ctl = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    ctl.abort(new Error(`deadline of ${timeoutMs} ms passed`));
  }, Math.max(1, timeoutMs));
  const onOuter = (): void => ctl.abort(outer?.reason ?? new Error('aborted'));
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  return {
    signal: ctl.signal,
    expired: () => fired,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

export const STOPPING_REASON = 'aborted: check stopped';

/** Milliseconds since `start` (performance.now()), rounded to 0.1 ms. */
export function elapsedSince(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
