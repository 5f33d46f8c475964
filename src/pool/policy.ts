/**
 * Pool policy, pure: (config, state, input, now) -> (state, events, desired weights, next time to look again).
 *
 * Precedence, highest first, for a real server: operator state (maintenance, drain) > flap hold > health >
 * slow start. Service-wide: a lost quorum with a sorry server sends all new traffic to the sorry server (as
 * keepalived does); otherwise panic keeps every non-operator-disabled server at its weight; otherwise failed
 * servers are inhibited (weight 0) or removed.
 */
import { isHeld, NO_FLAP, recordChange, type FlapState } from './flap.js';
import { nextRampChange, rampOf, rampWeight } from './slow-start.js';
import type {
  DesiredDest,
  Health,
  ManualState,
  PoolConfig,
  PoolEvent,
  PoolEventType,
  PoolInput,
  RealServerConfig,
  RealServerStatus,
} from './types.js';

export interface RealServerState {
  health: Health;
  healthReason: string;
  /** Weight reported by a dynamic-weight check; overrides the configured weight while set. */
  dynamicWeight?: number;
  manual: ManualState;
  manualReason: string;
  /** Drain: when it began, and the latest ActiveConn seen since then. */
  drainStartedAt: number;
  activeConns?: number;
  flap: FlapState;
  /** When the current slow-start ramp began. */
  rampStartedAt: number;
  status: RealServerStatus;
  statusSince: number;
}

export interface PoolState {
  servers: Record<string, RealServerState>;
  quorumUp: boolean;
  quorumSince: number;
  sorryActive: boolean;
  sorrySince: number;
  panic: boolean;
  panicSince: number;
}

export interface PoolStep {
  state: PoolState;
  events: PoolEvent[];
  desired: DesiredDest[];
  /** When weights or statuses next change by the passage of time alone; tick the pool then. */
  nextChangeAt?: number;
}

const HEALTHY: ReadonlySet<RealServerStatus> = new Set(['up', 'slow-start']);
const OPERATOR: ReadonlySet<RealServerStatus> = new Set(['draining', 'drained', 'maintenance']);

function fullWeight(cfg: RealServerConfig, s: RealServerState): number {
  return s.dynamicWeight ?? cfg.weight;
}

/** Status of one server from its raw fields; `prev` decides whether a recovery starts a slow-start ramp. */
function derive(
  config: PoolConfig,
  s: RealServerState,
  now: number,
): { status: RealServerStatus; reason: string; rampStartedAt: number } {
  const keep = s.rampStartedAt;
  if (s.manual === 'maintenance') return { status: 'maintenance', reason: s.manualReason, rampStartedAt: keep };
  if (s.manual === 'drain') {
    if (s.status === 'drained') return { status: 'drained', reason: s.manualReason, rampStartedAt: keep };
    if (s.activeConns === 0) return { status: 'drained', reason: 'drain finished: no active connections left', rampStartedAt: keep };
    if (now >= s.drainStartedAt + config.drainTimeoutMs) {
      const left = s.activeConns === undefined ? 'unknown' : String(s.activeConns);
      return { status: 'drained', reason: `drain timeout after ${config.drainTimeoutMs} ms (${left} active connections left)`, rampStartedAt: keep };
    }
    return { status: 'draining', reason: s.manualReason, rampStartedAt: keep };
  }
  if (isHeld(s.flap, now)) {
    const n = s.flap.changes.length;
    return { status: 'flapping', reason: `${n} state changes within ${config.flap?.windowMs ?? 0} ms, held down until ${s.flap.heldUntil}`, rampStartedAt: keep };
  }
  if (s.health === 'down') return { status: 'down', reason: s.healthReason, rampStartedAt: keep };
  if (config.slowStartMs <= 0) return { status: 'up', reason: s.healthReason, rampStartedAt: keep };
  const recovering = !HEALTHY.has(s.status);
  const rampStartedAt = recovering ? now : keep;
  if (now < rampStartedAt + config.slowStartMs) {
    return { status: 'slow-start', reason: `${s.healthReason} (slow start over ${config.slowStartMs} ms)`, rampStartedAt };
  }
  return { status: 'up', reason: s.status === 'slow-start' ? 'slow start complete' : s.healthReason, rampStartedAt };
}

function event(
  config: PoolConfig,
  type: PoolEventType,
  realServer: string | null,
  from: string,
  to: string,
  reason: string,
  since: number,
  now: number,
): PoolEvent {
  return { type, virtualServer: config.virtualServer, realServer, from, to, reason, durationMs: Math.max(0, now - since), at: now };
}

/** Initial state: servers missing from `health` start down (no evidence yet); initial states do not ramp. */
export function initialPoolState(config: PoolConfig, health: Record<string, Health>, now: number): PoolState {
  const servers: Record<string, RealServerState> = {};
  for (const rs of config.realServers) {
    const h = health[rs.id] ?? 'down';
    servers[rs.id] = {
      health: h,
      healthReason: health[rs.id] ? `initial state ${h}` : 'no check result yet',
      manual: 'none',
      manualReason: '',
      drainStartedAt: 0,
      flap: NO_FLAP,
      rampStartedAt: Number.NEGATIVE_INFINITY,
      status: h,
      statusSince: now,
    };
  }
  const base: PoolState = { servers, quorumUp: true, quorumSince: now, sorryActive: false, sorrySince: now, panic: false, panicSince: now };
  const alive = aliveWeight(config, base);
  const quorumUp = alive >= config.quorum;
  const panic = panicVerdict(config, base).panic;
  return { ...base, quorumUp, sorryActive: !quorumUp && config.sorryServer !== undefined, panic };
}

/**
 * Carry state over a configuration reload: servers still configured keep health, operator state, flap
 * history and ramp; new ones start from `health` (down when absent); removed ones are dropped. Follow with a
 * `tick` step to get the events and weights under the new configuration.
 */
export function carryOver(config: PoolConfig, prev: PoolState, health: Record<string, Health>, now: number): PoolState {
  const fresh = initialPoolState(config, health, now);
  const servers: Record<string, RealServerState> = {};
  for (const rs of config.realServers) {
    const kept = prev.servers[rs.id];
    const initial = fresh.servers[rs.id];
    if (kept) servers[rs.id] = { ...kept };
    else if (initial) servers[rs.id] = initial;
  }
  return { ...prev, servers };
}

function aliveWeight(config: PoolConfig, state: PoolState): number {
  let sum = 0;
  for (const rs of config.realServers) {
    const s = state.servers[rs.id];
    if (s && HEALTHY.has(s.status)) sum += fullWeight(rs, s);
  }
  return sum;
}

function panicVerdict(config: PoolConfig, state: PoolState): { panic: boolean; reason: string } {
  let eligible = 0;
  let healthy = 0;
  for (const rs of config.realServers) {
    const s = state.servers[rs.id];
    if (!s || OPERATOR.has(s.status)) continue; // operator-disabled servers are intentional, not failures
    eligible++;
    if (HEALTHY.has(s.status)) healthy++;
  }
  const pct = eligible === 0 ? 100 : (healthy * 100) / eligible;
  const panic = config.panicThresholdPercent > 0 && eligible > 0 && pct < config.panicThresholdPercent;
  return { panic, reason: `${healthy} of ${eligible} real servers healthy (${Math.round(pct)}%), panic threshold ${config.panicThresholdPercent}%` };
}

/** Apply one input to the raw fields of a server; returns an event when the input cannot apply. */
function applyInput(config: PoolConfig, state: PoolState, input: PoolInput, now: number): PoolEvent | undefined {
  if (input.kind === 'tick') return undefined;
  const s = state.servers[input.realServer];
  if (!s) {
    return event(config, 'input-ignored', input.realServer, '', '', `${input.kind} input for unknown real server ${input.realServer}`, now, now);
  }
  switch (input.kind) {
    case 'health': {
      if (input.health !== s.health) s.flap = recordChange(s.flap, config.flap, now);
      s.health = input.health;
      s.healthReason = input.reason;
      if (input.weight !== undefined) s.dynamicWeight = input.weight;
      return undefined;
    }
    case 'active-conns':
      if (Number.isFinite(input.activeConns) && input.activeConns >= 0) s.activeConns = input.activeConns;
      return undefined;
    case 'manual':
      if (input.action === 'enable') {
        s.manual = 'none';
        s.manualReason = input.reason ?? 'enabled by operator';
      } else if (input.action === 'drain') {
        if (s.manual !== 'drain') {
          s.drainStartedAt = now;
          delete s.activeConns; // only a count seen after the drain began can end it
        }
        s.manual = 'drain';
        s.manualReason = input.reason ?? 'drain requested by operator';
      } else {
        s.manual = 'maintenance';
        s.manualReason = input.reason ?? 'maintenance set by operator';
      }
      return undefined;
  }
}

function cloneState(state: PoolState): PoolState {
  const servers: Record<string, RealServerState> = {};
  for (const [id, s] of Object.entries(state.servers)) servers[id] = { ...s };
  return { ...state, servers };
}

export function step(config: PoolConfig, prev: PoolState, input: PoolInput, now: number): PoolStep {
  const state = cloneState(prev);
  const events: PoolEvent[] = [];
  const ignored = applyInput(config, state, input, now);
  if (ignored) events.push(ignored);

  for (const rs of config.realServers) {
    const s = state.servers[rs.id];
    if (!s) continue;
    const d = derive(config, s, now);
    s.rampStartedAt = d.rampStartedAt;
    if (d.status !== s.status) {
      events.push(event(config, 'real-server-state', rs.id, s.status, d.status, d.reason, s.statusSince, now));
      s.status = d.status;
      s.statusSince = now;
    }
  }

  const pv = panicVerdict(config, state);
  if (pv.panic !== state.panic) {
    events.push(event(config, pv.panic ? 'panic-entered' : 'panic-left', null, state.panic ? 'panic' : 'normal', pv.panic ? 'panic' : 'normal', pv.reason, state.panicSince, now));
    state.panic = pv.panic;
    state.panicSince = now;
  }

  const alive = aliveWeight(config, state);
  if (state.quorumUp && alive < config.quorum) {
    events.push(event(config, 'quorum-lost', null, 'up', 'down', `healthy weight ${alive} < quorum ${config.quorum}`, state.quorumSince, now));
    state.quorumUp = false;
    state.quorumSince = now;
  } else if (!state.quorumUp && alive >= config.quorum + config.quorumHysteresis) {
    const need = config.quorum + config.quorumHysteresis;
    events.push(event(config, 'quorum-regained', null, 'down', 'up', `healthy weight ${alive} >= quorum ${config.quorum} + hysteresis ${config.quorumHysteresis} (${need})`, state.quorumSince, now));
    state.quorumUp = true;
    state.quorumSince = now;
  }

  const sorry = config.sorryServer;
  const sorryActive = sorry !== undefined && !state.quorumUp;
  if (sorry && sorryActive !== state.sorryActive) {
    const reason = sorryActive ? `quorum lost (healthy weight ${alive} < ${config.quorum})` : `quorum regained (healthy weight ${alive})`;
    events.push(event(config, sorryActive ? 'sorry-on' : 'sorry-off', sorry.id, state.sorryActive ? 'on' : 'off', sorryActive ? 'on' : 'off', reason, state.sorrySince, now));
    state.sorryActive = sorryActive;
    state.sorrySince = now;
  }

  return { state, events, desired: desiredDests(config, state, now), ...nextChange(config, state, now) };
}

/** Weight of a server, or undefined when it must be absent from the table. */
function destWeight(config: PoolConfig, rs: RealServerConfig, s: RealServerState, state: PoolState, now: number): number | undefined {
  const failed = config.onFailure === 'remove' ? undefined : 0;
  switch (s.status) {
    case 'draining':
      return 0; // stays in the table so its ActiveConn can be watched
    case 'drained':
    case 'maintenance':
      return failed;
    default:
      break;
  }
  if (state.sorryActive) return failed;
  const full = fullWeight(rs, s);
  if (s.status === 'up') return full;
  if (s.status === 'slow-start') return rampWeight(full, now - s.rampStartedAt, rampOf(config.slowStartMs, config.slowStartStepMs));
  return state.panic ? full : failed; // down or flapping
}

export function desiredDests(config: PoolConfig, state: PoolState, now: number): DesiredDest[] {
  const out: DesiredDest[] = [];
  for (const rs of config.realServers) {
    const s = state.servers[rs.id];
    if (!s) continue;
    const w = destWeight(config, rs, s, state, now);
    if (w !== undefined) out.push({ id: rs.id, weight: w, sorry: false });
  }
  if (state.sorryActive && config.sorryServer) out.push({ id: config.sorryServer.id, weight: config.sorryServer.weight, sorry: true });
  return out;
}

function nextChange(config: PoolConfig, state: PoolState, now: number): { nextChangeAt?: number } {
  let next = Number.POSITIVE_INFINITY;
  const ramp = rampOf(config.slowStartMs, config.slowStartStepMs);
  for (const rs of config.realServers) {
    const s = state.servers[rs.id];
    if (!s) continue;
    if (s.status === 'slow-start') {
      const at = nextRampChange(fullWeight(rs, s), now - s.rampStartedAt, ramp);
      if (at !== undefined) next = Math.min(next, s.rampStartedAt + at);
    } else if (s.status === 'flapping') {
      next = Math.min(next, s.flap.heldUntil);
    } else if (s.status === 'draining') {
      next = Math.min(next, s.drainStartedAt + config.drainTimeoutMs);
    }
  }
  return Number.isFinite(next) ? { nextChangeAt: next } : {};
}
