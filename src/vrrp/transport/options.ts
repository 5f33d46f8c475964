/** Pure validation of transport settings: which sockets to open and where adverts go. */
import { isIP } from 'node:net';

import type { IpFamily } from './types.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_MULTICAST_V4 = '224.0.0.18';
export const VRRP_MULTICAST_V6 = 'ff02::12';
export const DEFAULT_UDP_PORT = 1112;
/** RFC 5798: adverts are sent with TTL / hop limit 255 so receivers can reject off-link senders. */
export const VRRP_TTL = 255;

export interface TransportOptions {
  family: IpFamily;
  /** Interface the instance runs on, e.g. "eth0". */
  interface: string;
  /** Our primary address on that interface (IPv6 multicast: the link-local address). */
  source: string;
  /** Unicast peers; empty or absent means multicast to the VRRP group. */
  peers?: readonly string[];
  /** Override of the multicast group (tests; lvskeep-to-lvskeep UDP). */
  multicastGroup?: string;
  /** UDP transport only. */
  udpPort?: number;
}

export interface ResolvedTransportOptions {
  family: IpFamily;
  interface: string;
  source: string;
  mode: 'multicast' | 'unicast';
  group: string;
  /** Where `send()` without a destination goes. */
  destinations: readonly string[];
  udpPort: number;
}

/** Strip an IPv6 "%scope" suffix, which Node sometimes reports and the kernel never wants in text. */
export function stripScope(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

export function isLinkLocalV6(address: string): boolean {
  return isIP(address) === 6 && /^fe[89ab][0-9a-f]?:/i.test(address);
}

export function isMulticast(address: string): boolean {
  if (isIP(address) === 4) {
    const first = Number(address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return isIP(address) === 6 && /^ff/i.test(address);
}

/** Interface names: at most 15 bytes (IFNAMSIZ - 1), no slash, no whitespace. */
export function isValidIfname(name: string): boolean {
  return /^[^\s/:]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

/** Validate and fill defaults; throws an Error naming the offending field. */
export function resolveTransportOptions(opts: TransportOptions): ResolvedTransportOptions {
  const where = `VRRP transport on ${opts.interface}`;
  if (opts.family !== 4 && opts.family !== 6) throw new Error(`${where}: family must be 4 or 6, got ${String(opts.family)}`);
  if (!isValidIfname(opts.interface)) throw new Error(`VRRP transport: interface ${JSON.stringify(opts.interface)} is not a valid interface name`);
  if (isIP(opts.source) !== opts.family) throw new Error(`${where}: source ${JSON.stringify(opts.source)} is not an IPv${opts.family} address`);
  if (isMulticast(opts.source)) throw new Error(`${where}: source ${opts.source} is a multicast address`);
  const peers = opts.peers ?? [];
  for (const [i, peer] of peers.entries()) {
    if (isIP(peer) !== opts.family) throw new Error(`${where}: peers[${i}] ${JSON.stringify(peer)} is not an IPv${opts.family} address`);
    if (isMulticast(peer)) throw new Error(`${where}: peers[${i}] ${peer} is a multicast address; leave peers empty for multicast`);
    if (peer === opts.source) throw new Error(`${where}: peers[${i}] ${peer} is our own source address`);
  }
  const group = opts.multicastGroup ?? (opts.family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6);
  if (isIP(group) !== opts.family || !isMulticast(group)) throw new Error(`${where}: multicastGroup ${JSON.stringify(group)} is not an IPv${opts.family} multicast address`);
  const mode = peers.length > 0 ? 'unicast' : 'multicast';
  // RFC 5798 5.1.2.1: IPv6 adverts carry the link-local source; multicast from a global one is dropped by peers.
  if (opts.family === 6 && mode === 'multicast' && !isLinkLocalV6(opts.source)) {
    throw new Error(`${where}: IPv6 multicast VRRP needs a link-local source (fe80::/10), got ${opts.source}`);
  }
  const udpPort = opts.udpPort ?? DEFAULT_UDP_PORT;
  if (!Number.isInteger(udpPort) || udpPort < 1 || udpPort > 65535) throw new Error(`${where}: udpPort ${String(opts.udpPort)} must be 1..65535`);
  return {
    family: opts.family,
    interface: opts.interface,
    source: opts.source,
    mode,
    group,
    destinations: mode === 'multicast' ? [group] : [...peers],
    udpPort,
  };
}
