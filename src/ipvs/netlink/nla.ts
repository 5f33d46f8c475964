/**
 * Netlink attribute (TLV) encoding and decoding, pure. Written here rather than taken from the `netlink`
 * package because that one drops NLA_F_NESTED on nested attributes and does not bound-check what it reads.
 * Layout: u16 length (header included, padding excluded), u16 type, value, zero padding to 4 bytes.
 */
import { NLA_F_NESTED, NLA_TYPE_MASK } from './constants.js';

const HDR = 4;
const align4 = (n: number): number => (n + 3) & ~3;

/** Thrown on malformed input; the message names the place (`where`) and the byte offset. */
export class NlaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NlaError';
  }
}

export function nla(type: number, value: Uint8Array): Buffer {
  const len = HDR + value.length;
  if (len > 0xffff) throw new NlaError(`attribute ${type}: value of ${value.length} bytes does not fit a netlink attribute`);
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.set(value, HDR);
  return out;
}

export function nlaNest(type: number, children: readonly Buffer[]): Buffer {
  return nla(type | NLA_F_NESTED, Buffer.concat(children));
}

export function nlaU8(type: number, v: number): Buffer {
  return nla(type, Buffer.of(v & 0xff));
}

export function nlaU16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return nla(type, b);
}

/** A u16 in network byte order (ports). */
export function nlaBe16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return nla(type, b);
}

export function nlaU32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return nla(type, b);
}

export function nlaBe32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return nla(type, b);
}

/** NUL-terminated string, as the kernel's NLA_NUL_STRING policy wants. */
export function nlaString(type: number, s: string): Buffer {
  return nla(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.of(0)]));
}

export interface ParsedNla {
  type: number;
  nested: boolean;
  value: Buffer;
}

/** Splits a buffer into attributes. Throws NlaError naming `where` on a length that runs past the end. */
export function parseNlas(buf: Buffer, where: string): ParsedNla[] {
  const out: ParsedNla[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HDR) throw new NlaError(`${where}: ${buf.length - off} stray bytes at offset ${off}`);
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < HDR || off + len > buf.length) {
      throw new NlaError(`${where}: attribute type ${rawType & NLA_TYPE_MASK} at offset ${off} has length ${len}, ${buf.length - off} bytes left`);
    }
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, value: buf.subarray(off + HDR, off + len) });
    off += align4(len);
  }
  return out;
}

/**
 * Attributes by type (the last one wins, as in the kernel's nla_parse), with typed, length-checked getters
 * whose errors name the object and the attribute.
 */
export class NlaSet {
  private readonly byType = new Map<number, Buffer>();

  constructor(
    buf: Buffer,
    readonly where: string,
    private readonly names: Readonly<Record<string, number>> = {},
  ) {
    for (const a of parseNlas(buf, where)) this.byType.set(a.type, a.value);
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  raw(type: number): Buffer | undefined {
    return this.byType.get(type);
  }

  private name(type: number): string {
    for (const [n, v] of Object.entries(this.names)) if (v === type) return n;
    return `attribute ${type}`;
  }

  private sized(type: number, min: number): Buffer | undefined {
    const v = this.byType.get(type);
    if (v === undefined) return undefined;
    if (v.length < min) throw new NlaError(`${this.where}: ${this.name(type)} has ${v.length} bytes, expected ${min}`);
    return v;
  }

  /** `set.req(A.X, set.u32(A.X))`: the value, or an error naming the missing attribute. */
  req<T>(type: number, v: T | undefined): T {
    if (v === undefined) throw new NlaError(`${this.where}: ${this.name(type)} missing`);
    return v;
  }

  u8(type: number): number | undefined {
    return this.sized(type, 1)?.readUInt8(0);
  }
  u16(type: number): number | undefined {
    return this.sized(type, 2)?.readUInt16LE(0);
  }
  be16(type: number): number | undefined {
    return this.sized(type, 2)?.readUInt16BE(0);
  }
  u32(type: number): number | undefined {
    return this.sized(type, 4)?.readUInt32LE(0);
  }
  be32(type: number): number | undefined {
    return this.sized(type, 4)?.readUInt32BE(0);
  }
  u64(type: number): bigint | undefined {
    return this.sized(type, 8)?.readBigUInt64LE(0);
  }
  /** A string up to the first NUL (or the whole value when there is none). */
  string(type: number): string | undefined {
    const v = this.byType.get(type);
    if (v === undefined) return undefined;
    const nul = v.indexOf(0);
    return v.subarray(0, nul === -1 ? v.length : nul).toString('utf8');
  }
  nested(type: number, where: string, names?: Readonly<Record<string, number>>): NlaSet | undefined {
    const v = this.byType.get(type);
    return v === undefined ? undefined : new NlaSet(v, `${this.where} ${where}`, names);
  }
}
