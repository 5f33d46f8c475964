// Timer lateness measured inside the VRRP child and shipped to the parent, whose metrics registry owns
// lvskeep_vrrp_timer_lateness_seconds. Samples wait in a bounded buffer between two status pushes.
import type { RuntimeTimers } from '../runtime/timers.js';

export class LatenessSamples {
  private samples: number[] = [];
  private dropped = 0;

  constructor(private readonly max = 4096) {}

  add(ms: number): void {
    if (this.samples.length >= this.max) {
      this.dropped++;
      return;
    }
    this.samples.push(Math.max(0, ms));
  }

  /** Everything since the previous take, and how many samples did not fit. */
  take(): { lateness: number[]; latenessDropped: number } {
    const out = { lateness: this.samples, latenessDropped: this.dropped };
    this.samples = [];
    this.dropped = 0;
    return out;
  }
}

/** `base` with every timer's lateness (how long after its deadline it ran) added to `samples`. */
export function sampledTimers(base: RuntimeTimers, samples: LatenessSamples): RuntimeTimers {
  return {
    now: () => base.now(),
    setTimeout(fn, ms) {
      const due = base.now() + Math.max(0, ms);
      return base.setTimeout(() => {
        samples.add(base.now() - due);
        fn();
      }, ms);
    },
    clearTimeout: (h) => base.clearTimeout(h),
  };
}
