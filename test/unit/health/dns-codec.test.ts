import { describe, expect, it } from 'vitest';
import { checkResponse, decodeHeader, decodeName, decodeQuestion, encodeQuery, nameToLabels, RECORD_TYPES } from '../../../src/health/dns-codec.js';

/** Build a response to `query` by flipping QR and setting an rcode; answers are not needed for the verdict. */
function responseTo(query: Buffer, rcode = 0, id?: number): Buffer {
  const r = Buffer.from(query);
  r.writeUInt16BE(0x8180 | rcode, 2);
  if (id !== undefined) r.writeUInt16BE(id, 0);
  return r;
}

describe('dns query encoding', () => {
  it('encodes the RFC 1035 layout byte for byte', () => {
    const buf = encodeQuery({ id: 0xbeef, name: 'www.example.com', type: RECORD_TYPES.A, recursionDesired: true });
    expect(buf.toString('hex')).toBe(
      'beef' + '0100' + '0001' + '0000' + '0000' + '0000' +
        '03777777' + '076578616d706c65' + '03636f6d' + '00' + '0001' + '0001',
    );
  });
  it('accepts a trailing dot and the root', () => {
    expect(encodeQuery({ id: 1, name: 'a.b.', type: 28, recursionDesired: false }).subarray(12).toString('hex')).toBe('0161016200' + '001c' + '0001');
    expect(nameToLabels('.')).toEqual([]);
  });
  it.each([
    ['a..b', /empty label/],
    ['x'.repeat(64) + '.com', /longer than 63/],
    [Array.from({ length: 50 }, () => 'abcde').join('.'), /longer than 255/],
    ['bad name.com', /printable/],
  ])('rejects %j', (name, err) => {
    expect(() => encodeQuery({ id: 1, name, type: 1, recursionDesired: true })).toThrow(err);
  });
  it('rejects ids outside 16 bits', () => {
    expect(() => encodeQuery({ id: 70000, name: 'a', type: 1, recursionDesired: true })).toThrow(/id 70000/);
  });
});

describe('dns response decoding', () => {
  const query = { id: 0x1234, name: 'svc.example.org', type: RECORD_TYPES.AAAA, recursionDesired: true };
  const wire = encodeQuery(query);

  it('round-trips header and question', () => {
    const h = decodeHeader(responseTo(wire));
    expect(h.ok && h.value).toMatchObject({ id: 0x1234, isResponse: true, rcode: 0, qdcount: 1 });
    const q = decodeQuestion(wire, 12);
    expect(q.ok && q.value).toEqual({ name: 'svc.example.org', type: 28, class: 1 });
  });
  it('accepts a NOERROR answer to the same question, case-insensitively', () => {
    const r = responseTo(wire);
    r.write('SVC', 13, 'ascii');
    expect(checkResponse(r, query)).toEqual({ kind: 'ok' });
  });
  it('names the rcode of a failed answer', () => {
    expect(checkResponse(responseTo(wire, 3), query)).toEqual({ kind: 'bad', reason: 'DNS NXDOMAIN' });
    expect(checkResponse(responseTo(wire, 2), query)).toEqual({ kind: 'bad', reason: 'DNS SERVFAIL' });
  });
  it('treats another id, a query, or a short packet as foreign', () => {
    expect(checkResponse(responseTo(wire, 0, 0x9999), query).kind).toBe('foreign');
    expect(checkResponse(wire, query).kind).toBe('foreign');
    expect(checkResponse(Buffer.alloc(5), query)).toMatchObject({ kind: 'foreign', reason: 'dns header: 5 bytes, need 12' });
  });
  it('rejects an answer to a different question', () => {
    const other = responseTo(encodeQuery({ ...query, type: RECORD_TYPES.A }));
    expect(checkResponse(other, query)).toMatchObject({ kind: 'bad', reason: expect.stringContaining('type 1') });
  });
  it('follows compression pointers and stops on loops and overruns', () => {
    // "example.org" at 12, then "svc" + pointer to 12 at 25
    const buf = Buffer.concat([Buffer.alloc(12), Buffer.from('076578616d706c65036f726700', 'hex'), Buffer.from('03737663c00c', 'hex')]);
    const n = decodeName(buf, 25);
    expect(n).toEqual({ ok: true, value: 'svc.example.org', next: 31 });
    const loop = Buffer.from('c000', 'hex');
    expect(decodeName(loop, 0)).toMatchObject({ ok: false, error: expect.stringContaining('pointer forward') });
    expect(decodeName(Buffer.from('05abc', 'hex'), 0).ok).toBe(false);
    expect(decodeName(Buffer.from('40', 'hex'), 0)).toMatchObject({ ok: false, error: expect.stringContaining('reserved') });
  });
  it('never throws on random bytes', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(Array.from({ length: rnd() % 64 }, rnd));
      expect(() => checkResponse(buf, query)).not.toThrow();
    }
  });
});
