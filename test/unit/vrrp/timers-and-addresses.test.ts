import { describe, expect, it } from 'vitest';
import { compareIp, formatIPv6, isIPv6LinkLocal, isMulticast, parseIPv4, parseIPv6, sameIp } from '../../../src/net/ip.js';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/vrrp/timers.js';

describe('RFC timer formulas', () => {
  it('VRRPv3: Skew_Time = (256 - p) * MAI / 256, MDI = 3 * MAI + skew (centiseconds -> ms)', () => {
    expect(skewTimeMs(3, 100, 100)).toBe(609.375);
    expect(masterDownIntervalMs(3, 100, 100)).toBe(3609.375);
    expect(skewTimeMs(3, 255, 100)).toBe(3.90625);
    expect(skewTimeMs(3, 1, 10)).toBe(99.609375);
    expect(masterDownIntervalMs(3, 150, 10)).toBe(300 + 41.40625); // advert_int 0.1 s
    expect(masterDownIntervalMs(3, 254, 4095)).toBe(3 * 40950 + (2 * 40950) / 256);
  });
  it('VRRPv2: Skew_Time = (256 - p) / 256 s, independent of the interval', () => {
    expect(skewTimeMs(2, 100, 100)).toBe(609.375);
    expect(skewTimeMs(2, 100, 500)).toBe(609.375);
    expect(masterDownIntervalMs(2, 100, 500)).toBe(15_609.375);
  });
});

describe('addresses', () => {
  it('parses and formats IPv6 canonically (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['fe80::0:0:ff:fe00:a', 'fe80::ff:fe00:a'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8:1:1:1:1:1:0', '2001:db8:1:1:1:1:1:0'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [input, canonical] of cases) {
      const b = parseIPv6(input);
      expect(b, input).toBeDefined();
      if (b) expect(formatIPv6(b)).toBe(canonical);
    }
  });
  it('rejects malformed addresses', () => {
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', ':::', '', '1:2:3:4:5:6:7::8']) expect(parseIPv6(bad), bad).toBeUndefined();
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.2.-1', 'a.b.c.d', '192.0.2.1.1', '1234.0.0.1']) expect(parseIPv4(bad), bad).toBeUndefined();
  });
  it('compares numerically, within a family', () => {
    expect(compareIp('192.0.2.10', '192.0.2.9')).toBeGreaterThan(0);
    expect(compareIp('fe80::10', 'fe80::9')).toBeGreaterThan(0);
    expect(compareIp('2001:db8::1', '2001:DB8:0::1')).toBe(0);
    expect(sameIp('2001:db8::1', '2001:DB8:0::1')).toBe(true);
    expect(sameIp('junk', 'junk')).toBe(false);
  });
  it('classifies link-local and multicast', () => {
    expect(isIPv6LinkLocal('fe80::1')).toBe(true);
    expect(isIPv6LinkLocal('febf::1')).toBe(true);
    expect(isIPv6LinkLocal('fec0::1')).toBe(false);
    expect(isMulticast('224.0.0.18')).toBe(true);
    expect(isMulticast('ff02::12')).toBe(true);
    expect(isMulticast('192.0.2.1')).toBe(false);
  });
});
