/**
 * IP addresses as IPVS carries them: always a 16-byte ADDR (an IPv4 address fills the first 4 bytes, the rest
 * zero, as in the kernel's union nf_inet_addr). Text forms are canonical (RFC 5952: lower case, longest zero
 * run compressed) so that addresses read back from the kernel compare equal as strings.
 */
import { isIPv4, isIPv6 } from 'node:net';
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
    if (!isIPv4(text)) throw new AddressError(`not an IPv4 address: "${text}"`);
    text.split('.').forEach((part, i) => out.writeUInt8(Number(part), i));
    return out;
  }
  if (!isIPv6(text)) throw new AddressError(`not an IPv6 address: "${text}"`);
  let body = text.toLowerCase();
  const lastColon = body.lastIndexOf(':');
  const v4Tail = body.slice(lastColon + 1);
  if (v4Tail.includes('.')) {
    // Embedded IPv4 (::ffff:192.0.2.1) becomes its two 16-bit groups.
    const [a = 0, b = 0, c = 0, d = 0] = v4Tail.split('.').map(Number);
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const dbl = body.indexOf('::');
  let groups: number[];
  if (dbl === -1) groups = parse(body);
  else {
    const head = parse(body.slice(0, dbl));
    const rest = parse(body.slice(dbl + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function bytesToAddress(family: Family, bytes: Buffer): string {
  if (bytes.length < (family === 4 ? 4 : 16)) throw new AddressError(`address of ${bytes.length} bytes is too short for IPv${family}`);
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(i * 2));
  // Longest run of two or more zero groups, first one on a tie (RFC 5952 4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an address given in any valid form. */
export function canonicalAddress(family: Family, text: string): string {
  return bytesToAddress(family, addressToBytes(family, text));
}

/** IPv4 prefix length -> netmask as a host-order u32 (0 -> 0, 24 -> 0xffffff00). */
export function prefixToNetmask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new AddressError(`IPv4 prefix length ${prefix} is outside 0..32`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Netmask (host-order u32) -> prefix length; a mask with holes is an error. */
export function netmaskToPrefix(mask: number): number {
  const m = mask >>> 0;
  let prefix = 0;
  while (prefix < 32 && (m & (0x80000000 >>> prefix)) !== 0) prefix++;
  if (prefix < 32 && (m << prefix) >>> 0 !== 0) throw new AddressError(`netmask 0x${m.toString(16)} is not contiguous`);
  return prefix;
}
