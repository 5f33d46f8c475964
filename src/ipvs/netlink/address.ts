/**
 * IP addresses as IPVS carries them: always a 16-byte ADDR (an IPv4 address fills the first 4 bytes, the rest
 * zero, as in the kernel's union nf_inet_addr). Text forms are canonical (RFC 5952: lower case, longest zero
 * run compressed) so that addresses read back from the kernel compare equal as strings. Parsing and printing are
 * src/net/ip.ts; this file adds the 16-byte layout, node:net validation and AddressError.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp, ipv4MaskToPrefixLength, ipv4PrefixToMask, parseIPv4, parseIPv6 } from '../../net/ip.js';
import type { Family } from '../model.js';

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

export function addressToBytes(family: Family, text: string): Buffer {
  const out = Buffer.alloc(16);
  if (family === 4) {
    const bytes = isIPv4(text) ? parseIPv4(text) : undefined;
    if (!bytes) throw new AddressError(`not an IPv4 address: "${text}"`);
    out.set(bytes);
    return out;
  }
  const bytes = isIPv6(text) ? parseIPv6(text) : undefined;
  if (!bytes) throw new AddressError(`not an IPv6 address: "${text}"`);
  out.set(bytes);
  return out;
}

export function bytesToAddress(family: Family, bytes: Buffer): string {
  if (bytes.length < (family === 4 ? 4 : 16)) throw new AddressError(`address of ${bytes.length} bytes is too short for IPv${family}`);
  return formatIp(bytes, family);
}

/** Canonical text of an address given in any valid form. */
export function canonicalAddress(family: Family, text: string): string {
  return bytesToAddress(family, addressToBytes(family, text));
}

/** IPv4 prefix length -> netmask as a host-order u32 (0 -> 0, 24 -> 0xffffff00). */
export function prefixToNetmask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new AddressError(`IPv4 prefix length ${prefix} is outside 0..32`);
  return ipv4PrefixToMask(prefix);
}

/** Netmask (host-order u32) -> prefix length; a mask with holes is an error. */
export function netmaskToPrefix(mask: number): number {
  const prefix = ipv4MaskToPrefixLength(mask);
  if (prefix === undefined) throw new AddressError(`netmask 0x${(mask >>> 0).toString(16)} is not contiguous`);
  return prefix;
}
