/** Flap damping: count health changes in a sliding window; too many hold the server down for a penalty. */
import type { FlapConfig } from './types.js';

export interface FlapState {
  /** Times of recent health changes, oldest first, none older than the window. */
  changes: number[];
  heldUntil: number;
}

export const NO_FLAP: FlapState = { changes: [], heldUntil: 0 };

export function recordChange(s: FlapState, cfg: FlapConfig | undefined, now: number): FlapState {
  if (!cfg || cfg.maxChanges <= 0) return s;
  const changes = [...s.changes.filter((t) => t > now - cfg.windowMs), now];
  // Bound memory: only the newest maxChanges+1 entries can decide anything.
  const kept = changes.slice(-(cfg.maxChanges + 1));
  const heldUntil = kept.length > cfg.maxChanges ? Math.max(s.heldUntil, now + cfg.penaltyMs) : s.heldUntil;
  return { changes: kept, heldUntil };
}

export function isHeld(s: FlapState, now: number): boolean {
  return now < s.heldUntil;
}
