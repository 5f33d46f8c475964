import { describe, expect, it } from 'vitest';
import { ipBytes, ipText, ipv4Bytes, ipv6Bytes, ipv6Text } from '../../../src/vip/ip-bytes.js';

describe('ip-bytes', () => {
  it('parses IPv4', () => {
    expect(ipv4Bytes('203.0.113.10').toString('hex')).toBe('cb00710a');
    expect(() => ipv4Bytes('203.0.113.256')).toThrow(/not an IPv4/);
  });

  it('parses IPv6 in its compressed, full and IPv4-tail forms', () => {
    expect(ipv6Bytes('2001:db8::10').toString('hex')).toBe('20010db8000000000000000000000010');
    expect(ipv6Bytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipv6Bytes('::1').toString('hex')).toBe('0'.repeat(31) + '1');
    expect(ipv6Bytes('fe80::').toString('hex')).toBe('fe80' + '0'.repeat(28));
    expect(ipv6Bytes('2001:db8:1:2:3:4:5:6').toString('hex')).toBe('20010db8000100020003000400050006');
    expect(ipv6Bytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipv6Bytes('64:ff9b::198.51.100.7').toString('hex')).toBe('0064ff9b0000000000000000c6336407');
    expect(() => ipv6Bytes('2001:db8::1::2')).toThrow(/not an IPv6/);
  });

  it('formats bytes back, compressing the longest zero run', () => {
    expect(ipv6Text(Buffer.from('20010db8000000000000000000000010', 'hex'))).toBe('2001:db8::10');
    expect(ipv6Text(Buffer.from('20010db8000000010000000000000000', 'hex'))).toBe('2001:db8:0:1::');
    expect(ipv6Text(Buffer.from('20010db8000100020003000400050006', 'hex'))).toBe('2001:db8:1:2:3:4:5:6');
    expect(ipv6Text(Buffer.from('20010000000100000000000000000001', 'hex'))).toBe('2001:0:1::1');
    expect(ipText(Buffer.from('cb00710a', 'hex'))).toBe('203.0.113.10');
    expect(() => ipText(Buffer.alloc(5))).toThrow(/5 bytes/);
  });

  it('round-trips', () => {
    for (const a of ['fe80::1', '2001:db8::a:b', 'ff02::12', '203.0.113.1']) expect(ipText(ipBytes(a))).toBe(a);
  });
});
