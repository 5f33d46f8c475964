// Real keepalived 2.2.7 adverts (see test/fixtures/vrrp/README.md): decode them, check every field against the
// configuration they were captured with, and re-encode them byte for byte.
import { describe, expect, it } from 'vitest';
import { decodeIpPacket, encodeIpv4Packet, encodeIpv6Packet, passwordAuthData, type DecodedPacket } from '../../../src/vrrp/codec.js';
import { validateAdvert } from '../../../src/vrrp/validate.js';
import { hex, loadFixture } from './fixture-loader.js';

function decodeOk(buf: Uint8Array): DecodedPacket {
  const r = decodeIpPacket(buf);
  if (!r.ok) throw new Error(`fixture did not decode: ${r.reason}: ${r.detail}`);
  return r.value;
}

function reencode(buf: Uint8Array, p: DecodedPacket): Uint8Array {
  const { advert, meta } = p;
  if (meta.family === 4) {
    return encodeIpv4Packet(advert, { src: meta.src, dst: meta.dst, ttl: meta.ttl, id: ((buf[4] ?? 0) << 8) | (buf[5] ?? 0), tos: buf[1] ?? 0 });
  }
  const word = new DataView(buf.buffer, buf.byteOffset).getUint32(0, false);
  return encodeIpv6Packet(advert, { src: meta.src, dst: meta.dst, hopLimit: meta.ttl, trafficClass: (word >>> 20) & 0xff, flowLabel: word & 0xfffff });
}

const cases = [
  { name: 'v3-ipv4', count: 5, version: 3, family: 4, vrid: 51, priority: 150, intervalCs: 100, src: '192.0.2.1', dst: '224.0.0.18', addresses: ['192.0.2.100', '192.0.2.101'] },
  { name: 'v3-ipv4-stop', count: 1, version: 3, family: 4, vrid: 51, priority: 0, intervalCs: 100, src: '192.0.2.1', dst: '224.0.0.18', addresses: ['192.0.2.100', '192.0.2.101'] },
  { name: 'v3-ipv6', count: 5, version: 3, family: 6, vrid: 52, priority: 200, intervalCs: 50, src: 'fe80::ff:fe00:a', dst: 'ff02::12', addresses: ['2001:db8::100', 'fe80::100'] },
  { name: 'v2-auth-pass', count: 5, version: 2, family: 4, vrid: 53, priority: 120, intervalCs: 100, src: '192.0.2.1', dst: '224.0.0.18', addresses: ['192.0.2.110'] },
  { name: 'v3-ipv4-unicast', count: 5, version: 3, family: 4, vrid: 54, priority: 100, intervalCs: 100, src: '192.0.2.1', dst: '192.0.2.2', addresses: ['192.0.2.120'] },
  { name: 'v3-ipv4-owner', count: 3, version: 3, family: 4, vrid: 55, priority: 255, intervalCs: 100, src: '192.0.2.1', dst: '224.0.0.18', addresses: ['192.0.2.130'] },
] as const;

describe('keepalived 2.2.7 captures', () => {
  for (const c of cases) {
    it(`${c.name}: decodes to the captured configuration and re-encodes byte for byte`, () => {
      const packets = loadFixture(c.name);
      expect(packets).toHaveLength(c.count);
      for (const buf of packets) {
        const p = decodeOk(buf);
        expect(p.meta).toEqual({ family: c.family, src: c.src, dst: c.dst, ttl: 255 });
        expect(p.advert).toMatchObject({ version: c.version, family: c.family, vrid: c.vrid, priority: c.priority, intervalCs: c.intervalCs, addresses: [...c.addresses] });
        expect(p.advert.hmac).toBeUndefined();
        expect(hex(reencode(buf, p))).toBe(hex(buf));
      }
    });
  }

  it('v2 simple password is the zero-padded auth_pass, and validates against it', () => {
    const p = decodeOk(loadFixture('v2-auth-pass')[0] ?? new Uint8Array());
    expect(p.advert.authType).toBe(1);
    expect(hex(p.advert.authData ?? new Uint8Array())).toBe(hex(passwordAuthData('lvs-pass')));
    const instance = { name: 'VI2', version: 2, family: 4, vrid: 53, addresses: ['192.0.2.110'], intervalCs: 100, auth: { type: 'pass', password: 'lvs-pass' } } as const;
    expect(validateAdvert(p.advert, p.meta, instance)).toEqual({ ok: true });
    expect(validateAdvert(p.advert, p.meta, { ...instance, auth: { type: 'pass', password: 'other' } })).toMatchObject({ ok: false, reason: 'auth-mismatch' });
  });

  it('unicast v3 checksum uses the real destination in the pseudo-header (not 224.0.0.18)', () => {
    const buf = loadFixture('v3-ipv4-unicast')[0] ?? new Uint8Array();
    const p = decodeOk(buf);
    const asMulticast = encodeIpv4Packet(p.advert, { src: p.meta.src, dst: '224.0.0.18' });
    // Same VRRP fields, different pseudo-header: the checksum bytes (IP header 20 + 6) must differ.
    expect(hex(asMulticast.subarray(26, 28))).not.toBe(hex(buf.subarray(26, 28)));
    const instance = { name: 'VIU', version: 3, family: 4, vrid: 54, addresses: ['192.0.2.120'], intervalCs: 100, unicastPeers: ['192.0.2.1'], auth: { type: 'none' } } as const;
    expect(validateAdvert(p.advert, p.meta, instance)).toEqual({ ok: true });
  });

  it('every v3 IPv4 capture validates against the instance it came from', () => {
    const instance = { name: 'VI4', version: 3, family: 4, vrid: 51, addresses: ['192.0.2.101', '192.0.2.100'], intervalCs: 100, auth: { type: 'none' } } as const;
    for (const buf of loadFixture('v3-ipv4')) {
      const p = decodeOk(buf);
      expect(validateAdvert(p.advert, p.meta, instance)).toEqual({ ok: true });
    }
  });

  it('the IPv6 capture validates (link-local source, hop limit 255)', () => {
    const p = decodeOk(loadFixture('v3-ipv6')[0] ?? new Uint8Array());
    const instance = { name: 'VI6', version: 3, family: 6, vrid: 52, addresses: ['fe80::100', '2001:DB8:0::100'], intervalCs: 50, auth: { type: 'none' } } as const;
    expect(validateAdvert(p.advert, p.meta, instance)).toEqual({ ok: true });
  });
});
