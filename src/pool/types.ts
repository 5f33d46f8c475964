/**
 * Input and output types of the pool policy: health and operator states in, desired weights and events out.
 * lvskeep's own types, independent of the config schema (an adapter maps onto them). Durations in ms.
 */

export type OnFailure = 'inhibit' | 'remove';
export type Health = 'up' | 'down';

export interface RealServerConfig {
  /** Stable id, e.g. `198.51.100.11:80`; the reconciler maps it back to a destination. */
  id: string;
  weight: number;
}

export interface FlapConfig {
  /** More state changes than this inside `windowMs` mark the server as flapping. */
  maxChanges: number;
  windowMs: number;
  /** How long a flapping server is held down after its latest change. */
  penaltyMs: number;
}

export interface PoolConfig {
  virtualServer: string;
  realServers: RealServerConfig[];
  /** inhibit: a failed server stays with weight 0 (default); remove: it is taken out of the table. */
  onFailure: OnFailure;
  /** Minimum sum of healthy weights; below it the service has lost quorum. keepalived's default is 1. */
  quorum: number;
  /**
   * Quorum is lost below `quorum` and regained only at quorum + hysteresis, so a server bouncing at the edge
   * does not toggle it. (keepalived applies the band on both sides: lost below quorum - hysteresis.)
   */
  quorumHysteresis: number;
  /** Served instead of the real servers while quorum is lost. */
  sorryServer?: RealServerConfig;
  /** Below this percent of healthy (non-operator-disabled) servers, nobody is ejected. 0 disables. */
  panicThresholdPercent: number;
  /** Ramp a recovered server's weight up over this time. 0 disables. */
  slowStartMs: number;
  /** Time between slow-start steps; default max(1 s, slowStartMs / 10). */
  slowStartStepMs?: number;
  flap?: FlapConfig;
  /** Longest a drain waits for active connections to reach 0. */
  drainTimeoutMs: number;
}

/** Operator-set state that health results do not override; `enable` clears it. */
export type ManualState = 'none' | 'drain' | 'maintenance';
export type ManualAction = 'drain' | 'maintenance' | 'enable';

/** What the pool reports for a real server, in events and status output. */
export type RealServerStatus = 'up' | 'slow-start' | 'down' | 'flapping' | 'draining' | 'drained' | 'maintenance';

export type PoolInput =
  | { kind: 'health'; realServer: string; health: Health; reason: string; weight?: number }
  | { kind: 'manual'; realServer: string; action: ManualAction; reason?: string }
  /** ActiveConn of the destination as the kernel reports it; ends a drain at 0. */
  | { kind: 'active-conns'; realServer: string; activeConns: number }
  /** Time passed (the daemon ticks at `nextChangeAt`). */
  | { kind: 'tick' };

export interface DesiredDest {
  id: string;
  weight: number;
  /** True for the sorry server. */
  sorry: boolean;
}

export type PoolEventType =
  | 'real-server-state'
  | 'quorum-lost'
  | 'quorum-regained'
  | 'sorry-on'
  | 'sorry-off'
  | 'panic-entered'
  | 'panic-left'
  | 'input-ignored';

export interface PoolEvent {
  type: PoolEventType;
  virtualServer: string;
  /** null for service-wide events (quorum, panic). */
  realServer: string | null;
  from: string;
  to: string;
  reason: string;
  /** Time spent in `from`. */
  durationMs: number;
  at: number;
}
