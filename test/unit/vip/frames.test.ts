// Frame builders byte for byte. Expected frames were produced by an independent Python script
// (struct.pack + its own RFC 1071 sum), not by the code under test.
import { describe, expect, it } from 'vitest';
import { buildGratuitousArp, buildUnsolicitedNeighborAdvert, internetChecksum } from '../../../src/vip/frames.js';

const MAC = Buffer.from('020000aabbcc', 'hex');

describe('internetChecksum', () => {
  it('matches the RFC 1071 worked example', () => {
    // RFC 1071 section 3: the one's complement sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(0x220d);
  });

  it('pads an odd length with a zero byte and folds carries', () => {
    expect(internetChecksum(Buffer.from('ff', 'hex'))).toBe(0x00ff);
    // ffff + ffff + 0100 = 0x200fe, folded 0x0100, complemented 0xfeff.
    expect(internetChecksum(Buffer.from('ffffffff01', 'hex'))).toBe(0xfeff);
  });

  it('treats split parts as one stream, even across an odd boundary', () => {
    const whole = Buffer.from('0001f203f4f5f6f7', 'hex');
    expect(internetChecksum(whole.subarray(0, 3), whole.subarray(3))).toBe(0x220d);
  });
});

describe('buildGratuitousArp', () => {
  it('builds a broadcast ARP request with sender = target = VIP, padded to 60 bytes', () => {
    const frame = buildGratuitousArp(MAC, '203.0.113.10');
    expect(frame.toString('hex')).toBe(
      'ffffffffffff020000aabbcc0806' + // Ethernet: broadcast, our MAC, ARP
        '0001080006040001' + // Ethernet/IPv4, lengths 6/4, request
        '020000aabbcccb00710a' + // sender MAC, sender IP 203.0.113.10
        '000000000000cb00710a' + // target MAC zero (RFC 5227), target IP = VIP
        '000000000000000000000000000000000000', // padding to the 60-byte minimum
    );
  });

  it('rejects a multicast MAC, a short MAC and a non-IPv4 address', () => {
    expect(() => buildGratuitousArp(Buffer.from('010000aabbcc', 'hex'), '203.0.113.10')).toThrow(/multicast/);
    expect(() => buildGratuitousArp(Buffer.from('0200', 'hex'), '203.0.113.10')).toThrow(/6 bytes/);
    expect(() => buildGratuitousArp(MAC, '2001:db8::1')).toThrow(/not an IPv4 address/);
  });
});

describe('buildUnsolicitedNeighborAdvert', () => {
  it('builds NA to ff02::1 with O flag, hop limit 255, target link-layer option and checksum 0x3c97', () => {
    const frame = buildUnsolicitedNeighborAdvert(MAC, '2001:db8::10');
    expect(frame.toString('hex')).toBe(
      '333300000001020000aabbcc86dd' + // Ethernet: all-nodes multicast MAC, our MAC, IPv6
        '6000000000203aff' + // version 6, payload 32, next header 58 (ICMPv6), hop limit 255
        '20010db8000000000000000000000010' + // source: the VIP
        'ff020000000000000000000000000001' + // destination: all nodes
        '88003c97' + // type 136, code 0, checksum
        '20000000' + // flags: R=0 S=0 O=1
        '20010db8000000000000000000000010' + // target
        '0201020000aabbcc', // option 2 (target link-layer address), length 1, our MAC
    );
  });

  it('sets the router flag on request and keeps the checksum valid', () => {
    const frame = buildUnsolicitedNeighborAdvert(MAC, '2001:db8::10', { router: true });
    expect(frame[14 + 40 + 4]).toBe(0xa0);
    const icmp = frame.subarray(54);
    const pseudo = Buffer.concat([frame.subarray(22, 38), frame.subarray(38, 54), Buffer.from('000000200000003a', 'hex')]);
    // Summing a packet that contains its own correct checksum yields 0 (all ones before complement).
    expect(internetChecksum(pseudo, icmp)).toBe(0);
  });

  it('rejects an IPv4 address', () => {
    expect(() => buildUnsolicitedNeighborAdvert(MAC, '192.0.2.1')).toThrow(/not an IPv6 address/);
  });
});
