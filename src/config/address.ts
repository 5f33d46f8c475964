/**
 * Address parsing for the configuration: plain addresses, CIDR (`203.0.113.10/24`) and endpoints
 * (`203.0.113.1:80`, `[2001:db8::1]:80`). Addresses come out canonical (IPv6 compressed, lower case, RFC 5952)
 * so that the rest of lvskeep can compare them as strings.
 */
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6, parseIPv6 } from '../net/ip.js';

export type Family = 4 | 6;
export interface Address { address: string; family: Family }
export interface Cidr extends Address { prefix: number }
export interface Endpoint extends Address { port: number }

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

export function parseAddress(text: string): Parsed<Address> {
  const s = text.trim();
  if (s.includes('%')) return fail(`"${s}": zone ids (%dev) are not accepted; set the interface separately`);
  const family = isIP(s);
  if (family === 4) return { ok: true, value: { address: s, family: 4 } };
  if (family === 6) return { ok: true, value: { address: canonicalIPv6(s), family: 6 } };
  if (s.includes('/')) return fail(`"${s}" is a CIDR, expected a single address`);
  if (/^\[.*\](:\d+)?$/.test(s) || /^[\d.]+:\d+$/.test(s)) return fail(`"${s}" has a port, expected a bare address`);
  return fail(`"${s}" is not an IPv4 or IPv6 address`);
}

/** `address/prefix`; a bare address means a host prefix (/32 or /128). */
export function parseCidr(text: string): Parsed<Cidr> {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr.ok) return addr;
  const max = addr.value.family === 4 ? 32 : 128;
  if (slash < 0) return { ok: true, value: { ...addr.value, prefix: max } };
  const prefixText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return fail(`"${s}": prefix length must be 0..${max}`);
  }
  return { ok: true, value: { ...addr.value, prefix: Number(prefixText) } };
}

export interface EndpointOptions {
  /** When the port may be left out, this is used instead (e.g. the virtual server's port). */
  defaultPort?: number;
}

/**
 * `203.0.113.1:80`, `[2001:db8::1]:80`; with `defaultPort` also `203.0.113.1`, `[2001:db8::1]` or `2001:db8::1`.
 */
export function parseEndpoint(text: string, opts: EndpointOptions = {}): Parsed<Endpoint> {
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return fail(`"${s}": missing "]" after the IPv6 address`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return fail(`"${s}": expected ":port" after "]"`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) return fail(`"${s}": "${host}" inside [] is not an IPv6 address`);
  } else if (isIP(s) === 6) {
    host = s; // bare IPv6 without a port: only the brackets form can carry one
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') !== colon) {
      return fail(`"${s}": write IPv6 endpoints as [address]:port`);
    }
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
  }
  const addr = parseAddress(host);
  if (!addr.ok) return fail(`"${s}": ${addr.message.replace(/^"[^"]*" /, 'address ')}`);
  let port: number;
  if (portText === undefined) {
    if (opts.defaultPort === undefined) return fail(`"${s}" has no port: write ${addr.value.family === 6 ? `[${host}]` : host}:PORT`);
    port = opts.defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return fail(`"${s}": port must be 1..65535`);
    }
    port = Number(portText);
  }
  return { ok: true, value: { ...addr.value, port } };
}

/** `203.0.113.1:80` or `[2001:db8::1]:80`. */
export function formatEndpoint(e: Endpoint): string {
  return e.family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * RFC 5952 text form (lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`), except that
 * IPv4-mapped addresses keep the dotted tail (`::ffff:192.0.2.1`): that is how operators write them in a config, and
 * names and messages derived from the config show them so. The shared src/net/ip.ts prints them in hex.
 * Expects text that isIP already accepted as IPv6; anything else comes back unchanged.
 */
export function canonicalIPv6(text: string): string {
  const bytes = parseIPv6(text);
  if (!bytes) return text;
  if (isIPv4Mapped(bytes)) return `::ffff:${formatIPv4(bytes, 12)}`;
  return formatIPv6(bytes);
}

/** ::ffff:0:0/96 */
function isIPv4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
