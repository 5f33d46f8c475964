/**
 * The IPVS table as lvskeep models it. Shared by every backend (netlink, ipvsadm, memory), the reconciler and
 * the CLI. Addresses are kept as canonical strings (IPv6 compressed, lower case) so that equality is string
 * equality and a diff never flaps on formatting.
 */

export type Family = 4 | 6;
export type Protocol = 'tcp' | 'udp' | 'sctp';
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
/** sh and mh take flags (ipvsadm -b): the kernel's SCHED1..SCHED3 bits. */
export type SchedulerFlag = 'sh-fallback' | 'sh-port' | 'mh-fallback' | 'mh-port';
export type Forwarding = 'masq' | 'route' | 'tunnel' | 'local';
export type TunnelType = 'ipip' | 'gue' | 'gre';
/** GUE/GRE checksum mode (ipvsadm --tun-nocsum/--tun-csum/--tun-remcsum); the kernel's default is nocsum. */
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** A virtual service is either address+port+protocol or a firewall mark (with an address family). */
export type ServiceKey =
  | { kind: 'addr'; family: Family; protocol: Protocol; address: string; port: number }
  | { kind: 'fwmark'; family: Family; fwmark: number };

export interface Persistence {
  /** Seconds, as the kernel keeps it. */
  timeout: number;
  /** IPv4: dotted netmask as a prefix length 0..32; IPv6: prefix length 0..128. */
  netmaskPrefix: number;
  /**
   * Read-back only: a non-contiguous IPv4 mask such as 255.0.255.0, which ipvsadm and the kernel accept but
   * a prefix cannot express; netmaskPrefix is then -1, so it never equals a configured mask.
   */
  rawNetmask?: string;
}

export interface ServiceSpec {
  key: ServiceKey;
  scheduler: string; // not narrowed to Scheduler: the kernel may know schedulers we do not, and read-back must keep them
  schedulerFlags: SchedulerFlag[];
  persistence?: Persistence;
  onePacket: boolean;
}

export interface DestKey {
  family: Family;
  address: string;
  port: number;
}

export interface DestSpec extends DestKey {
  forwarding: Forwarding;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  /** Only meaningful for gue/gre tunnels; absent means the kernel default (nocsum). */
  tunnelChecksum?: TunnelChecksum;
}

export interface Stats {
  conns: number;
  inPackets: number;
  outPackets: number;
  inBytes: number;
  outBytes: number;
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface DestState extends DestSpec {
  activeConns: number;
  inactiveConns: number;
  persistConns: number;
  stats?: Stats;
}

export interface ServiceState extends ServiceSpec {
  dests: DestState[];
  stats?: Stats;
}

export interface DesiredService extends ServiceSpec {
  dests: DestSpec[];
}

/** Stable text id of a service, e.g. `tcp 203.0.113.1:80`, `fwmark 7`, `fwmark 7 inet6`. */
export function serviceId(key: ServiceKey): string {
  if (key.kind === 'fwmark') return key.family === 6 ? `fwmark ${key.fwmark} inet6` : `fwmark ${key.fwmark}`;
  return `${key.protocol} ${endpointText(key.family, key.address, key.port)}`;
}

/** `198.51.100.11:80` or `[2001:db8::11]:80`. */
export function endpointText(family: Family, address: string, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function destId(d: DestKey): string {
  return endpointText(d.family, d.address, d.port);
}
