/** Adapter from a validated virtual server (src/config) to the pool policy's own config type (src/pool). */
import type { VirtualServerConfig } from '../config/types.js';
import type { PoolConfig } from '../pool/types.js';
import { endpointId, rsId, vsId } from './ids.js';

/** The sorry server takes all new traffic while quorum is lost; it gets weight 1 (any non-zero would do). */
export const SORRY_WEIGHT = 1;

export function poolConfigFromVirtualServer(vs: VirtualServerConfig): PoolConfig {
  const cfg: PoolConfig = {
    virtualServer: vsId(vs),
    realServers: vs.real_servers.map((rs) => ({ id: rsId(rs), weight: rs.weight })),
    onFailure: vs.on_failure,
    quorum: vs.quorum,
    quorumHysteresis: vs.quorum_hysteresis,
    panicThresholdPercent: vs.panic_threshold,
    slowStartMs: vs.slow_start,
    drainTimeoutMs: vs.drain_timeout,
  };
  if (vs.sorry_server) cfg.sorryServer = { id: endpointId(vs.sorry_server), weight: SORRY_WEIGHT };
  if (vs.flap.max_changes > 0) cfg.flap = { maxChanges: vs.flap.max_changes, windowMs: vs.flap.window, penaltyMs: vs.flap.penalty };
  return cfg;
}
