// IPv4/IPv6 text <-> bytes, the one copy for the whole agent (VRRP codec, VIP netlink/frames, IPVS netlink and
// table model). Dependency-free. parseIPv4 takes leading-zero octets ("010" is 10) where node:net refuses them, so
// callers that must accept exactly what node:net accepts check with isIP first. Output is RFC 5952 (lower case,
// longest zero run compressed, IPv4-mapped printed in hex) so addresses compare as strings.

export type IpFamily = 4 | 6;

/** Parse dotted-quad IPv4 into 4 bytes; undefined when malformed (no leading zeros games, no shorthand). */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parse IPv6 (with :: compression, optional embedded IPv4 tail, optional %zone which is ignored) into 16 bytes. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  if (addr.length === 0 || addr.length > 45) return undefined;
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? '';
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return undefined;
        words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(parseInt(g, 16));
    }
    return words;
  };
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    words = head;
  }
  if (words.length !== 8) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/** Parse either family; the family is decided by the text. */
export function parseIp(text: string): { family: IpFamily; bytes: Uint8Array } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, bytes: v6 };
  return undefined;
}

/** Parse for a known family, throwing an error that names the field: used on the encode side (our own config). */
export function ipBytes(text: string, family: IpFamily, field: string): Uint8Array {
  const bytes = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (!bytes) throw new Error(`${field}: "${text}" is not a valid IPv${family} address`);
  return bytes;
}

export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset] ?? 0}.${b[offset + 1] ?? 0}.${b[offset + 2] ?? 0}.${b[offset + 3] ?? 0}`;
}

/** RFC 5952 canonical text: lowercase, longest run (>= 2) of zero groups compressed, first run on ties. */
export function formatIPv6(b: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[offset + i * 2] ?? 0) << 8) | (b[offset + i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function formatIp(b: Uint8Array, family: IpFamily, offset = 0): string {
  return family === 4 ? formatIPv4(b, offset) : formatIPv6(b, offset);
}

/** Numeric comparison of two addresses of the same family: <0, 0, >0. Mixed or invalid text sorts as invalid < valid. */
export function compareIp(a: string, b: string): number {
  const pa = parseIp(a);
  const pb = parseIp(b);
  if (!pa || !pb) return (pa ? 1 : 0) - (pb ? 1 : 0);
  if (pa.family !== pb.family) return pa.family - pb.family;
  for (let i = 0; i < pa.bytes.length; i++) {
    const d = (pa.bytes[i] ?? 0) - (pb.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Same address regardless of spelling ("2001:DB8::1" vs "2001:db8:0::1"). */
export function sameIp(a: string, b: string): boolean {
  const pa = parseIp(a);
  const pb = parseIp(b);
  return pa !== undefined && pb !== undefined && pa.family === pb.family && compareIp(a, b) === 0;
}

export function isIPv6LinkLocal(text: string): boolean {
  const b = parseIPv6(text);
  return b !== undefined && b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
}

export function isMulticast(text: string): boolean {
  const p = parseIp(text);
  if (!p) return false;
  if (p.family === 4) return ((p.bytes[0] ?? 0) & 0xf0) === 0xe0;
  return p.bytes[0] === 0xff;
}

/** IPv4 prefix length -> netmask as an unsigned 32-bit number (24 -> 0xffffff00); below 0 is 0, above 32 is 32. */
export function ipv4PrefixToMask(prefix: number): number {
  return prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
}

/** Netmask (unsigned 32-bit) -> prefix length; undefined when its one bits are not contiguous from the top. */
export function ipv4MaskToPrefixLength(mask: number): number | undefined {
  const m = mask >>> 0;
  let prefix = 0;
  while (prefix < 32 && (m & (0x80000000 >>> prefix)) !== 0) prefix++;
  // A shift by 32 is a shift by 0 in JS, so a full mask must not reach the hole test.
  if (prefix < 32 && (m << prefix) >>> 0 !== 0) return undefined;
  return prefix;
}
