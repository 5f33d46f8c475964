// Checks of a decoded advert against the receiving instance's configuration (RFC 5798 section 7.1, RFC 3768
// section 7.1), in keepalived 2.2.7's order so both daemons drop the same packets for the same reasons.
import { timingSafeEqual } from 'node:crypto';
import {
  V2_AUTH_NONE,
  V2_AUTH_PASS,
  VRRP_TTL,
  drop,
  expectedMac,
  passwordAuthData,
  type Drop,
  type DropReason,
  type PacketMeta,
  type VrrpAdvert,
  type VrrpVersion,
} from './codec.js';
import { macEquals } from './hmac-trailer.js';
import { isIPv6LinkLocal, isMulticast, sameIp, type IpFamily } from '../net/ip.js';

export type AdvertAuth =
  | { type: 'none' }
  /** VRRPv2 simple password (RFC 2338 type 1); keepalived's `auth_type PASS`. Only the first 8 bytes count. */
  | { type: 'pass'; password: string }
  /** lvskeep-only HMAC trailer; keys by key id so a rotation can accept old and new for a while. */
  | { type: 'hmac'; keys: ReadonlyMap<number, Uint8Array> };

/** What the receiving instance expects: a subset of its configuration. */
export interface AdvertExpectations {
  name: string;
  version: VrrpVersion;
  family: IpFamily;
  vrid: number;
  /** The instance's VIPs; an advert must list exactly these (any order). */
  addresses: readonly string[];
  /** Our advert interval in centiseconds: VRRPv2 drops adverts whose interval differs. */
  intervalCs: number;
  /** Set for unicast instances: adverts must come from one of these and must not be multicast. */
  unicastPeers?: readonly string[];
  auth: AdvertAuth;
}

export interface Accepted {
  ok: true;
  /** For HMAC: the counter to remember as the peer's latest (the caller stores it per source address). */
  hmacCounter?: bigint;
}

/**
 * `lastCounter` is the highest HMAC counter already accepted from `meta.src` (undefined if none yet).
 * Pure: the caller owns the per-peer replay state and the drop counters.
 */
export function validateAdvert(advert: VrrpAdvert, meta: PacketMeta, instance: AdvertExpectations, lastCounter?: bigint): Accepted | Drop {
  const unicast = instance.unicastPeers !== undefined;
  // RFC 5798 7.1: TTL/hop limit must be 255. keepalived skips the check for unicast (routers may be hops apart).
  if (!unicast && meta.ttl !== undefined && meta.ttl !== VRRP_TTL) {
    return drop('bad-ttl', `${meta.family === 4 ? 'TTL' : 'hop limit'} ${meta.ttl}, must be ${VRRP_TTL}`);
  }
  if (advert.family !== instance.family) return drop('bad-version', `IPv${advert.family} advert for an IPv${instance.family} instance`);
  if (advert.version !== instance.version) return drop('bad-version', `version ${advert.version}, instance ${instance.name} speaks ${instance.version}`);
  if (advert.vrid !== instance.vrid) return drop('bad-vrid', `VRID ${advert.vrid}, instance ${instance.name} is VRID ${instance.vrid}`);

  if (advert.version === 2) {
    const authDrop = checkV2Auth(advert, instance.auth);
    if (authDrop) return authDrop;
    if (advert.intervalCs !== instance.intervalCs) {
      // keepalived drops these to avoid two masters with different timers in one VRID.
      return drop('interval-mismatch', `advert interval ${advert.intervalCs / 100} s, ours ${instance.intervalCs / 100} s`);
    }
  }

  if (advert.addresses.length !== instance.addresses.length) {
    return drop('bad-count', `count ${advert.addresses.length} addresses, instance ${instance.name} has ${instance.addresses.length}`);
  }

  const multicastDst = isMulticast(meta.dst);
  if (multicastDst === unicast) {
    return drop('bad-destination', `${multicastDst ? 'multicast' : 'unicast'} destination ${meta.dst}, instance ${instance.name} is ${unicast ? 'unicast' : 'multicast'}`);
  }
  if (unicast && !(instance.unicastPeers ?? []).some((p) => sameIp(p, meta.src))) {
    return drop('unknown-peer', `source ${meta.src} is not a configured unicast peer of ${instance.name}`);
  }
  // RFC 5798 5.1.2.1: the IPv6 source is the interface's link-local address.
  if (advert.family === 6 && !unicast && !isIPv6LinkLocal(meta.src)) {
    return drop('bad-source', `source ${meta.src} is not an IPv6 link-local address`);
  }

  for (const vip of instance.addresses) {
    if (!advert.addresses.some((a) => sameIp(a, vip))) {
      return drop('addresses-mismatch', `address ${vip} of VRID ${instance.vrid} missing from advert [${advert.addresses.join(', ')}]`);
    }
  }

  return checkHmac(advert, meta, instance.auth, lastCounter);
}

function checkV2Auth(advert: VrrpAdvert, auth: AdvertAuth): Drop | undefined {
  const authType = advert.authType ?? V2_AUTH_NONE;
  // With the HMAC trailer the v2 Auth Type field is 0; the trailer is checked later.
  const expectedType = auth.type === 'pass' ? V2_AUTH_PASS : V2_AUTH_NONE;
  if (authType !== V2_AUTH_NONE && authType !== V2_AUTH_PASS) {
    return drop('bad-auth-type', `auth type ${authType} not supported (0 none, 1 simple password)`);
  }
  if (authType !== expectedType) return drop('auth-mismatch', `auth type ${authType}, expected ${expectedType}`);
  if (auth.type === 'pass') {
    const want = passwordAuthData(auth.password);
    const got = advert.authData ?? new Uint8Array(8);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return drop('auth-mismatch', 'simple password differs');
  }
  return undefined;
}

function checkHmac(advert: VrrpAdvert, meta: PacketMeta, auth: AdvertAuth, lastCounter: bigint | undefined): Accepted | Drop {
  if (auth.type !== 'hmac') {
    if (advert.hmac) return drop('hmac-unexpected', 'advert carries an lvskeep HMAC trailer but the instance has no hmac auth');
    return { ok: true };
  }
  if (!advert.hmac) return drop('hmac-missing', 'no HMAC trailer, instance requires auth.type hmac');
  const key = auth.keys.get(advert.hmac.keyId);
  if (!key) return drop('hmac-bad-key-id', `HMAC key id ${advert.hmac.keyId} is not configured`);
  let want: Uint8Array | undefined;
  try {
    want = expectedMac(advert, meta, key);
  } catch {
    want = undefined;
  }
  if (!want || !macEquals(want, advert.hmac.mac)) return drop('hmac-forged', `HMAC does not verify (key id ${advert.hmac.keyId}, counter ${advert.hmac.counter})`);
  // Only after the MAC verifies, so a forger cannot make us log or act on its counter.
  if (lastCounter !== undefined && advert.hmac.counter <= lastCounter) {
    return drop('hmac-replay', `HMAC counter ${advert.hmac.counter} not above last accepted ${lastCounter} from ${meta.src}`);
  }
  return { ok: true, hmacCounter: advert.hmac.counter };
}

// ---------------------------------------------------------------------------------------------------------
// Drop statistics (pure: return a new record).

export type DropCounters = Readonly<Partial<Record<DropReason, number>>>;

export function countDrop(counters: DropCounters, reason: DropReason): DropCounters {
  return { ...counters, [reason]: (counters[reason] ?? 0) + 1 };
}
