import { describe, expect, it } from 'vitest';
import { decodeAdvert, encodeAdvert, passwordAuthData, type AdvertFields, type PacketMeta, type VrrpAdvert } from '../../../src/vrrp/codec.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/vrrp/checksum.js';
import { countDrop, validateAdvert, type AdvertExpectations, type DropCounters } from '../../../src/vrrp/validate.js';

const meta: PacketMeta = { family: 4, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255 };
const instance: AdvertExpectations = { name: 'VI_1', version: 3, family: 4, vrid: 51, addresses: ['192.0.2.100', '192.0.2.101'], intervalCs: 100, auth: { type: 'none' } };
const fields: AdvertFields = { version: 3, vrid: 51, priority: 150, intervalCs: 100, addresses: ['192.0.2.101', '192.0.2.100'] };

function advert(f: AdvertFields = fields, m: PacketMeta = meta, hmac?: Parameters<typeof encodeAdvert>[2]): VrrpAdvert {
  const r = decodeAdvert(encodeAdvert(f, m, hmac), m);
  if (!r.ok) throw new Error(r.detail);
  return r.value;
}

describe('validateAdvert', () => {
  it('accepts a matching advert whatever the VIP order', () => {
    expect(validateAdvert(advert(), meta, instance)).toEqual({ ok: true });
  });

  it.each([
    ['bad-ttl', () => validateAdvert(advert(), { ...meta, ttl: 64 }, instance), /TTL 64, must be 255/],
    ['bad-ttl (IPv6 says hop limit)', () => {
      const m6: PacketMeta = { family: 6, src: 'fe80::1', dst: 'ff02::12', ttl: 1 };
      return validateAdvert(advert({ ...fields, addresses: ['2001:db8::1'] }, m6), m6, { ...instance, family: 6, addresses: ['2001:db8::1'] });
    }, /hop limit 1, must be 255/],
    ['bad-version (family)', () => validateAdvert(advert(), meta, { ...instance, family: 6 }), /IPv4 advert for an IPv6 instance/],
    ['bad-version', () => validateAdvert(advert(), meta, { ...instance, version: 2 }), /version 3, instance VI_1 speaks 2/],
    ['bad-vrid', () => validateAdvert(advert({ ...fields, vrid: 52 }), meta, instance), /VRID 52, instance VI_1 is VRID 51/],
    ['bad-count', () => validateAdvert(advert({ ...fields, addresses: ['192.0.2.100'] }), meta, instance), /count 1 addresses, instance VI_1 has 2/],
    ['addresses-mismatch', () => validateAdvert(advert({ ...fields, addresses: ['192.0.2.100', '192.0.2.102'] }), meta, instance), /address 192\.0\.2\.101 of VRID 51 missing/],
    ['bad-destination (unicast packet, multicast instance)', () => {
      const m = { ...meta, dst: '192.0.2.2' };
      return validateAdvert(advert(fields, m), m, instance);
    }, /unicast destination 192\.0\.2\.2, instance VI_1 is multicast/],
    ['bad-destination (multicast packet, unicast instance)', () => validateAdvert(advert(), meta, { ...instance, unicastPeers: ['192.0.2.1'] }), /multicast destination/],
    ['unknown-peer', () => {
      const m = { ...meta, dst: '192.0.2.2', src: '192.0.2.9' };
      return validateAdvert(advert(fields, m), m, { ...instance, unicastPeers: ['192.0.2.1'] });
    }, /source 192\.0\.2\.9 is not a configured unicast peer/],
    ['bad-source (IPv6 not link-local)', () => {
      const m6: PacketMeta = { family: 6, src: '2001:db8::1', dst: 'ff02::12', ttl: 255 };
      return validateAdvert(advert({ ...fields, addresses: ['2001:db8::9'] }, m6), m6, { ...instance, family: 6, addresses: ['2001:db8::9'] });
    }, /not an IPv6 link-local/],
  ] as const)('%s', (reason, run, detail) => {
    const r = run();
    expect(r).toMatchObject({ ok: false, reason: reason.split(' ')[0] });
    if (!r.ok) expect(r.detail).toMatch(detail);
  });

  it('unicast skips the TTL check, like keepalived', () => {
    const m = { ...meta, dst: '192.0.2.2', ttl: 60 };
    expect(validateAdvert(advert(fields, m), m, { ...instance, unicastPeers: ['192.0.2.1'] })).toEqual({ ok: true });
  });

  it('a transport that cannot see the hop limit (ttl undefined) is not dropped for it', () => {
    const m6: PacketMeta = { family: 6, src: 'fe80::1', dst: 'ff02::12' };
    expect(validateAdvert(advert({ ...fields, addresses: ['2001:db8::1'] }, m6), m6, { ...instance, family: 6, addresses: ['2001:db8::1'] })).toEqual({ ok: true });
  });

  describe('VRRPv2', () => {
    const v2: AdvertFields = { version: 2, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.100'], authType: 1, authData: passwordAuthData('pw') };
    const inst2: AdvertExpectations = { ...instance, version: 2, addresses: ['192.0.2.100'], auth: { type: 'pass', password: 'pw' } };
    it('accepts the right password and interval', () => expect(validateAdvert(advert(v2), meta, inst2)).toEqual({ ok: true }));
    it('interval-mismatch', () => expect(validateAdvert(advert({ ...v2, intervalCs: 200 }), meta, inst2)).toMatchObject({ reason: 'interval-mismatch', detail: 'advert interval 2 s, ours 1 s' }));
    it('auth-mismatch on password', () => expect(validateAdvert(advert({ ...v2, authData: passwordAuthData('PW') }), meta, inst2)).toMatchObject({ reason: 'auth-mismatch', detail: 'simple password differs' }));
    it('auth-mismatch on type', () => expect(validateAdvert(advert({ ...v2, authType: 0 }), meta, inst2)).toMatchObject({ reason: 'auth-mismatch', detail: 'auth type 0, expected 1' }));
    it('bad-auth-type for IPsec AH (2) and unknown types', () => {
      expect(validateAdvert(advert({ ...v2, authType: 2 }), meta, inst2)).toMatchObject({ reason: 'bad-auth-type' });
      expect(validateAdvert(advert({ ...v2, authType: 9 }), meta, inst2)).toMatchObject({ reason: 'bad-auth-type', detail: /auth type 9/ });
    });
    it('passwords longer than 8 bytes compare on the first 8, as keepalived truncates them', () => {
      expect(validateAdvert(advert({ ...v2, authData: passwordAuthData('12345678') }), meta, { ...inst2, auth: { type: 'pass', password: '12345678-ignored' } })).toEqual({ ok: true });
    });
  });

  describe('HMAC', () => {
    const key = new Uint8Array(32).fill(1);
    const inst: AdvertExpectations = { ...instance, auth: { type: 'hmac', keys: new Map([[1, key]]) } };
    it('accepts a signed advert and returns its counter', () => {
      expect(validateAdvert(advert(fields, meta, { key, keyId: 1, counter: 10n }), meta, inst, 9n)).toEqual({ ok: true, hmacCounter: 10n });
    });
    it('hmac-replay: counter not above the last accepted one', () => {
      const a = advert(fields, meta, { key, keyId: 1, counter: 10n });
      expect(validateAdvert(a, meta, inst, 10n)).toMatchObject({ reason: 'hmac-replay', detail: /counter 10 not above last accepted 10 from 192\.0\.2\.1/ });
    });
    it('hmac-forged: wrong key, or a replay from another source address', () => {
      expect(validateAdvert(advert(fields, meta, { key: new Uint8Array(32), keyId: 1, counter: 10n }), meta, inst)).toMatchObject({ reason: 'hmac-forged' });
      const signedFor = advert(fields, meta, { key, keyId: 1, counter: 10n });
      expect(validateAdvert(signedFor, { ...meta, src: '192.0.2.66' }, inst)).toMatchObject({ reason: 'hmac-forged' });
    });
    it('hmac-forged: a priority edited after signing, with the checksum fixed up by the attacker', () => {
      const bytes = encodeAdvert(fields, meta, { key, keyId: 1, counter: 10n });
      bytes[2] = 254;
      bytes[6] = 0;
      bytes[7] = 0;
      const sum = internetChecksum(bytes, pseudoHeaderSum(4, Uint8Array.of(192, 0, 2, 1), Uint8Array.of(224, 0, 0, 18), bytes.length));
      bytes[6] = sum >> 8;
      bytes[7] = sum & 0xff;
      const decoded = decodeAdvert(bytes, meta);
      if (!decoded.ok) throw new Error(decoded.detail);
      expect(decoded.value.priority).toBe(254);
      expect(validateAdvert(decoded.value, meta, inst)).toMatchObject({ reason: 'hmac-forged' });
    });
    it('hmac-bad-key-id, hmac-missing, hmac-unexpected', () => {
      expect(validateAdvert(advert(fields, meta, { key, keyId: 2, counter: 1n }), meta, inst)).toMatchObject({ reason: 'hmac-bad-key-id', detail: /key id 2/ });
      expect(validateAdvert(advert(), meta, inst)).toMatchObject({ reason: 'hmac-missing' });
      expect(validateAdvert(advert(fields, meta, { key, keyId: 1, counter: 1n }), meta, instance)).toMatchObject({ reason: 'hmac-unexpected' });
    });
  });
});

describe('countDrop', () => {
  it('counts per reason without mutating', () => {
    const a: DropCounters = {};
    const b = countDrop(countDrop(a, 'hmac-replay'), 'hmac-replay');
    const c = countDrop(b, 'hmac-forged');
    expect(a).toEqual({});
    expect(c).toEqual({ 'hmac-replay': 2, 'hmac-forged': 1 });
  });
});
