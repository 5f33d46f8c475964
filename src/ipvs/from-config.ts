import type { LvskeepConfig, RealServerConfig, VirtualServerConfig } from '../config/types.js';
import type { DesiredService, DestSpec, Forwarding, ServiceKey } from './model.js';

/**
 * The configured virtual servers as the desired IPVS table. Health and pool policy are not applied here:
 * every real server appears with its configured weight unless `realServerWeight` (the pool's decision,
 * e.g. 0 when inhibited, null when removed) says otherwise.
 */

const FORWARDING: Record<RealServerConfig['forwarding'], Forwarding> = { nat: 'masq', dr: 'route', tun: 'tunnel' };

export interface FromConfigOptions {
  /** Weight to program for a real server, or null to leave it out of the table; default: the configured weight. */
  realServerWeight?: (vs: VirtualServerConfig, rs: RealServerConfig) => number | null;
}

export function serviceKeyOf(vs: VirtualServerConfig): ServiceKey {
  if (vs.address) return { kind: 'addr', family: vs.address.family, protocol: vs.protocol, address: vs.address.address, port: vs.address.port };
  if (vs.fwmark === undefined) throw new Error(`virtual server ${vs.name}: neither address nor fwmark (the config layer should have rejected it)`);
  return { kind: 'fwmark', family: vs.family === 'inet6' ? 6 : 4, fwmark: vs.fwmark };
}

export function destOf(vs: VirtualServerConfig, rs: RealServerConfig, weight = rs.weight): DestSpec {
  const dest: DestSpec = {
    family: rs.address.family,
    address: rs.address.address,
    port: rs.address.port,
    forwarding: FORWARDING[rs.forwarding],
    weight,
    upperThreshold: rs.upper_threshold,
    lowerThreshold: rs.lower_threshold,
  };
  if (dest.forwarding === 'tunnel') {
    dest.tunnelType = vs.tunnel_type;
    if (vs.tunnel_type === 'gue' && vs.tunnel_port !== undefined) dest.tunnelPort = vs.tunnel_port;
  }
  return dest;
}

export function desiredFromVirtualServer(vs: VirtualServerConfig, opts: FromConfigOptions = {}): DesiredService {
  const key = serviceKeyOf(vs);
  const service: DesiredService = {
    key,
    scheduler: vs.scheduler,
    schedulerFlags: [...vs.scheduler_flags],
    onePacket: vs.one_packet,
    dests: [],
  };
  // The config keeps durations in ms; the kernel keeps persistence in whole seconds.
  if (vs.persistence) service.persistence = { timeout: Math.max(1, Math.round(vs.persistence.timeout / 1000)), netmaskPrefix: vs.persistence.netmask };
  for (const rs of vs.real_servers) {
    const weight = opts.realServerWeight ? opts.realServerWeight(vs, rs) : rs.weight;
    if (weight === null) continue;
    service.dests.push(destOf(vs, rs, weight));
  }
  return service;
}

export function desiredFromConfig(config: Pick<LvskeepConfig, 'virtual_servers'>, opts: FromConfigOptions = {}): DesiredService[] {
  return config.virtual_servers.map((vs) => desiredFromVirtualServer(vs, opts));
}
