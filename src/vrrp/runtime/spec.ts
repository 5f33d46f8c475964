// Pure mapping from one validated `vrrp.instances[]` entry (config/types.ts) to what the runtime needs: the
// state machine's config, receive settings, the VIPs as the VipManager sees them, GARP timing and transport
// options. The only input from the host is our primary address on the interface, resolved by the adapter.
import { createHash } from 'node:crypto';

import type { VrrpInstanceConfig as InstanceConfigFromFile } from '../../config/types.js';
import type { AnnounceTiming } from '../../vip/announce.js';
import type { Vip } from '../../vip/types.js';
import type { ReceiveSettings } from '../advert-pipeline.js';
import type { VrrpInstanceConfig } from '../state-machine.js';
import type { AdvertAuth } from '../validate.js';
import type { TransportOptions } from '../transport/options.js';

export interface InstanceSpec {
  name: string;
  interface: string;
  machine: VrrpInstanceConfig;
  receive: ReceiveSettings;
  /** Key used to sign our adverts when auth.type is hmac. */
  hmacKey?: { keyId: number; key: Uint8Array };
  vips: Vip[];
  garp: AnnounceTiming;
  transportKind: 'raw' | 'udp';
  transport: TransportOptions;
  /** Where multicast adverts go, or the unicast peers. */
  destinations: string[];
}

/** The HMAC key is derived from the configured secret so any length of secret gives a 32-byte key. */
export function hmacKeyFromSecret(secret: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`lvskeep-vrrp-hmac\0${secret}`).digest());
}

export function authFromConfig(auth: InstanceConfigFromFile['auth']): { receive: AdvertAuth; hmacKey?: { keyId: number; key: Uint8Array } } {
  if (auth.type === 'pass') return { receive: { type: 'pass', password: auth.secret ?? '' } };
  if (auth.type === 'hmac') {
    const key = hmacKeyFromSecret(auth.secret ?? '');
    return { receive: { type: 'hmac', keys: new Map([[0, key]]) }, hmacKey: { keyId: 0, key } };
  }
  return { receive: { type: 'none' } };
}

export function vipsFromConfig(c: InstanceConfigFromFile): Vip[] {
  return c.virtual_ips.map((v) => {
    const vip: Vip = { address: v.address.address, prefix: v.address.prefix, dev: v.dev ?? c.interface };
    if (v.label !== undefined) vip.label = v.label;
    return vip;
  });
}

/** keepalived's garp_master_delay/repeat/refresh; `repeat 0` still sends one announcement. */
export function garpTiming(g: InstanceConfigFromFile['garp']): AnnounceTiming {
  return { delayMs: g.delay, repeat: Math.max(1, g.repeat), intervalMs: g.interval, refreshMs: g.refresh === 0 ? 0 : Math.max(100, g.refresh) };
}

export function instanceFamily(c: InstanceConfigFromFile): 4 | 6 {
  return c.virtual_ips[0]?.address.family ?? 4;
}

/**
 * Build the runtime spec. `primaryAddress` is the advert source: unicast_source when configured, else the
 * interface's primary address of the instance's family (IPv6 multicast: its link-local address).
 */
export function buildInstanceSpec(c: InstanceConfigFromFile, primaryAddress: string): InstanceSpec {
  const family = instanceFamily(c);
  const vips = vipsFromConfig(c);
  const auth = authFromConfig(c.auth);
  const peers = c.unicast_peers.map((p) => p.address);
  const group = family === 4 ? '224.0.0.18' : 'ff02::12';
  const machine: VrrpInstanceConfig = {
    name: c.name,
    version: c.version,
    family,
    vrid: c.virtual_router_id,
    priority: c.priority,
    intervalCs: Math.round(c.advert_interval / 10),
    preempt: c.preempt,
    preemptDelayMs: c.preempt_delay,
    acceptMode: c.accept,
    primaryAddress,
    vips: vips.map((v) => v.address),
  };
  const receive: ReceiveSettings = { auth: auth.receive };
  if (peers.length > 0) receive.unicastPeers = peers;
  const transport: TransportOptions = { family, interface: c.interface, source: primaryAddress };
  if (peers.length > 0) transport.peers = peers;
  if (c.transport === 'udp') transport.udpPort = c.udp_port;
  const spec: InstanceSpec = {
    name: c.name,
    interface: c.interface,
    machine,
    receive,
    vips,
    garp: garpTiming(c.garp),
    transportKind: c.transport === 'udp' ? 'udp' : 'raw',
    transport,
    destinations: peers.length > 0 ? peers : [group],
  };
  if (auth.hmacKey) spec.hmacKey = auth.hmacKey;
  return spec;
}

/** Pick the advert source among the interface's addresses: not one of our VIPs; link-local for IPv6 multicast. */
export function choosePrimaryAddress(c: InstanceConfigFromFile, onInterface: readonly { address: string }[]): string | undefined {
  if (c.unicast_source) return c.unicast_source.address;
  const family = instanceFamily(c);
  const vipSet = new Set(c.virtual_ips.map((v) => v.address.address.toLowerCase()));
  const candidates = onInterface
    .map((a) => a.address.toLowerCase())
    .filter((a) => (family === 4 ? !a.includes(':') : a.includes(':')) && !vipSet.has(a));
  if (family === 6 && c.unicast_peers.length === 0) return candidates.find((a) => /^fe[89ab]/.test(a));
  return candidates[0];
}
