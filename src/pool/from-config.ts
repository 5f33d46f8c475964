/** Adapter from a parsed virtual server (src/config) to the pool policy's own config. Pure. */
import { formatEndpoint } from '../config/address.js';
import type { VirtualServerConfig } from '../config/types.js';
import type { Health, PoolConfig } from './types.js';

/** Real servers are identified by their endpoint text, as the IPVS model's destId writes it. */
export function poolConfigOf(vs: VirtualServerConfig): PoolConfig {
  const config: PoolConfig = {
    virtualServer: vs.name,
    realServers: vs.real_servers.map((rs) => ({ id: formatEndpoint(rs.address), weight: rs.weight })),
    onFailure: vs.on_failure,
    quorum: vs.quorum,
    quorumHysteresis: vs.quorum_hysteresis,
    panicThresholdPercent: vs.panic_threshold,
    slowStartMs: vs.slow_start,
    drainTimeoutMs: vs.drain_timeout,
  };
  if (vs.sorry_server) config.sorryServer = { id: formatEndpoint(vs.sorry_server), weight: 1 };
  if (vs.flap.max_changes > 0) config.flap = { maxChanges: vs.flap.max_changes, windowMs: vs.flap.window, penaltyMs: vs.flap.penalty };
  return config;
}

/** Initial health: a real server without a check is always up; one with a check starts as it `assume`s. */
export function initialHealthOf(vs: VirtualServerConfig): Record<string, Health> {
  const out: Record<string, Health> = {};
  for (const rs of vs.real_servers) out[formatEndpoint(rs.address)] = rs.check ? rs.check.assume : 'up';
  return out;
}
