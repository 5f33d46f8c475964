/**
 * The small part of the DNS wire format (RFC 1035) a health check needs: encode one query, and decode a
 * response's header and first question to see that it answers that query. Decoding never throws on hostile
 * input; it returns an error text naming the field.
 */
import type { DnsRecordType } from './types.js';

export const RECORD_TYPES: Record<DnsRecordType, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, ANY: 255,
};

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
};

const CLASS_IN = 1;
const HEADER_BYTES = 12;

export interface DnsQuery {
  id: number;
  name: string;
  type: number;
  recursionDesired: boolean;
}

/** Labels of a name: trailing dot allowed, `.` alone is the root. Throws on empty/oversized labels. */
export function nameToLabels(name: string): string[] {
  if (name === '.' || name === '') return [];
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed.split('.');
  let wire = 1;
  for (const label of labels) {
    const len = Buffer.byteLength(label, 'ascii');
    if (len === 0) throw new Error(`dns name "${name}": empty label`);
    if (len > 63) throw new Error(`dns name "${name}": label "${label.slice(0, 20)}..." longer than 63 bytes`);
    if (!/^[\x21-\x7e]+$/.test(label)) throw new Error(`dns name "${name}": label "${label}" is not printable ASCII`);
    wire += len + 1;
  }
  if (wire > 255) throw new Error(`dns name "${name}": longer than 255 bytes on the wire`);
  return labels;
}

export function encodeQuery(q: DnsQuery): Buffer {
  if (!Number.isInteger(q.id) || q.id < 0 || q.id > 0xffff) throw new Error(`dns query id ${q.id} is not 0..65535`);
  if (!Number.isInteger(q.type) || q.type < 0 || q.type > 0xffff) throw new Error(`dns query type ${q.type} is not 0..65535`);
  const labels = nameToLabels(q.name);
  const nameBytes = labels.reduce((n, l) => n + l.length + 1, 1);
  const buf = Buffer.alloc(HEADER_BYTES + nameBytes + 4);
  buf.writeUInt16BE(q.id, 0);
  buf.writeUInt16BE(q.recursionDesired ? 0x0100 : 0, 2); // QR=0 query, OPCODE=0, RD bit
  buf.writeUInt16BE(1, 4); // QDCOUNT
  let off = HEADER_BYTES;
  for (const label of labels) {
    buf.writeUInt8(label.length, off);
    buf.write(label, off + 1, 'ascii');
    off += label.length + 1;
  }
  buf.writeUInt8(0, off);
  buf.writeUInt16BE(q.type, off + 1);
  buf.writeUInt16BE(CLASS_IN, off + 3);
  return buf;
}

export interface DnsHeader {
  id: number;
  isResponse: boolean;
  opcode: number;
  truncated: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export type Decoded<T> = { ok: true; value: T; next: number } | { ok: false; error: string };

export function decodeHeader(buf: Buffer): Decoded<DnsHeader> {
  if (buf.length < HEADER_BYTES) return { ok: false, error: `dns header: ${buf.length} bytes, need ${HEADER_BYTES}` };
  const flags = buf.readUInt16BE(2);
  return {
    ok: true,
    next: HEADER_BYTES,
    value: {
      id: buf.readUInt16BE(0),
      isResponse: (flags & 0x8000) !== 0,
      opcode: (flags >> 11) & 0x0f,
      truncated: (flags & 0x0200) !== 0,
      rcode: flags & 0x000f,
      qdcount: buf.readUInt16BE(4),
      ancount: buf.readUInt16BE(6),
      nscount: buf.readUInt16BE(8),
      arcount: buf.readUInt16BE(10),
    },
  };
}

/** Decode a possibly compressed name at `offset`. Pointer loops and overruns are errors, not hangs. */
export function decodeName(buf: Buffer, offset: number): Decoded<string> {
  const labels: string[] = [];
  let off = offset;
  let next = -1; // where parsing continues after the name: set at the first pointer
  let wire = 0;
  for (let hops = 0; hops < 128; hops++) {
    if (off >= buf.length) return { ok: false, error: `dns name at byte ${offset}: runs past the end` };
    const len = buf.readUInt8(off);
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) return { ok: false, error: `dns name at byte ${offset}: truncated pointer` };
      const target = ((len & 0x3f) << 8) | buf.readUInt8(off + 1);
      if (next < 0) next = off + 2;
      if (target >= off) return { ok: false, error: `dns name at byte ${offset}: pointer forward to ${target}` };
      off = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return { ok: false, error: `dns name at byte ${offset}: reserved label type 0x${len.toString(16)}` };
    if (len === 0) {
      return { ok: true, value: labels.length === 0 ? '.' : labels.join('.'), next: next < 0 ? off + 1 : next };
    }
    if (off + 1 + len > buf.length) return { ok: false, error: `dns name at byte ${offset}: label runs past the end` };
    wire += len + 1;
    if (wire > 255) return { ok: false, error: `dns name at byte ${offset}: longer than 255 bytes` };
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += len + 1;
  }
  return { ok: false, error: `dns name at byte ${offset}: too many compression pointers` };
}

export function decodeQuestion(buf: Buffer, offset: number): Decoded<DnsQuestion> {
  const name = decodeName(buf, offset);
  if (!name.ok) return name;
  if (name.next + 4 > buf.length) return { ok: false, error: `dns question at byte ${offset}: type/class truncated` };
  return {
    ok: true,
    next: name.next + 4,
    value: { name: name.value, type: buf.readUInt16BE(name.next), class: buf.readUInt16BE(name.next + 2) },
  };
}

function sameName(a: string, b: string): boolean {
  const norm = (s: string): string => (s.endsWith('.') && s !== '.' ? s.slice(0, -1) : s === '' ? '.' : s).toLowerCase();
  return norm(a) === norm(b);
}

/**
 * Verdict on a response to `query`: undefined when it is a NOERROR answer to that very question, else the
 * reason. `kind: 'foreign'` marks datagrams that are not an answer to us at all (wrong id): keep waiting.
 */
export function checkResponse(buf: Buffer, query: DnsQuery): { kind: 'ok' } | { kind: 'foreign' | 'bad'; reason: string } {
  const h = decodeHeader(buf);
  if (!h.ok) return { kind: 'foreign', reason: h.error };
  if (h.value.id !== query.id) return { kind: 'foreign', reason: `dns id ${h.value.id} != query id ${query.id}` };
  if (!h.value.isResponse) return { kind: 'foreign', reason: 'dns packet with QR=0 (a query, not a response)' };
  if (h.value.rcode !== 0) {
    const name = RCODE_NAMES[h.value.rcode] ?? `rcode ${h.value.rcode}`;
    return { kind: 'bad', reason: `DNS ${name}` };
  }
  if (h.value.qdcount >= 1) {
    const q = decodeQuestion(buf, h.next);
    if (!q.ok) return { kind: 'bad', reason: q.error };
    if (!sameName(q.value.name, query.name) || q.value.type !== query.type) {
      return { kind: 'bad', reason: `dns answer is for ${q.value.name} type ${q.value.type}, asked ${query.name} type ${query.type}` };
    }
  }
  return { kind: 'ok' };
}
