// The shared address module and the three wrappers built on it (VIP Buffers, IPVS netlink, IPVS table model):
// one parse and one RFC 5952 printer, so every caller must print the same canonical text for the same address.
import { describe, expect, it } from 'vitest';
import { formatIp, ipBytes, ipv4MaskToPrefixLength, ipv4PrefixToMask, parseIp, parseIPv4, parseIPv6 } from '../../../src/net/ip.js';
import { ipBytes as vipBytes, ipText as vipText } from '../../../src/vip/ip-bytes.js';
import { canonicalAddress as netlinkCanonical } from '../../../src/ipvs/netlink/address.js';
import { canonicalAddress as tableCanonical } from '../../../src/ipvs/addr.js';

describe('net/ip', () => {
  it('prints every caller the same canonical text', () => {
    const cases: Array<[string, string]> = [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0001:0000:0000:0000:0000', '2001:db8:0:1::'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['64:ff9b::198.51.100.7', '64:ff9b::c633:6407'],
      ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['fe80::1%eth0', 'fe80::1'],
    ];
    for (const [input, canonical] of cases) {
      const bytes = parseIPv6(input);
      expect(bytes, input).toBeDefined();
      if (!bytes) continue;
      expect(formatIp(bytes, 6), input).toBe(canonical);
      expect(vipText(vipBytes(input)), input).toBe(canonical);
      expect(netlinkCanonical(6, input), input).toBe(canonical);
      expect(tableCanonical(input), input).toBe(canonical);
    }
  });

  it('drops a zone id whole, even one with dots or colons in it', () => {
    // The per-module parsers this replaced read "%eth0.100" as an embedded IPv4 tail (fe80::64:0).
    for (const input of ['fe80::1%eth0.100', 'fe80::1%a:b']) {
      expect(netlinkCanonical(6, input), input).toBe('fe80::1');
      expect(tableCanonical(input), input).toBe('fe80::1');
      expect(vipText(vipBytes(input)), input).toBe('fe80::1');
    }
  });

  it('keeps each caller\'s acceptance: the VRRP parser takes leading-zero octets, the node:net-checked wrappers do not', () => {
    expect(parseIPv4('010.0.0.1')).toEqual(Uint8Array.from([10, 0, 0, 1]));
    expect(() => vipBytes('010.0.0.1')).toThrow('"010.0.0.1" is not an IPv6 address');
    expect(() => netlinkCanonical(4, '010.0.0.1')).toThrow('not an IPv4 address: "010.0.0.1"');
    expect(tableCanonical('010.0.0.1')).toBeUndefined();
  });

  it('parses either family and names the field when a known family does not parse', () => {
    expect(parseIp('203.0.113.5')).toEqual({ family: 4, bytes: Uint8Array.from([203, 0, 113, 5]) });
    expect(parseIp('ff02::12')?.family).toBe(6);
    expect(parseIp('203.0.113.5:80')).toBeUndefined();
    expect(() => ipBytes('2001:db8::1', 4, 'advert src')).toThrow('advert src: "2001:db8::1" is not a valid IPv4 address');
    expect(formatIp(Uint8Array.from([0, 0, 198, 51, 100, 9]), 4, 2)).toBe('198.51.100.9');
  });

  it('converts IPv4 prefix lengths and netmasks both ways', () => {
    for (let prefix = 0; prefix <= 32; prefix++) expect(ipv4MaskToPrefixLength(ipv4PrefixToMask(prefix))).toBe(prefix);
    expect(ipv4PrefixToMask(24)).toBe(0xffffff00);
    expect(ipv4PrefixToMask(1)).toBe(0x80000000);
    expect(ipv4PrefixToMask(-4)).toBe(0);
    expect(ipv4PrefixToMask(40)).toBe(0xffffffff);
    expect(ipv4MaskToPrefixLength(0xff00ff00)).toBeUndefined();
    expect(ipv4MaskToPrefixLength(1)).toBeUndefined();
    expect(ipv4MaskToPrefixLength(-1)).toBe(32);
  });
});
