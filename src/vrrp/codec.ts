// VRRP advertisement codec: VRRPv3 (RFC 5798, IPv4 and IPv6) and VRRPv2 (RFC 3768, IPv4), plus the IPv4/IPv6
// headers around them (raw IPv4 sockets deliver the IP header; fixtures keep it so TTL/src/dst are known).
// Decoding never throws: every malformed input becomes a Drop that names the field and the offending value.
import { IPPROTO_VRRP, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import {
  HMAC_TRAILER_LENGTH,
  computeMac,
  hasTrailerMagic,
  readTrailer,
  trailerPrefix,
  type HmacSigning,
  type HmacTrailer,
} from './hmac-trailer.js';
import { formatIp, ipBytes, type IpFamily } from '../net/ip.js';

export type VrrpVersion = 2 | 3;
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const VRRP_TTL = 255;
export const VRRP_MULTICAST_V4 = '224.0.0.18';
export const VRRP_MULTICAST_V6 = 'ff02::12';
/** keepalived sends with IPTOS_PREC_INTERNETCONTROL (and the same value as IPv6 traffic class). */
export const VRRP_TOS = 0xc0;
export const V2_AUTH_NONE = 0;
export const V2_AUTH_PASS = 1;
export const V2_AUTH_AH = 2;
export const V2_AUTH_DATA_LENGTH = 8;
const HEADER_LENGTH = 8;

export type DropReason =
  | 'bad-length'
  | 'bad-ip-version'
  | 'bad-ip-header'
  | 'bad-protocol'
  | 'bad-ttl'
  | 'bad-version'
  | 'bad-type'
  | 'bad-vrid'
  | 'bad-count'
  | 'bad-interval'
  | 'bad-checksum'
  | 'bad-address'
  | 'bad-source'
  | 'bad-destination'
  | 'unknown-peer'
  | 'addresses-mismatch'
  | 'interval-mismatch'
  | 'bad-auth-type'
  | 'auth-mismatch'
  | 'hmac-missing'
  | 'hmac-unexpected'
  | 'hmac-bad-key-id'
  | 'hmac-forged'
  | 'hmac-replay';

export interface Drop {
  ok: false;
  reason: DropReason;
  /** Human-readable, names the field and the values, e.g. "TTL 64, must be 255". */
  detail: string;
}

export type Decoded<T> = { ok: true; value: T } | Drop;

export function drop(reason: DropReason, detail: string): Drop {
  return { ok: false, reason, detail };
}

/** What a sender fills in; the checksum and lengths are derived. */
export interface AdvertFields {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** Advert interval in centiseconds: the v3 wire unit. VRRPv2 carries whole seconds, so v2 needs a multiple of 100. */
  intervalCs: number;
  /** VIPs, all of the family of the packet. */
  addresses: string[];
  /** VRRPv2 only: 0 none, 1 simple password. Defaults to 0. */
  authType?: number;
  /** VRRPv2 only: the 8 authentication bytes (see passwordAuthData). Defaults to zeros. */
  authData?: Uint8Array;
}

export interface VrrpAdvert extends AdvertFields {
  family: IpFamily;
  /** The checksum as received (already verified). */
  checksum: number;
  /** Present when an lvskeep HMAC trailer followed the packet. */
  hmac?: HmacTrailer & { signedOver: Uint8Array };
}

/** Where the packet came from / went to; needed for the v3 pseudo-header checksum and for the HMAC. */
export interface AddressPair {
  family: IpFamily;
  src: string;
  dst: string;
}

export interface PacketMeta extends AddressPair {
  /** IPv4 TTL or IPv6 hop limit, when the transport can tell (raw IPv4 always can). */
  ttl?: number;
}

export interface DecodedPacket {
  advert: VrrpAdvert;
  meta: PacketMeta;
}

/** keepalived pads the simple password with zeros to 8 bytes (longer passwords are cut to 8). */
export function passwordAuthData(password: string): Uint8Array {
  const out = new Uint8Array(V2_AUTH_DATA_LENGTH);
  out.set(new TextEncoder().encode(password).subarray(0, V2_AUTH_DATA_LENGTH));
  return out;
}

function addressLength(family: IpFamily): number {
  return family === 4 ? 4 : 16;
}

/** Length of the VRRP packet proper (without any HMAC trailer). */
export function vrrpLength(version: VrrpVersion, family: IpFamily, count: number): number {
  return HEADER_LENGTH + count * addressLength(family) + (version === 2 ? V2_AUTH_DATA_LENGTH : 0);
}

function checkRange(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${field}: ${value} is not an integer in ${min}..${max}`);
}

/**
 * Encode the VRRP payload (what follows the IP header). Throws on invalid fields: this is our own config,
 * and a bad value there is a programming or validation error that must name the field.
 */
export function encodeAdvert(fields: AdvertFields, addrs: AddressPair, hmac?: HmacSigning): Uint8Array {
  const { version } = fields;
  const family = addrs.family;
  if (version !== 2 && version !== 3) throw new Error(`advert.version: ${String(version)} is not 2 or 3`);
  if (version === 2 && family !== 4) throw new Error('advert.version: VRRPv2 is IPv4-only');
  checkRange(fields.vrid, 1, 255, 'advert.vrid');
  checkRange(fields.priority, 0, 255, 'advert.priority');
  checkRange(fields.addresses.length, 0, 255, 'advert.addresses.length');
  if (version === 3) checkRange(fields.intervalCs, 1, 4095, 'advert.intervalCs');
  else {
    if (fields.intervalCs % 100 !== 0) throw new Error(`advert.intervalCs: ${fields.intervalCs} cs is not whole seconds (VRRPv2)`);
    checkRange(fields.intervalCs / 100, 1, 255, 'advert.intervalCs/100 (VRRPv2 seconds)');
  }
  const len = vrrpLength(version, family, fields.addresses.length);
  const total = len + (hmac ? HMAC_TRAILER_LENGTH : 0);
  const out = new Uint8Array(total);
  out[0] = (version << 4) | VRRP_TYPE_ADVERTISEMENT;
  out[1] = fields.vrid;
  out[2] = fields.priority;
  out[3] = fields.addresses.length;
  if (version === 3) {
    out[4] = (fields.intervalCs >> 8) & 0x0f;
    out[5] = fields.intervalCs & 0xff;
  } else {
    const authType = hmac ? V2_AUTH_NONE : (fields.authType ?? V2_AUTH_NONE);
    checkRange(authType, 0, 255, 'advert.authType');
    out[4] = authType;
    out[5] = fields.intervalCs / 100;
  }
  const alen = addressLength(family);
  fields.addresses.forEach((a, i) => out.set(ipBytes(a, family, `advert.addresses[${i}]`), HEADER_LENGTH + i * alen));
  if (version === 2 && !hmac && fields.authData) {
    if (fields.authData.length !== V2_AUTH_DATA_LENGTH) throw new Error(`advert.authData: ${fields.authData.length} bytes, must be 8`);
    out.set(fields.authData, len - V2_AUTH_DATA_LENGTH);
  }
  const src = ipBytes(addrs.src, family, 'advert src');
  const dst = ipBytes(addrs.dst, family, 'advert dst');
  if (hmac) {
    const prefix = trailerPrefix(hmac.keyId, hmac.counter);
    out.set(prefix, len);
    out.set(computeMac(hmac.key, src, dst, out.subarray(0, len), prefix), len + prefix.length);
  }
  const seed = version === 3 ? pseudoHeaderSum(family, src, dst, total) : 0;
  const sum = internetChecksum(out, seed);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/** Decode the VRRP payload. Checks only what the packet alone can tell; see validateAdvert for config checks. */
export function decodeAdvert(payload: Uint8Array, addrs: AddressPair): Decoded<VrrpAdvert> {
  const family = addrs.family;
  if (payload.length < HEADER_LENGTH) return drop('bad-length', `VRRP length ${payload.length}, header needs ${HEADER_LENGTH} bytes`);
  const b0 = payload[0] ?? 0;
  const version = b0 >> 4;
  const type = b0 & 0x0f;
  if (version !== 2 && version !== 3) return drop('bad-version', `version ${version}, must be 2 or 3`);
  if (version === 2 && family !== 4) return drop('bad-version', 'version 2 over IPv6, VRRPv2 is IPv4-only');
  if (type !== VRRP_TYPE_ADVERTISEMENT) return drop('bad-type', `type ${type}, must be 1 (advertisement)`);
  const vrid = payload[1] ?? 0;
  if (vrid === 0) return drop('bad-vrid', 'VRID 0, must be 1..255');
  const priority = payload[2] ?? 0;
  const count = payload[3] ?? 0;
  const len = vrrpLength(version, family, count);
  let hmac: VrrpAdvert['hmac'];
  if (payload.length < len) {
    return drop('bad-length', `VRRP length ${payload.length} too short for count ${count} (needs ${len})`);
  } else if (payload.length > len) {
    if (payload.length === len + HMAC_TRAILER_LENGTH && hasTrailerMagic(payload, len)) {
      hmac = { ...readTrailer(payload, len), signedOver: copyBytes(payload, 0, len) };
    } else {
      return drop('bad-length', `VRRP length ${payload.length} too long for count ${count} (expects ${len})`);
    }
  }
  const intervalCs = version === 3 ? (((payload[4] ?? 0) & 0x0f) << 8) | (payload[5] ?? 0) : (payload[5] ?? 0) * 100;
  if (intervalCs === 0) return drop('bad-interval', version === 3 ? 'max advert interval 0 cs, must be 1..4095' : 'advert interval 0 s, must be 1..255');
  let src: Uint8Array;
  let dst: Uint8Array;
  try {
    src = ipBytes(addrs.src, family, 'packet src');
    dst = ipBytes(addrs.dst, family, 'packet dst');
  } catch (err) {
    return drop('bad-address', err instanceof Error ? err.message : String(err));
  }
  const seed = version === 3 ? pseudoHeaderSum(family, src, dst, payload.length) : 0;
  const checksum = ((payload[6] ?? 0) << 8) | (payload[7] ?? 0);
  if (onesComplementSum(payload, seed) !== 0xffff) {
    const zeroed = Uint8Array.from(payload);
    zeroed[6] = 0;
    zeroed[7] = 0;
    const expected = internetChecksum(zeroed, seed);
    return drop('bad-checksum', `checksum 0x${hex4(checksum)}, expected 0x${hex4(expected)} (v${version}${version === 3 ? ` pseudo-header ${addrs.src} -> ${addrs.dst}` : ''})`);
  }
  const alen = addressLength(family);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIp(payload, family, HEADER_LENGTH + i * alen));
  const advert: VrrpAdvert = { version, family, vrid, priority, intervalCs, addresses, checksum };
  if (version === 2) {
    advert.authType = payload[4] ?? 0;
    advert.authData = copyBytes(payload, len - V2_AUTH_DATA_LENGTH, len);
  }
  if (hmac) advert.hmac = hmac;
  return { ok: true, value: advert };
}

/** A copy, never a view: Buffer#slice shares memory with the receive buffer, which the transport may reuse. */
function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.from(buf.subarray(start, end));
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** Recompute the MAC of a decoded advert (used by validateAdvert). */
export function expectedMac(advert: VrrpAdvert, meta: AddressPair, key: Uint8Array): Uint8Array | undefined {
  if (!advert.hmac) return undefined;
  const src = ipBytes(meta.src, meta.family, 'packet src');
  const dst = ipBytes(meta.dst, meta.family, 'packet dst');
  return computeMac(key, src, dst, advert.hmac.signedOver, trailerPrefix(advert.hmac.keyId, advert.hmac.counter));
}

// ---------------------------------------------------------------------------------------------------------
// IP headers

export interface Ipv4Options {
  src: string;
  dst: string;
  ttl?: number;
  id?: number;
  tos?: number;
}

export interface Ipv6Options {
  src: string;
  dst: string;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** A whole IPv4 datagram (20-byte header, no options) carrying the advert: for IP_HDRINCL senders and fixtures. */
export function encodeIpv4Packet(fields: AdvertFields, opts: Ipv4Options, hmac?: HmacSigning): Uint8Array {
  const payload = encodeAdvert(fields, { family: 4, src: opts.src, dst: opts.dst }, hmac);
  const out = new Uint8Array(20 + payload.length);
  const ttl = opts.ttl ?? VRRP_TTL;
  const id = opts.id ?? 0;
  checkRange(ttl, 0, 255, 'ipv4.ttl');
  checkRange(id, 0, 0xffff, 'ipv4.id');
  out[0] = 0x45;
  out[1] = opts.tos ?? VRRP_TOS;
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  out[4] = id >> 8;
  out[5] = id & 0xff;
  out[8] = ttl;
  out[9] = IPPROTO_VRRP;
  out.set(ipBytes(opts.src, 4, 'ipv4.src'), 12);
  out.set(ipBytes(opts.dst, 4, 'ipv4.dst'), 16);
  const hsum = internetChecksum(out.subarray(0, 20));
  out[10] = hsum >> 8;
  out[11] = hsum & 0xff;
  out.set(payload, 20);
  return out;
}

/** A whole IPv6 packet (fixed header, no extension headers) carrying the advert. */
export function encodeIpv6Packet(fields: AdvertFields, opts: Ipv6Options, hmac?: HmacSigning): Uint8Array {
  const payload = encodeAdvert(fields, { family: 6, src: opts.src, dst: opts.dst }, hmac);
  const out = new Uint8Array(40 + payload.length);
  const tc = opts.trafficClass ?? VRRP_TOS;
  const flow = opts.flowLabel ?? 0;
  checkRange(tc, 0, 255, 'ipv6.trafficClass');
  checkRange(flow, 0, 0xfffff, 'ipv6.flowLabel');
  const view = new DataView(out.buffer);
  view.setUint32(0, ((6 << 28) | (tc << 20) | flow) >>> 0, false);
  view.setUint16(4, payload.length, false);
  out[6] = IPPROTO_VRRP;
  out[7] = opts.hopLimit ?? VRRP_TTL;
  out.set(ipBytes(opts.src, 6, 'ipv6.src'), 8);
  out.set(ipBytes(opts.dst, 6, 'ipv6.dst'), 24);
  out.set(payload, 40);
  return out;
}

/** Decode a whole IPv4 or IPv6 packet (chosen by the version nibble) and the advert inside it. */
export function decodeIpPacket(buf: Uint8Array): Decoded<DecodedPacket> {
  if (buf.length < 1) return drop('bad-length', 'empty packet');
  const ipVersion = (buf[0] ?? 0) >> 4;
  if (ipVersion === 4) return decodeIpv4Packet(buf);
  if (ipVersion === 6) return decodeIpv6Packet(buf);
  return drop('bad-ip-version', `IP version ${ipVersion}, must be 4 or 6`);
}

export function decodeIpv4Packet(buf: Uint8Array): Decoded<DecodedPacket> {
  if (buf.length < 20) return drop('bad-length', `IPv4 packet length ${buf.length}, header needs 20 bytes`);
  const version = (buf[0] ?? 0) >> 4;
  if (version !== 4) return drop('bad-ip-version', `IP version ${version}, expected 4`);
  const ihl = ((buf[0] ?? 0) & 0x0f) * 4;
  if (ihl < 20 || ihl > buf.length) return drop('bad-ip-header', `IPv4 header length ${ihl}, must be 20..${Math.min(60, buf.length)}`);
  const totLen = ((buf[2] ?? 0) << 8) | (buf[3] ?? 0);
  if (totLen !== buf.length) return drop('bad-length', `IPv4 total length ${totLen}, received ${buf.length} bytes`);
  if (onesComplementSum(buf.subarray(0, ihl)) !== 0xffff) return drop('bad-checksum', 'IPv4 header checksum does not verify');
  const proto = buf[9] ?? 0;
  if (proto !== IPPROTO_VRRP) return drop('bad-protocol', `IPv4 protocol ${proto}, must be 112 (VRRP)`);
  const meta: PacketMeta = { family: 4, src: formatIp(buf, 4, 12), dst: formatIp(buf, 4, 16), ttl: buf[8] ?? 0 };
  const advert = decodeAdvert(buf.subarray(ihl), meta);
  return advert.ok ? { ok: true, value: { advert: advert.value, meta } } : advert;
}

export function decodeIpv6Packet(buf: Uint8Array): Decoded<DecodedPacket> {
  if (buf.length < 40) return drop('bad-length', `IPv6 packet length ${buf.length}, header needs 40 bytes`);
  const version = (buf[0] ?? 0) >> 4;
  if (version !== 6) return drop('bad-ip-version', `IP version ${version}, expected 6`);
  const payloadLength = ((buf[4] ?? 0) << 8) | (buf[5] ?? 0);
  if (payloadLength !== buf.length - 40) return drop('bad-length', `IPv6 payload length ${payloadLength}, received ${buf.length - 40} bytes`);
  const next = buf[6] ?? 0;
  // Extension headers are not expected on VRRP (link-local multicast); treat them as not-VRRP rather than parse them.
  if (next !== IPPROTO_VRRP) return drop('bad-protocol', `IPv6 next header ${next}, must be 112 (VRRP)`);
  const meta: PacketMeta = { family: 6, src: formatIp(buf, 6, 8), dst: formatIp(buf, 6, 24), ttl: buf[7] ?? 0 };
  const advert = decodeAdvert(buf.subarray(40), meta);
  return advert.ok ? { ok: true, value: { advert: advert.value, meta } } : advert;
}
