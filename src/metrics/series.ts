/**
 * Small helpers for the two series shapes used here: "state sets" (one series per possible state, 1 for the
 * current one, as node_exporter's systemd unit state does) and counters fed from cumulative readings.
 */
/** Set `current` to 1 and every other state to 0 under the same base labels. */
export function setStateSet(
  gauge: { set(labels: Partial<Record<string, string>>, value: number): void },
  base: Partial<Record<string, string>>,
  states: readonly string[],
  current: string,
): void {
  for (const state of states) gauge.set({ ...base, state }, state === current ? 1 : 0);
}

/**
 * Turns cumulative counts read from a live component into counter increments. Components restart at zero (a
 * VRRP instance recreated by a reload, a new alert dispatcher), so a reading below the previous one means a
 * restart and all of it is new. What the old component counted after our last reading is lost; that is the
 * usual price of reading cumulative values and is bounded by one scrape interval.
 */
export class CumulativeDeltas {
  private readonly last = new Map<string, number>();

  delta(key: string, value: number): number {
    if (!Number.isFinite(value) || value < 0) return 0;
    const prev = this.last.get(key);
    this.last.set(key, value);
    if (prev === undefined || value < prev) return value;
    return value - prev;
  }

  forget(keep: (key: string) => boolean): void {
    for (const key of [...this.last.keys()]) if (!keep(key)) this.last.delete(key);
  }
}
