/** IP text -> bytes for netlink attributes and link-layer frames. Input is validated with node:net first. */
import { isIP } from 'node:net';

export function ipv4Bytes(text: string): Buffer {
  if (isIP(text) !== 4) throw new Error(`${JSON.stringify(text)} is not an IPv4 address`);
  return Buffer.from(text.split('.').map(Number));
}

export function ipv6Bytes(text: string): Buffer {
  if (isIP(text) !== 6) throw new Error(`${JSON.stringify(text)} is not an IPv6 address`);
  let body = text;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    // Rewrite an embedded IPv4 tail (::ffff:192.0.2.1) as two hex groups, then parse uniformly.
    const v4 = ipv4Bytes(tail);
    body = `${body.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const halves = body.split('::');
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const words = halves.length === 2 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  if (words.length !== 8) throw new Error(`${JSON.stringify(text)}: expected 8 groups, parsed ${words.length}`);
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export function ipBytes(text: string): Buffer {
  return isIP(text) === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
}

/** 16 bytes -> canonical-enough text (used for netlink dumps; node:net accepts it back). */
export function ipv6Text(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // Compress the longest run of zero groups (length >= 2), as RFC 5952 asks.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

export function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) return ipv6Text(bytes);
  throw new Error(`address of ${bytes.length} bytes is neither IPv4 nor IPv6`);
}
