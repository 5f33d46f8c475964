import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../../src/vrrp/checksum.js';
import {
  decodeAdvert,
  decodeIpPacket,
  encodeAdvert,
  encodeIpv4Packet,
  encodeIpv6Packet,
  passwordAuthData,
  type AddressPair,
  type AdvertFields,
  type Decoded,
} from '../../../src/vrrp/codec.js';
import { HMAC_TRAILER_LENGTH } from '../../../src/vrrp/hmac-trailer.js';

const v4: AddressPair = { family: 4, src: '192.0.2.1', dst: '224.0.0.18' };
const v6: AddressPair = { family: 6, src: 'fe80::1', dst: 'ff02::12' };
const base3: AdvertFields = { version: 3, vrid: 7, priority: 100, intervalCs: 100, addresses: ['192.0.2.10', '192.0.2.11'] };

function value<T>(r: Decoded<T>): T {
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.value;
}

function expectDrop<T>(r: Decoded<T>, reason: string, detail?: RegExp): void {
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.reason).toBe(reason);
    if (detail) expect(r.detail).toMatch(detail);
  }
}

describe('encode/decode round trips', () => {
  it('VRRPv3 IPv4 keeps every field, including the 12-bit centisecond interval', () => {
    const fields = { ...base3, intervalCs: 4095, priority: 254 };
    const bytes = encodeAdvert(fields, v4);
    expect(bytes.length).toBe(8 + 2 * 4);
    expect(bytes[0]).toBe(0x31);
    expect(value(decodeAdvert(bytes, v4))).toMatchObject({ ...fields, family: 4 });
  });

  it('VRRPv3 IPv6 with 16-byte addresses and pseudo-header checksum', () => {
    const fields: AdvertFields = { version: 3, vrid: 255, priority: 1, intervalCs: 5, addresses: ['2001:db8::1', 'fe80::abcd'] };
    const bytes = encodeAdvert(fields, v6);
    expect(bytes.length).toBe(8 + 32);
    expect(value(decodeAdvert(bytes, v6))).toMatchObject({ ...fields, family: 6 });
  });

  it('VRRPv2 carries whole seconds, the auth type and 8 bytes of auth data', () => {
    const fields: AdvertFields = { version: 2, vrid: 9, priority: 50, intervalCs: 300, addresses: ['192.0.2.20'], authType: 1, authData: passwordAuthData('secret') };
    const bytes = encodeAdvert(fields, v4);
    expect(bytes.length).toBe(8 + 4 + 8);
    expect(bytes[4]).toBe(1);
    expect(bytes[5]).toBe(3);
    expect(Buffer.from(bytes.subarray(12)).toString('latin1')).toBe('secret\0\0');
    const d = value(decodeAdvert(bytes, v4));
    expect(d).toMatchObject({ version: 2, vrid: 9, priority: 50, intervalCs: 300, addresses: ['192.0.2.20'], authType: 1 });
    // v2 has no pseudo-header: the same bytes verify whatever the addresses.
    expect(decodeAdvert(bytes, { family: 4, src: '192.0.2.99', dst: '192.0.2.98' }).ok).toBe(true);
  });

  it('VRRPv2 checksum is the plain Internet checksum of the VRRP packet', () => {
    const bytes = encodeAdvert({ version: 2, vrid: 1, priority: 100, intervalCs: 100, addresses: ['192.0.2.1'] }, v4);
    expect(internetChecksum(bytes)).toBe(0);
  });

  it('v3 checksum depends on the pseudo-header: another destination fails with bad-checksum naming both', () => {
    const bytes = encodeAdvert(base3, v4);
    expectDrop(decodeAdvert(bytes, { ...v4, dst: '192.0.2.2' }), 'bad-checksum', /checksum 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}.*192\.0\.2\.1 -> 192\.0\.2\.2/);
  });

  it('whole IPv4 and IPv6 packets round trip with TTL/hop limit and addresses', () => {
    const p4 = value(decodeIpPacket(encodeIpv4Packet(base3, { src: '192.0.2.1', dst: '224.0.0.18', ttl: 255, id: 77 })));
    expect(p4.meta).toEqual({ family: 4, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255 });
    expect(p4.advert.addresses).toEqual(base3.addresses);
    const f6: AdvertFields = { version: 3, vrid: 3, priority: 200, intervalCs: 100, addresses: ['2001:db8::5'] };
    const p6 = value(decodeIpPacket(encodeIpv6Packet(f6, { src: 'fe80::2', dst: 'ff02::12', hopLimit: 254 })));
    expect(p6.meta).toEqual({ family: 6, src: 'fe80::2', dst: 'ff02::12', ttl: 254 });
  });

  it('a zero-address advert round trips (count 0 is legal on the wire; validation decides)', () => {
    const bytes = encodeAdvert({ ...base3, addresses: [] }, v4);
    expect(value(decodeAdvert(bytes, v4)).addresses).toEqual([]);
  });
});

describe('HMAC trailer', () => {
  const key = new Uint8Array(32).fill(7);
  it('appends 48 bytes and decodes key id and counter; the checksum covers the trailer', () => {
    const bytes = encodeAdvert(base3, v4, { key, keyId: 3, counter: 0x0102030405060708n });
    expect(bytes.length).toBe(16 + HMAC_TRAILER_LENGTH);
    expect(Buffer.from(bytes.subarray(16, 20)).toString('latin1')).toBe('LKH1');
    const d = value(decodeAdvert(bytes, v4));
    expect(d.hmac?.keyId).toBe(3);
    expect(d.hmac?.counter).toBe(0x0102030405060708n);
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 1] = (flipped[bytes.length - 1] ?? 0) ^ 1;
    expectDrop(decodeAdvert(flipped, v4), 'bad-checksum');
  });

  it('works for VRRPv2 (auth type forced to 0) and IPv6', () => {
    const d2 = value(decodeAdvert(encodeAdvert({ version: 2, vrid: 1, priority: 9, intervalCs: 100, addresses: ['192.0.2.1'], authType: 1, authData: passwordAuthData('x') }, v4, { key, keyId: 0, counter: 1n }), v4));
    expect(d2.authType).toBe(0);
    expect(d2.hmac?.counter).toBe(1n);
    const d6 = value(decodeAdvert(encodeAdvert({ version: 3, vrid: 1, priority: 9, intervalCs: 100, addresses: ['2001:db8::1'] }, v6, { key, keyId: 1, counter: 2n }), v6));
    expect(d6.hmac?.keyId).toBe(1);
  });

  it('extra bytes that are not a trailer are bad-length', () => {
    const bytes = encodeAdvert(base3, v4);
    const longer = new Uint8Array(bytes.length + HMAC_TRAILER_LENGTH);
    longer.set(bytes);
    expectDrop(decodeAdvert(longer, v4), 'bad-length', /too long for count 2/);
  });
});

describe('decode drop reasons name the field', () => {
  const good = (): Uint8Array => encodeAdvert(base3, v4);
  const mutate = (i: number, v: number): Uint8Array => {
    const b = good();
    b[i] = v;
    return b;
  };
  it('bad-length: shorter than the header', () => expectDrop(decodeAdvert(new Uint8Array(7), v4), 'bad-length', /VRRP length 7, header needs 8/));
  it('bad-length: shorter than count says', () => expectDrop(decodeAdvert(good().subarray(0, 15), v4), 'bad-length', /too short for count 2/));
  it('bad-version: version 4', () => expectDrop(decodeAdvert(mutate(0, 0x41), v4), 'bad-version', /version 4, must be 2 or 3/));
  it('bad-version: VRRPv2 over IPv6', () => expectDrop(decodeAdvert(mutate(0, 0x21), v6), 'bad-version', /IPv4-only/));
  it('bad-type: type 2', () => expectDrop(decodeAdvert(mutate(0, 0x32), v4), 'bad-type', /type 2, must be 1/));
  it('bad-vrid: VRID 0', () => expectDrop(decodeAdvert(mutate(1, 0), v4), 'bad-vrid', /VRID 0/));
  it('bad-interval: v3 interval 0', () => {
    const b = good();
    b[4] = 0;
    b[5] = 0;
    expectDrop(decodeAdvert(b, v4), 'bad-interval', /max advert interval 0 cs/);
  });
  it('bad-interval: v2 interval 0', () => {
    const b = encodeAdvert({ version: 2, vrid: 1, priority: 1, intervalCs: 100, addresses: ['192.0.2.1'] }, v4);
    b[5] = 0;
    expectDrop(decodeAdvert(b, v4), 'bad-interval', /advert interval 0 s/);
  });
  it('bad-checksum: one flipped payload bit', () => expectDrop(decodeAdvert(mutate(2, 101), v4), 'bad-checksum'));
  it('bad-address: an unparsable source in the metadata', () => expectDrop(decodeAdvert(good(), { ...v4, src: 'nonsense' }), 'bad-address', /packet src: "nonsense"/));

  const ip4 = (): Uint8Array => encodeIpv4Packet(base3, { src: '192.0.2.1', dst: '224.0.0.18' });
  it('bad-ip-version', () => expectDrop(decodeIpPacket(Uint8Array.of(0x50, 0, 0)), 'bad-ip-version', /IP version 5/));
  it('bad-length: empty and short IP packets', () => {
    expectDrop(decodeIpPacket(new Uint8Array()), 'bad-length', /empty/);
    expectDrop(decodeIpPacket(ip4().subarray(0, 19)), 'bad-length', /IPv4 packet length 19/);
    expectDrop(decodeIpPacket(encodeIpv6Packet({ version: 3, vrid: 1, priority: 1, intervalCs: 1, addresses: ['fe80::9'] }, { src: 'fe80::1', dst: 'ff02::12' }).subarray(0, 39)), 'bad-length', /IPv6 packet length 39/);
  });
  it('bad-ip-header: IHL below 5', () => {
    const b = ip4();
    b[0] = 0x44;
    expectDrop(decodeIpPacket(b), 'bad-ip-header', /IPv4 header length 16/);
  });
  it('bad-length: IPv4 total length disagrees with what was received', () => {
    const b = ip4();
    expectDrop(decodeIpPacket(b.subarray(0, b.length - 1)), 'bad-length', /IPv4 total length 36, received 35/);
  });
  it('bad-checksum: IPv4 header checksum', () => {
    const b = ip4();
    b[8] = 64; // TTL changed without fixing the header checksum
    expectDrop(decodeIpPacket(b), 'bad-checksum', /IPv4 header checksum/);
  });
  it('bad-protocol: IPv4 protocol and IPv6 next header', () => {
    const b = ip4();
    b[9] = 17;
    b[10] = 0;
    b[11] = 0;
    const s = internetChecksum(b.subarray(0, 20));
    b[10] = s >> 8;
    b[11] = s & 0xff;
    expectDrop(decodeIpPacket(b), 'bad-protocol', /IPv4 protocol 17/);
    const b6 = encodeIpv6Packet({ version: 3, vrid: 1, priority: 1, intervalCs: 1, addresses: ['fe80::9'] }, { src: 'fe80::1', dst: 'ff02::12' });
    b6[6] = 0;
    expectDrop(decodeIpPacket(b6), 'bad-protocol', /IPv6 next header 0/);
  });
  it('bad-length: IPv6 payload length disagrees', () => {
    const b6 = encodeIpv6Packet({ version: 3, vrid: 1, priority: 1, intervalCs: 1, addresses: ['fe80::9'] }, { src: 'fe80::1', dst: 'ff02::12' });
    b6[5] = (b6[5] ?? 0) + 1;
    expectDrop(decodeIpPacket(b6), 'bad-length', /IPv6 payload length/);
  });
});

describe('encode rejects bad configuration with the field named', () => {
  it.each([
    [{ ...base3, vrid: 0 }, v4, /advert\.vrid: 0/],
    [{ ...base3, priority: 256 }, v4, /advert\.priority: 256/],
    [{ ...base3, intervalCs: 4096 }, v4, /advert\.intervalCs: 4096/],
    [{ ...base3, version: 2, intervalCs: 150 }, v4, /not whole seconds/],
    [{ ...base3, version: 2 }, v6, /IPv4-only/],
    [{ ...base3, addresses: ['192.0.2.300'] }, v4, /advert\.addresses\[0\]: "192\.0\.2\.300"/],
    [{ ...base3, addresses: ['192.0.2.1'] }, v6, /not a valid IPv6/],
  ] as const)('%#', (fields, addrs, message) => {
    expect(() => encodeAdvert(fields as AdvertFields, addrs)).toThrow(message);
  });
  it('v2 auth data must be 8 bytes', () => {
    expect(() => encodeAdvert({ version: 2, vrid: 1, priority: 1, intervalCs: 100, addresses: [], authData: new Uint8Array(3) }, v4)).toThrow(/authData: 3 bytes/);
  });
});
