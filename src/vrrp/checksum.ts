// The Internet checksum (RFC 1071) and the VRRPv3 pseudo-headers (RFC 5798 section 5.2.8: the IPv4 one from
// RFC 768-style UDP, the IPv6 one from RFC 8200 section 8.1).
import type { IpFamily } from '../net/ip.js';

export const IPPROTO_VRRP = 112;

/** One's-complement sum of 16-bit big-endian words, folded; an odd trailing byte is padded with zero. */
export function onesComplementSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  if (data.length & 1) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(data: Uint8Array, initial = 0): number {
  return ~onesComplementSum(data, initial) & 0xffff;
}

/** Sum of the pseudo-header (src, dst, upper-layer length, next header 112), to seed the VRRPv3 checksum. */
export function pseudoHeaderSum(family: IpFamily, src: Uint8Array, dst: Uint8Array, upperLength: number): number {
  if (family === 4) {
    const ph = new Uint8Array(12);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[9] = IPPROTO_VRRP;
    ph[10] = (upperLength >> 8) & 0xff;
    ph[11] = upperLength & 0xff;
    return onesComplementSum(ph);
  }
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[32] = (upperLength >>> 24) & 0xff;
  ph[33] = (upperLength >> 16) & 0xff;
  ph[34] = (upperLength >> 8) & 0xff;
  ph[35] = upperLength & 0xff;
  ph[39] = IPPROTO_VRRP;
  return onesComplementSum(ph);
}
