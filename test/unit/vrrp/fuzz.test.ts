// Decoding is exposed to anything on the wire: random and mutated buffers must never throw, and whatever decodes
// must re-encode to an equivalent advert. Seeded so a failure reproduces (set VRRP_FUZZ_SEED to replay one).
import { describe, expect, it } from 'vitest';
import { seeded } from '../../harness/seeded-random.js';
import { decodeAdvert, decodeIpPacket, encodeAdvert, encodeIpv4Packet, encodeIpv6Packet, type AddressPair, type Decoded, type DecodedPacket } from '../../../src/vrrp/codec.js';
import { validateAdvert, type AdvertExpectations } from '../../../src/vrrp/validate.js';
import { loadFixture } from './fixture-loader.js';

const mulberry32 = seeded;

const SEED = Number(process.env.VRRP_FUZZ_SEED ?? 0x5eed1234);
const key = new Uint8Array(32).fill(9);

const seeds: Uint8Array[] = [
  ...['v3-ipv4', 'v3-ipv4-stop', 'v3-ipv6', 'v2-auth-pass', 'v3-ipv4-unicast', 'v3-ipv4-owner'].flatMap((n) => loadFixture(n)),
  encodeIpv4Packet({ version: 3, vrid: 1, priority: 100, intervalCs: 100, addresses: ['192.0.2.1'] }, { src: '192.0.2.2', dst: '224.0.0.18' }, { key, keyId: 1, counter: 5n }),
  encodeIpv6Packet({ version: 3, vrid: 1, priority: 100, intervalCs: 100, addresses: ['2001:db8::1'] }, { src: 'fe80::2', dst: 'ff02::12' }, { key, keyId: 1, counter: 5n }),
];

const instances: AdvertExpectations[] = [
  { name: 'v4', version: 3, family: 4, vrid: 51, addresses: ['192.0.2.100', '192.0.2.101'], intervalCs: 100, auth: { type: 'none' } },
  { name: 'v2', version: 2, family: 4, vrid: 53, addresses: ['192.0.2.110'], intervalCs: 100, auth: { type: 'pass', password: 'lvs-pass' } },
  { name: 'v6', version: 3, family: 6, vrid: 52, addresses: ['2001:db8::100', 'fe80::100'], intervalCs: 50, auth: { type: 'hmac', keys: new Map([[1, key]]) } },
];

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const ops = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < ops; i++) {
    const op = Math.floor(rand() * 5);
    if (op === 0 && b.length > 0) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    else if (op === 1 && b.length > 0) {
      const at = Math.floor(rand() * b.length);
      b[at] = (b[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    } else if (op === 2) b = b.subarray(0, Math.floor(rand() * (b.length + 1)));
    else if (op === 3) {
      const extra = new Uint8Array(Math.floor(rand() * 64));
      for (let j = 0; j < extra.length; j++) extra[j] = Math.floor(rand() * 256);
      const joined = new Uint8Array(b.length + extra.length);
      joined.set(b);
      joined.set(extra, b.length);
      b = joined;
    } else if (b.length > 4) {
      // Count and length fields are where parsers go wrong: hit them specifically.
      const fields = [2, 3, 4, 5, 23, 4 + 40, 5 + 40];
      const at = fields[Math.floor(rand() * fields.length)] ?? 0;
      if (at < b.length) b[at] = Math.floor(rand() * 256);
    }
  }
  return b;
}

function checkDecoded(r: Decoded<DecodedPacket>): void {
  if (!r.ok) {
    expect(typeof r.reason).toBe('string');
    expect(r.detail.length).toBeGreaterThan(0);
    return;
  }
  const { advert, meta } = r.value;
  for (const inst of instances) validateAdvert(advert, meta, inst, 3n);
  if (!advert.hmac) {
    // What decodes must encode back to the same fields.
    const again = decodeAdvert(encodeAdvert(advert, meta), meta);
    expect(again.ok).toBe(true);
    if (again.ok) expect({ ...again.value, checksum: 0 }).toEqual({ ...advert, checksum: 0 });
  }
}

// CPU-bound and deterministic: ~1 s idle, 5x that on a loaded 2-core machine, past vitest's 5 s default.
const FUZZ_TIMEOUT_MS = 60_000;

describe(`decoder fuzz (seed 0x${SEED.toString(16)})`, () => {
  it('mutated captures and encoded packets: 20000 cases, never throws', () => {
    const rand = mulberry32(SEED);
    let ok = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = seeds[Math.floor(rand() * seeds.length)] ?? new Uint8Array();
      const buf = mutate(rand, base);
      let r: Decoded<DecodedPacket> | undefined;
      try {
        r = decodeIpPacket(buf);
      } catch (err) {
        throw new Error(`case ${i} threw on ${Buffer.from(buf).toString('hex')}: ${String(err)}`);
      }
      checkDecoded(r);
      if (r.ok) ok++;
    }
    // Some single-bit mutations leave a valid packet (e.g. TTL fixed with its checksum is rare, but truncation to
    // the same length or flips in ignored bits are not): make sure both paths were exercised.
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(20_000);
  }, FUZZ_TIMEOUT_MS);

  it('random buffers as IP packets and as bare VRRP payloads: 20000 cases, never throws', () => {
    const rand = mulberry32(SEED ^ 0xabcdef);
    const pairs: AddressPair[] = [
      { family: 4, src: '192.0.2.1', dst: '224.0.0.18' },
      { family: 6, src: 'fe80::1', dst: 'ff02::12' },
    ];
    for (let i = 0; i < 20_000; i++) {
      const buf = new Uint8Array(Math.floor(rand() * 120));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      // Bias the first byte towards plausible versions so the deeper code runs too.
      if (buf.length > 0 && rand() < 0.5) buf[0] = [0x45, 0x60, 0x31, 0x21][Math.floor(rand() * 4)] ?? 0x45;
      try {
        checkDecoded(decodeIpPacket(buf));
        const pair = pairs[i % 2] ?? pairs[0];
        if (pair) {
          const r = decodeAdvert(buf, pair);
          if (r.ok) for (const inst of instances) validateAdvert(r.value, { ...pair, ttl: 255 }, inst);
        }
      } catch (err) {
        throw new Error(`case ${i} threw on ${Buffer.from(buf).toString('hex')}: ${String(err)}`);
      }
    }
  }, FUZZ_TIMEOUT_MS);
});
