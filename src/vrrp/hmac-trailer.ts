// lvskeep-only HMAC authentication for VRRP adverts (auth.type = "hmac"). keepalived never sees this: it is only
// sent when both ends are lvskeep and configured with the same key. A keepalived peer that did receive one would
// drop it as "packet too long" (it checks the exact length), so a misconfiguration fails closed, not open.
//
// Wire format: the trailer follows the standard VRRP packet (after the addresses, and for VRRPv2 after the
// 8-byte authentication data, whose Auth Type is then 0):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |  'L' (0x4c)   |  'K' (0x4b)   |  'H' (0x48)   |  '1' (0x31)   |  magic + format version
//   +---------------+---------------+-------------------------------+
//   |    Key ID     |                 Reserved (0)                  |  key id lets keys rotate
//   +---------------+-----------------------------------------------+
//   |                  Counter (64 bits, big endian)                |  strictly increasing per sender
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                 HMAC-SHA256 (32 bytes)                        |
//   ~                                                               ~
//   +---------------------------------------------------------------+
//
// The MAC covers: source address bytes || destination address bytes || the VRRP packet with its checksum field
// set to zero || trailer bytes 0..15 (magic, key id, reserved, counter). Binding the IP addresses stops a
// captured advert from being replayed from another host; the counter stops replays from the same host.
// The VRRP checksum is then computed last over the whole payload (VRRP packet + trailer), with the upper-layer
// length in the v3 pseudo-header being that whole length, so the datagram is self-consistent for kernels or
// taps that check it. Senders should start the counter from wall-clock microseconds so a restart never
// goes backwards; receivers keep the highest counter accepted per peer and drop anything not above it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HMAC_TRAILER_MAGIC = Uint8Array.of(0x4c, 0x4b, 0x48, 0x31);
export const HMAC_TRAILER_LENGTH = 48;
const SIGNED_TRAILER_PREFIX = 16;
const MAC_LENGTH = 32;
const COUNTER_MAX = (1n << 64n) - 1n;

export interface HmacTrailer {
  keyId: number;
  counter: bigint;
  mac: Uint8Array;
}

export interface HmacSigning {
  key: Uint8Array;
  keyId: number;
  counter: bigint;
}

export function hasTrailerMagic(buf: Uint8Array, offset: number): boolean {
  if (offset + HMAC_TRAILER_MAGIC.length > buf.length) return false;
  return HMAC_TRAILER_MAGIC.every((b, i) => buf[offset + i] === b);
}

/** Read the trailer at `offset` (caller checked the length and magic). */
export function readTrailer(buf: Uint8Array, offset: number): HmacTrailer {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, HMAC_TRAILER_LENGTH);
  return {
    keyId: view.getUint8(4),
    counter: view.getBigUint64(8, false),
    mac: Uint8Array.from(buf.subarray(offset + SIGNED_TRAILER_PREFIX, offset + HMAC_TRAILER_LENGTH)),
  };
}

/** The 16 signed trailer bytes before the MAC. */
export function trailerPrefix(keyId: number, counter: bigint): Uint8Array {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw new Error(`hmac.keyId: ${keyId} is not 0..255`);
  if (counter < 0n || counter > COUNTER_MAX) throw new Error(`hmac.counter: ${counter} is not an unsigned 64-bit value`);
  const out = new Uint8Array(SIGNED_TRAILER_PREFIX);
  out.set(HMAC_TRAILER_MAGIC, 0);
  out[4] = keyId;
  new DataView(out.buffer).setBigUint64(8, counter, false);
  return out;
}

/**
 * MAC over (src || dst || vrrp packet with checksum zeroed || trailer prefix).
 * `vrrp` must be the VRRP packet only (no trailer); its checksum bytes (6..7) are zeroed in a copy.
 */
export function computeMac(key: Uint8Array, src: Uint8Array, dst: Uint8Array, vrrp: Uint8Array, prefix: Uint8Array): Uint8Array {
  const body = Uint8Array.from(vrrp);
  body[6] = 0;
  body[7] = 0;
  const h = createHmac('sha256', key);
  h.update(src);
  h.update(dst);
  h.update(body);
  h.update(prefix);
  return new Uint8Array(h.digest());
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === MAC_LENGTH && b.length === MAC_LENGTH && timingSafeEqual(a, b);
}

/** Suggested first counter for a sender: microseconds since the epoch, so restarts keep it increasing. */
export function initialCounter(nowMs: number): bigint {
  return BigInt(Math.max(0, Math.floor(nowMs))) * 1000n;
}
