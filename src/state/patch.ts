/**
 * Changes to the persisted state, as pure functions: a patch merges into the state (null removes), and the
 * daemon's events and operator actions map onto patches, so the wiring is one line per source.
 */
import type { LvsEvent } from '../events/types.js';
import type { ManualAction } from '../pool/types.js';
import type { HealthEntry, ManualEntry, PersistedState, RealServerEntry, VrrpEntry } from './schema.js';

/** Per real server: a facet set to null is removed; the whole entry set to null is removed. */
export interface RealServerPatch {
  health?: HealthEntry | null;
  manual?: ManualEntry | null;
}

export interface StatePatch {
  /** virtual server -> real server -> change; a virtual server set to null is forgotten with all its servers. */
  realServers?: Record<string, Record<string, RealServerPatch | null> | null>;
  vrrp?: Record<string, VrrpEntry | null>;
}

function mergeServer(current: RealServerEntry | undefined, patch: RealServerPatch): RealServerEntry | undefined {
  const next: RealServerEntry = { ...current };
  if (patch.health === null) delete next.health;
  else if (patch.health !== undefined) next.health = patch.health;
  if (patch.manual === null) delete next.manual;
  else if (patch.manual !== undefined) next.manual = patch.manual;
  return next.health === undefined && next.manual === undefined ? undefined : next;
}

/** The state with `patch` applied. Pure: `state` is not modified. Empty entries are dropped. */
export function applyPatch(state: PersistedState, patch: StatePatch): PersistedState {
  const realServers = { ...state.realServers };
  for (const [vs, servers] of Object.entries(patch.realServers ?? {})) {
    if (servers === null) {
      delete realServers[vs];
      continue;
    }
    const merged: Record<string, RealServerEntry> = { ...realServers[vs] };
    for (const [rs, change] of Object.entries(servers)) {
      const next = change === null ? undefined : mergeServer(merged[rs], change);
      if (next === undefined) delete merged[rs];
      else merged[rs] = next;
    }
    if (Object.keys(merged).length === 0) delete realServers[vs];
    else realServers[vs] = merged;
  }
  const vrrp = { ...state.vrrp };
  for (const [name, entry] of Object.entries(patch.vrrp ?? {})) {
    if (entry === null) delete vrrp[name];
    else vrrp[name] = entry;
  }
  return { ...state, realServers, vrrp };
}

/** Health transitions and VRRP state changes worth remembering; undefined for every other event. */
export function patchFromEvent(e: LvsEvent): StatePatch | undefined {
  switch (e.type) {
    case 'rs.down':
    case 'rs.up': {
      const health: HealthEntry = { state: e.type === 'rs.up' ? 'up' : 'down', since: e.time, reason: e.reason };
      return { realServers: { [e.virtualServer]: { [e.realServer]: { health } } } };
    }
    case 'vrrp.state':
      return { vrrp: { [e.instance]: { state: e.to, since: e.time, reason: e.reason } } };
    default:
      return undefined;
  }
}

/** An operator's drain/maintenance/enable on the named real servers (`enable` forgets the manual state). */
export function manualPatch(virtualServer: string, realServers: readonly string[], action: ManualAction, at: number, reason?: string): StatePatch {
  const manual: ManualEntry | null = action === 'enable' ? null : { state: action, since: at, ...(reason !== undefined ? { reason } : {}) };
  const servers: Record<string, RealServerPatch> = {};
  for (const rs of realServers) servers[rs] = { manual };
  return { realServers: { [virtualServer]: servers } };
}

export interface ManualRestore {
  virtualServer: string;
  realServer: string;
  action: 'drain' | 'maintenance';
  reason: string;
}

/** Operator states to apply again after a restart, so a server drained for work stays out of service. */
export function manualToRestore(state: PersistedState): ManualRestore[] {
  const out: ManualRestore[] = [];
  for (const [vs, servers] of Object.entries(state.realServers)) {
    for (const [rs, entry] of Object.entries(servers)) {
      if (!entry.manual) continue;
      const since = new Date(entry.manual.since).toISOString();
      out.push({ virtualServer: vs, realServer: rs, action: entry.manual.state, reason: `${entry.manual.state} restored from saved state (set ${since}${entry.manual.reason ? `: ${entry.manual.reason}` : ''})` });
    }
  }
  return out;
}

/**
 * A patch that forgets what the configuration no longer has (virtual servers, real servers, VRRP instances),
 * so renamed or removed objects do not linger in the file or come back as restored drains. Pure.
 */
export function prunePatch(state: PersistedState, virtualServers: Readonly<Record<string, readonly string[]>>, instances: readonly string[]): StatePatch {
  const realServers: NonNullable<StatePatch['realServers']> = {};
  for (const [vs, servers] of Object.entries(state.realServers)) {
    const known = virtualServers[vs];
    if (!known) {
      realServers[vs] = null;
      continue;
    }
    const gone = Object.keys(servers).filter((rs) => !known.includes(rs));
    if (gone.length > 0) realServers[vs] = Object.fromEntries(gone.map((rs) => [rs, null]));
  }
  const vrrp: NonNullable<StatePatch['vrrp']> = {};
  for (const name of Object.keys(state.vrrp)) if (!instances.includes(name)) vrrp[name] = null;
  return { realServers, vrrp };
}
