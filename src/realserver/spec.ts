/**
 * What a DR or TUN real server needs, as pure data: the VIPs (host routes on lo or tunl0) and the sysctls.
 * The guides' shell scripts do the same with ifconfig/route/echo; see docs/realserver.md.
 */
import { isIP } from 'node:net';

import { confKey } from './sysctl.js';
import type { SysctlSetting } from './sysctl-plan.js';

export type RealserverMode = 'dr' | 'tun';

export interface RealserverRequest {
  vips: readonly string[];
  mode: RealserverMode;
  /** Default: lo for DR, tunl0 for TUN. */
  dev?: string;
}

export interface RealserverVip {
  address: string;
  /** Always a host route: 32 or 128. A wider prefix on lo would make lo claim the whole subnet. */
  prefix: number;
  family: 4 | 6;
}

export interface RealserverSpec {
  mode: RealserverMode;
  dev: string;
  vips: RealserverVip[];
}

export const TUNNEL_DEV = 'tunl0';
const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;

export function defaultDev(mode: RealserverMode): string {
  return mode === 'tun' ? TUNNEL_DEV : 'lo';
}

/** Validate the command-line request; every message names the offending --vip, --mode or --dev. */
export function resolveRequest(req: RealserverRequest): RealserverSpec {
  if (req.mode !== 'dr' && req.mode !== 'tun') throw new Error(`--mode ${JSON.stringify(req.mode)}: expected dr or tun`);
  const dev = req.dev ?? defaultDev(req.mode);
  if (!IFNAME.test(dev)) throw new Error(`--dev ${JSON.stringify(dev)}: not an interface name`);
  if (req.vips.length === 0) throw new Error('--vip: give at least one virtual IP address');
  const vips: RealserverVip[] = [];
  for (const raw of req.vips) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(raw.trim());
    const address = m?.[1] ?? '';
    const family = isIP(address);
    if (!m || family === 0) throw new Error(`--vip ${JSON.stringify(raw)}: not an IPv4 or IPv6 address`);
    const hostPrefix = family === 4 ? 32 : 128;
    if (m[2] !== undefined && Number(m[2]) !== hostPrefix) {
      throw new Error(`--vip ${raw}: a real server holds the VIP as a host address (/${hostPrefix}); a wider prefix would claim the subnet`);
    }
    if (family === 6 && req.mode === 'tun') throw new Error(`--vip ${raw}: TUN mode handles IPv4 (ipip on tunl0) only`);
    const canonical = family === 6 ? address.toLowerCase() : address;
    if (vips.some((v) => v.address === canonical)) throw new Error(`--vip ${raw}: given twice`);
    vips.push({ address: canonical, prefix: hostPrefix, family: family === 4 ? 4 : 6 });
  }
  return { mode: req.mode, dev, vips };
}

/**
 * The sysctls a real server needs. Why each one:
 * - arp_ignore=1: answer ARP only for addresses configured on the interface the request came in on. Linux
 *   by default answers for any local address on any interface, so eth0 would answer for the VIP on lo and
 *   steal the VIP's traffic from the director.
 * - arp_announce=2: use the outgoing interface's own address as the source of ARP requests, never the VIP,
 *   so neighbours do not learn "VIP is at the real server's MAC".
 * The kernel applies max(conf/all, conf/<interface>) for both, so conf/all is what covers eth0 and every
 * other interface. ARP never arrives on lo; the lo (or tunl0) entries repeat what the guides set, so that a
 * reader comparing with their scripts finds every line, and they are harmless.
 * - TUN: rp_filter=0 on tunl0 and all. Decapsulated packets arrive on tunl0 with the client as source; the
 *   route back to the client goes via eth0, so strict reverse-path filtering (max(all, dev) again) drops them.
 * IPv6 needs no equivalent: Linux answers neighbour solicitations only for addresses on the receiving interface.
 */
export function wantedSysctls(spec: { mode: RealserverMode; dev: string; hasIpv4: boolean }): SysctlSetting[] {
  if (!spec.hasIpv4) return [];
  const out: SysctlSetting[] = [];
  for (const dev of ['all', spec.dev]) {
    out.push({ key: confKey(4, dev, 'arp_ignore'), value: '1', why: 'reply to ARP only for addresses on the receiving interface (not the VIP)' });
    out.push({ key: confKey(4, dev, 'arp_announce'), value: '2', why: 'never use the VIP as the source of ARP requests' });
  }
  if (spec.mode === 'tun') {
    for (const dev of ['all', spec.dev]) {
      out.push({ key: confKey(4, dev, 'rp_filter'), value: '0', why: 'accept decapsulated packets whose source is routed via another interface' });
    }
  }
  return out;
}

/** `lo:0`, `lo:1`, ...: the first numeric label on `dev` not taken by an existing address; undefined when none fits 15 bytes. */
export function allocateLabel(dev: string, taken: ReadonlySet<string>): string | undefined {
  for (let n = 0; n < 10_000; n += 1) {
    const label = `${dev}:${n}`;
    if (label.length > 15) return undefined;
    if (!taken.has(label)) return label;
  }
  return undefined;
}
