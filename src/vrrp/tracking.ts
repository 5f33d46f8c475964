// Effective priority from tracked objects, with keepalived 2.2.7's semantics (vrrp_track.c):
// - weight > 0: adds `weight` while the object is up;
// - weight < 0: subtracts |weight| while the object is down;
// - weight 0: the instance goes to FAULT while the object is down;
// - `reverse` flips the sense (keepalived's `weight N reverse`): a positive weight subtracts while up, a negative
//   one adds while down, and a weight-0 object faults the instance while it is UP;
// - the result is clamped to 1..254: tracking can neither make a router the address owner nor silence it
//   (priority 0 means "leaving");
// - priority 255 (address owner) is never changed: keepalived refuses weighted tracking on such an instance
//   ("Cannot have weighted track script ... with priority 255") and drops the weighted object, and
//   vrrp_set_effective_priority returns early for owners. Weight-0 objects still put an owner into FAULT.
// - keepalived accepts weights only in -253..253; others are reported and ignored here.
import type { VrrpEvent } from './state-machine.js';

export type TrackedKind = 'interface' | 'pool' | 'script';

export interface TrackedObject {
  kind: TrackedKind;
  name: string;
  weight: number;
  up: boolean;
  reverse?: boolean;
}

export interface PriorityResult {
  /** 1..254, or 255 for an address owner. */
  priority: number;
  fault: boolean;
  /** Why the instance is in fault, one line per object ("interface eth1 down (weight 0)"). */
  faultReasons: string[];
  /** Non-zero contributions, for logs and status output. */
  adjustments: { object: string; delta: number }[];
  /** Tracked objects that were ignored, and why. */
  warnings: string[];
}

export const MAX_TRACK_WEIGHT = 253;

function label(o: TrackedObject): string {
  return `${o.kind} ${o.name}`;
}

export function effectivePriority(basePriority: number, tracked: readonly TrackedObject[]): PriorityResult {
  const owner = basePriority === 255;
  const faultReasons: string[] = [];
  const adjustments: { object: string; delta: number }[] = [];
  const warnings: string[] = [];
  let total = basePriority;
  for (const o of tracked) {
    if (!Number.isInteger(o.weight) || Math.abs(o.weight) > MAX_TRACK_WEIGHT) {
      warnings.push(`${label(o)}: weight ${o.weight} ignored, must be an integer in -${MAX_TRACK_WEIGHT}..${MAX_TRACK_WEIGHT}`);
      continue;
    }
    const sign = o.reverse ? -1 : 1;
    if (o.weight === 0) {
      // Normal: fault while down. Reverse: fault while up.
      if (o.up === Boolean(o.reverse)) faultReasons.push(`${label(o)} ${o.up ? 'up' : 'down'} (weight 0${o.reverse ? ', reverse' : ''})`);
      continue;
    }
    if (owner) {
      warnings.push(`${label(o)}: weight ${o.weight} ignored, priority 255 (address owner) is never changed by tracking`);
      continue;
    }
    let delta = 0;
    if (o.weight > 0 && o.up) delta = o.weight * sign;
    if (o.weight < 0 && !o.up) delta = o.weight * sign;
    if (delta !== 0) adjustments.push({ object: label(o), delta });
    total += delta;
  }
  const priority = owner ? 255 : Math.min(254, Math.max(1, total));
  return { priority, fault: faultReasons.length > 0, faultReasons, adjustments, warnings };
}

/** Describe a result in one line, for the reason of a priority change. */
export function describePriority(base: number, r: PriorityResult): string {
  if (r.adjustments.length === 0) return `base ${base}, no adjustments`;
  const parts = r.adjustments.map((a) => `${a.object} ${a.delta > 0 ? '+' : ''}${a.delta}`);
  return `base ${base} ${parts.join(', ')} = ${r.priority}`;
}

/** The state-machine events that take an instance from the previous tracking result to the next. */
export function trackingEvents(base: number, prev: PriorityResult | undefined, next: PriorityResult): VrrpEvent[] {
  const events: VrrpEvent[] = [];
  const prevPriority = prev?.priority ?? base;
  if (next.priority !== prevPriority) events.push({ type: 'priority-changed', priority: next.priority, reason: describePriority(base, next) });
  const wasFault = prev?.fault ?? false;
  if (next.fault && !wasFault) events.push({ type: 'fault', reason: next.faultReasons.join('; ') });
  if (!next.fault && wasFault) events.push({ type: 'fault-cleared', reason: `tracked objects recovered (${(prev?.faultReasons ?? []).join('; ')})` });
  return events;
}
