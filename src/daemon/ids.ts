/** The text ids the daemon keys everything by: the same forms events, logs and the reconciler use. */
import type { RealServerConfig, VirtualServerConfig } from '../config/types.js';
import type { Endpoint } from '../config/address.js';
import { serviceKeyOf } from '../ipvs/from-config.js';
import { destId, serviceId } from '../ipvs/model.js';

/** `tcp 203.0.113.1:80`, `fwmark 7`. */
export function vsId(vs: VirtualServerConfig): string {
  return serviceId(serviceKeyOf(vs));
}

/** `198.51.100.11:80`, `[2001:db8::11]:80`. */
export function endpointId(ep: Endpoint): string {
  return destId({ family: ep.family, address: ep.address, port: ep.port });
}

export function rsId(rs: RealServerConfig): string {
  return endpointId(rs.address);
}

/** One health check: `tcp 203.0.113.1:80 -> 198.51.100.11:80`. */
export function checkId(vs: string, rs: string): string {
  return `${vs} -> ${rs}`;
}
