/** Pure planning of sysctl changes: what to write, given what the kernel holds now and what is wanted. */

export interface SysctlSetting {
  key: string;
  value: string;
  /** Why lvskeep wants this value, printed by --dry-run and status. */
  why: string;
}

export interface SysctlChange {
  key: string;
  from: string;
  to: string;
  why: string;
}

export interface SysctlPlan {
  changes: SysctlChange[];
  unchanged: SysctlSetting[];
}

/** The kernel prints multi-value sysctls with tabs; compare words, not whitespace. */
export function sameSysctlValue(a: string, b: string): boolean {
  return a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');
}

/** Settings in order, each key once (a later duplicate must agree with the first, else it is a bug). */
export function mergeSettings(settings: readonly SysctlSetting[]): SysctlSetting[] {
  const byKey = new Map<string, SysctlSetting>();
  for (const s of settings) {
    const seen = byKey.get(s.key);
    if (seen === undefined) byKey.set(s.key, s);
    else if (!sameSysctlValue(seen.value, s.value)) throw new Error(`sysctl ${s.key}: wanted both ${seen.value} and ${s.value}`);
  }
  return [...byKey.values()];
}

/** `current` must hold every wanted key (read beforehand); a missing one is reported as a change from "?". */
export function planSysctls(current: ReadonlyMap<string, string>, wanted: readonly SysctlSetting[]): SysctlPlan {
  const plan: SysctlPlan = { changes: [], unchanged: [] };
  for (const w of mergeSettings(wanted)) {
    const now = current.get(w.key);
    if (now !== undefined && sameSysctlValue(now, w.value)) plan.unchanged.push(w);
    else plan.changes.push({ key: w.key, from: now ?? '?', to: w.value, why: w.why });
  }
  return plan;
}

export function formatChange(c: SysctlChange): string {
  return `${c.key} ${c.from} -> ${c.to}`;
}
