/**
 * IP text -> Buffer for netlink attributes and link-layer frames: thin wrappers over src/net/ip.ts that keep this
 * module's contract (input validated with node:net, errors that quote the text, Buffers out).
 */
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../net/ip.js';

export function ipv4Bytes(text: string): Buffer {
  const bytes = isIP(text) === 4 ? parseIPv4(text) : undefined;
  if (!bytes) throw new Error(`${JSON.stringify(text)} is not an IPv4 address`);
  return Buffer.from(bytes);
}

export function ipv6Bytes(text: string): Buffer {
  const bytes = isIP(text) === 6 ? parseIPv6(text) : undefined;
  if (!bytes) throw new Error(`${JSON.stringify(text)} is not an IPv6 address`);
  return Buffer.from(bytes);
}

export function ipBytes(text: string): Buffer {
  return isIP(text) === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
}

/** 16 bytes -> RFC 5952 text (used for netlink dumps; node:net accepts it back). */
export function ipv6Text(bytes: Uint8Array): string {
  return formatIPv6(bytes);
}

export function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes);
  throw new Error(`address of ${bytes.length} bytes is neither IPv4 nor IPv6`);
}
