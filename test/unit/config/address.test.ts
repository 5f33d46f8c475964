import { describe, expect, it } from 'vitest';
import { canonicalIPv6, formatEndpoint, parseAddress, parseCidr, parseEndpoint } from '../../../src/config/address.js';

function ok<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new Error(r.message);
  return r.value;
}
function bad(r: { ok: boolean; message?: string }): string {
  if (r.ok) throw new Error('expected a rejection');
  return r.message ?? '';
}

describe('parseAddress', () => {
  it('accepts IPv4 and canonicalises IPv6', () => {
    expect(ok(parseAddress('203.0.113.1'))).toEqual({ address: '203.0.113.1', family: 4 });
    expect(ok(parseAddress('2001:DB8:0:0:0:0:0:1'))).toEqual({ address: '2001:db8::1', family: 6 });
  });
  it('rejects garbage, CIDRs, ports and zone ids with a reason', () => {
    expect(bad(parseAddress('203.0.113'))).toContain('not an IPv4 or IPv6 address');
    expect(bad(parseAddress('203.0.113.1/24'))).toContain('CIDR');
    expect(bad(parseAddress('203.0.113.1:80'))).toContain('port');
    expect(bad(parseAddress('fe80::1%eth0'))).toContain('zone');
    expect(bad(parseAddress('01.2.3.4'))).toContain('not an IPv4');
  });
});

describe('canonicalIPv6 (RFC 5952)', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['::', '::'],
    ['::1', '::1'],
    ['FE80::A', 'fe80::a'],
    ['2001:db8::0:0:1', '2001:db8::1'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:0:0', '2001:db8:aaaa:bbbb:cccc:dddd::'],
  ])('%s -> %s', (input, out) => {
    expect(canonicalIPv6(input)).toBe(out);
  });
});

describe('parseCidr', () => {
  it('keeps the address and prefix, defaulting to a host prefix', () => {
    expect(ok(parseCidr('203.0.113.10/24'))).toEqual({ address: '203.0.113.10', family: 4, prefix: 24 });
    expect(ok(parseCidr('203.0.113.10'))).toEqual({ address: '203.0.113.10', family: 4, prefix: 32 });
    expect(ok(parseCidr('2001:DB8::10/64'))).toEqual({ address: '2001:db8::10', family: 6, prefix: 64 });
    expect(ok(parseCidr('2001:db8::10')).prefix).toBe(128);
  });
  it('rejects bad prefixes', () => {
    expect(bad(parseCidr('203.0.113.10/33'))).toContain('0..32');
    expect(bad(parseCidr('2001:db8::/129'))).toContain('0..128');
    expect(bad(parseCidr('203.0.113.10/'))).toContain('prefix');
    expect(bad(parseCidr('203.0.113.10/x'))).toContain('prefix');
  });
});

describe('parseEndpoint', () => {
  it('parses IPv4 and bracketed IPv6 endpoints', () => {
    expect(ok(parseEndpoint('203.0.113.1:80'))).toEqual({ address: '203.0.113.1', port: 80, family: 4 });
    expect(ok(parseEndpoint('[2001:DB8::1]:443'))).toEqual({ address: '2001:db8::1', port: 443, family: 6 });
  });
  it('uses the default port when allowed', () => {
    expect(ok(parseEndpoint('198.51.100.1', { defaultPort: 80 })).port).toBe(80);
    expect(ok(parseEndpoint('[2001:db8::1]', { defaultPort: 80 })).port).toBe(80);
    expect(ok(parseEndpoint('2001:db8::1', { defaultPort: 8080 }))).toEqual({ address: '2001:db8::1', port: 8080, family: 6 });
    expect(ok(parseEndpoint('198.51.100.1:81', { defaultPort: 80 })).port).toBe(81);
  });
  it('explains what is wrong', () => {
    expect(bad(parseEndpoint('198.51.100.1'))).toContain('has no port: write 198.51.100.1:PORT');
    expect(bad(parseEndpoint('2001:db8::1'))).toContain('[2001:db8::1]:PORT');
    expect(bad(parseEndpoint('2001:db8::1:80x'))).toContain('[address]:port');
    expect(bad(parseEndpoint('198.51.100.1:0'))).toContain('1..65535');
    expect(bad(parseEndpoint('198.51.100.1:65536'))).toContain('1..65535');
    expect(bad(parseEndpoint('[2001:db8::1:80'))).toContain(']');
    expect(bad(parseEndpoint('[198.51.100.1]:80'))).toContain('not an IPv6');
    expect(bad(parseEndpoint('[2001:db8::1]80'))).toContain(':port');
    expect(bad(parseEndpoint('host.example:80'))).toContain('not an IPv4 or IPv6');
  });
  it('formats endpoints back', () => {
    expect(formatEndpoint(ok(parseEndpoint('[2001:db8::1]:80')))).toBe('[2001:db8::1]:80');
    expect(formatEndpoint(ok(parseEndpoint('203.0.113.1:80')))).toBe('203.0.113.1:80');
  });
});
