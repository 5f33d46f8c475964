// Pure glue between the codec and the state machine, for the daemon: what to put in our adverts, and how a
// received payload becomes either a state-machine event or a counted drop (with HMAC replay state per peer).
import {
  V2_AUTH_NONE,
  V2_AUTH_PASS,
  VRRP_MULTICAST_V4,
  VRRP_MULTICAST_V6,
  decodeAdvert,
  passwordAuthData,
  type AdvertFields,
  type Drop,
  type PacketMeta,
} from './codec.js';
import type { VrrpEvent, VrrpInstanceConfig } from './state-machine.js';
import { validateAdvert, type AdvertAuth, type AdvertExpectations } from './validate.js';

/** Per-instance receive settings that are not part of the election itself. */
export interface ReceiveSettings {
  auth: AdvertAuth;
  /** Unicast peers; undefined for multicast. */
  unicastPeers?: readonly string[];
}

/** The fields of our advert at `priority` (the state machine's send-advert action). */
export function advertFields(config: VrrpInstanceConfig, priority: number, auth: AdvertAuth): AdvertFields {
  const fields: AdvertFields = { version: config.version, vrid: config.vrid, priority, intervalCs: config.intervalCs, addresses: [...config.vips] };
  if (config.version === 2) {
    fields.authType = auth.type === 'pass' ? V2_AUTH_PASS : V2_AUTH_NONE;
    if (auth.type === 'pass') fields.authData = passwordAuthData(auth.password);
  }
  return fields;
}

export function expectations(config: VrrpInstanceConfig, settings: ReceiveSettings): AdvertExpectations {
  const e: AdvertExpectations = {
    name: config.name,
    version: config.version,
    family: config.family,
    vrid: config.vrid,
    addresses: config.vips,
    intervalCs: config.intervalCs,
    auth: settings.auth,
  };
  if (settings.unicastPeers) e.unicastPeers = settings.unicastPeers;
  return e;
}

export function multicastGroup(family: 4 | 6): string {
  return family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6;
}

/** Highest HMAC counter accepted per peer source address. */
export type ReplayState = ReadonlyMap<string, bigint>;

export type Received =
  | { ok: true; event: Extract<VrrpEvent, { type: 'advert-received' }>; replay: ReplayState }
  | (Drop & { replay: ReplayState });

/**
 * Decode and validate one received VRRP payload. `meta.dst` must be the datagram's destination (the v3 checksum
 * covers it); a transport that cannot see it should pass the multicast group, or our own address for unicast.
 */
export function receiveAdvert(payload: Uint8Array, meta: PacketMeta, config: VrrpInstanceConfig, settings: ReceiveSettings, replay: ReplayState): Received {
  const decoded = decodeAdvert(payload, meta);
  if (!decoded.ok) return { ...decoded, replay };
  const advert = decoded.value;
  const verdict = validateAdvert(advert, meta, expectations(config, settings), replay.get(meta.src));
  if (!verdict.ok) return { ...verdict, replay };
  let nextReplay = replay;
  if (verdict.hmacCounter !== undefined) {
    const m = new Map(replay);
    m.set(meta.src, verdict.hmacCounter);
    nextReplay = m;
  }
  return {
    ok: true,
    event: { type: 'advert-received', priority: advert.priority, maxAdvertIntervalCs: advert.intervalCs, src: meta.src },
    replay: nextReplay,
  };
}
