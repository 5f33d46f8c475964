/**
 * Per-sink admission policy as plain data structures: which events a sink takes, which are duplicates, which
 * incidents are open. No timers and no I/O here, so every rule is unit-testable with plain numbers.
 */
import { eventMatches, severityRank, type LvsEvent, type Severity } from '../events/types.js';

export interface AdmissionSettings {
  name: string;
  events?: readonly string[];
  minSeverity?: Severity;
  dedupWindowMs: number;
}

/** Upper bound on remembered dedup keys and open incidents per sink: memory stays bounded whatever happens. */
export const MAX_TRACKED_KEYS = 10_000;

type Direction = 'opens' | 'resolves' | 'notice';

function direction(e: LvsEvent): Direction {
  return e.resolves ? 'resolves' : e.opens ? 'opens' : 'notice';
}

export type Admission = 'accept' | 'filtered' | 'duplicate' | 'own-health';

export class AdmissionPolicy {
  private readonly lastSent = new Map<string, { dir: Direction; time: number }>();
  /** Incidents this sink was told about and not yet told are over. */
  readonly open = new Map<string, { event: LvsEvent; since: number }>();

  constructor(private readonly s: AdmissionSettings) {}

  /** Decide for one event at time `now`; an accepted event updates the remembered state. */
  admit(e: LvsEvent, now: number): Admission {
    // A sink never reports its own delivery trouble to itself: it could not deliver that either.
    if ((e.type === 'alert.delivery_failing' || e.type === 'alert.delivery_recovered') && e.sink === this.s.name) return 'own-health';
    if (!eventMatches(e.type, this.s.events)) return 'filtered';
    // A recovery is info-level, yet it must reach every sink that was told about the problem, or the incident
    // would stay open there forever.
    const resolvesOpen = e.resolves && this.open.has(e.dedupKey);
    if (!resolvesOpen && this.s.minSeverity && severityRank(e.severity) < severityRank(this.s.minSeverity)) return 'filtered';

    const dir = direction(e);
    if (this.s.dedupWindowMs > 0) {
      const last = this.lastSent.get(e.dedupKey);
      // Only a repeat of the same state is a duplicate: down, up, down within the window are three real changes.
      if (last && last.dir === dir && now - last.time < this.s.dedupWindowMs) return 'duplicate';
      this.lastSent.delete(e.dedupKey);
      this.lastSent.set(e.dedupKey, { dir, time: now });
      this.prune(now);
    }
    if (e.opens) {
      if (!this.open.has(e.dedupKey)) {
        this.open.set(e.dedupKey, { event: e, since: e.time });
        if (this.open.size > MAX_TRACKED_KEYS) this.open.delete(this.open.keys().next().value as string);
      }
    } else if (e.resolves) {
      this.open.delete(e.dedupKey);
    }
    return 'accept';
  }

  private prune(now: number): void {
    if (this.lastSent.size <= MAX_TRACKED_KEYS) return;
    for (const [k, v] of this.lastSent) {
      if (now - v.time >= this.s.dedupWindowMs) this.lastSent.delete(k);
    }
    // Still too many live keys (a storm of distinct keys): forget the oldest (insertion order is time order),
    // down to 90% so the scan above runs once per thousand inserts, not on every one.
    while (this.lastSent.size > MAX_TRACKED_KEYS * 0.9) this.lastSent.delete(this.lastSent.keys().next().value as string);
  }

  get trackedKeys(): number {
    return this.lastSent.size;
  }
}

/** Events of the same type within the group window travel together ("10 × rs.down"). */
export function groupKey(e: LvsEvent): string {
  return e.type;
}
