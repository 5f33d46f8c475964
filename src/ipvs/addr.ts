import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv6, ipv4MaskToPrefixLength, ipv4PrefixToMask, parseIPv6 } from '../net/ip.js';
import type { Family } from './model.js';

/**
 * Address helpers for the IPVS model. Addresses are kept canonical (IPv4 dotted quad without leading zeros,
 * IPv6 compressed lower case per RFC 5952) so that comparing two tables is comparing strings.
 */

export function familyOf(address: string): Family | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

// Already-canonical dotted quads (no leading zeros) are by far the common case on a reconcile pass, which
// canonicalises every destination of both tables: answer them without splitting.
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// IPv6 canonicalisation is costlier; a table holds a bounded set of addresses, so remember recent answers.
const IPV6_MEMO_MAX = 65_536;
const ipv6Memo = new Map<string, string | undefined>();

/** Canonical text of an address, or undefined when it is not an IPv4/IPv6 literal. */
export function canonicalAddress(address: string): string | undefined {
  if (CANONICAL_IPV4.test(address)) return address;
  if (isIPv4(address)) return address.split('.').map((p) => String(Number(p))).join('.');
  const known = ipv6Memo.get(address);
  if (known !== undefined || ipv6Memo.has(address)) return known;
  const bytes = isIPv6(address) ? parseIPv6(address) : undefined;
  const canonical = bytes ? formatIPv6(bytes) : undefined;
  if (ipv6Memo.size >= IPV6_MEMO_MAX) ipv6Memo.clear();
  ipv6Memo.set(address, canonical);
  return canonical;
}

/** `255.255.255.0` -> 24; undefined when the mask is not a valid contiguous IPv4 netmask. */
export function ipv4MaskToPrefix(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  return ipv4MaskToPrefixLength(mask.split('.').reduce((acc, p) => acc * 256 + Number(p), 0));
}

/** 24 -> `255.255.255.0`. */
export function prefixToIpv4Mask(prefix: number): string {
  const value = ipv4PrefixToMask(prefix);
  return [24, 16, 8, 0].map((shift) => String((value >>> shift) & 0xff)).join('.');
}

/** The kernel's default persistence netmask: a single client address. */
export function hostPrefix(family: Family): number {
  return family === 6 ? 128 : 32;
}

/**
 * Split `198.51.100.11:80`, `[2001:db8::1]:80`, `198.51.100.11` (port undefined) or `[2001:db8::1]`.
 * Returns undefined for anything else (including a bare IPv6 address with a port-like tail, which is ambiguous).
 */
export function splitEndpoint(text: string): { family: Family; address: string; port?: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
    if (!isIPv6(host)) return undefined;
  } else {
    if (isIPv6(text)) {
      host = text;
    } else {
      const colon = text.lastIndexOf(':');
      host = colon < 0 ? text : text.slice(0, colon);
      portText = colon < 0 ? undefined : text.slice(colon + 1);
      if (!isIPv4(host)) return undefined;
    }
  }
  const address = canonicalAddress(host);
  const family = familyOf(host);
  if (address === undefined || family === undefined) return undefined;
  if (portText === undefined) return { family, address };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { family, address, port };
}
