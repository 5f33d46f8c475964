// Attribute, address and framing codecs: round trips, and malformed input rejected with the place named.
import { describe, expect, it } from 'vitest';
import { addressToBytes, bytesToAddress, canonicalAddress, netmaskToPrefix, prefixToNetmask } from '../../../src/ipvs/netlink/address.js';
import { decodeDest, decodeService, decodeStats, destAttr, serviceAttr } from '../../../src/ipvs/netlink/attrs.js';
import { CmdAttr, DestAttr, StatsAttr, SvcAttr } from '../../../src/ipvs/netlink/constants.js';
import { encodeNlMessage, parseNlMessages } from '../../../src/ipvs/netlink/framing.js';
import { nla, nlaNest, NlaError, NlaSet, nlaString, nlaU32, parseNlas } from '../../../src/ipvs/netlink/nla.js';
import type { DestSpec, ServiceSpec } from '../../../src/ipvs/model.js';

describe('addresses', () => {
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ])('IPv6 %s reads back as %s', (input, canonical) => {
    expect(canonicalAddress(6, input)).toBe(canonical);
    expect(addressToBytes(6, input)).toHaveLength(16);
  });

  it('IPv4 fills the first 4 of 16 bytes', () => {
    expect(addressToBytes(4, '198.51.100.11').toString('hex')).toBe('c633640b000000000000000000000000');
    expect(bytesToAddress(4, Buffer.from('c633640b', 'hex'))).toBe('198.51.100.11');
  });

  it('rejects what is not an address of the family', () => {
    expect(() => addressToBytes(4, '2001:db8::1')).toThrow('not an IPv4 address: "2001:db8::1"');
    expect(() => addressToBytes(6, '198.51.100.1')).toThrow('not an IPv6 address');
    expect(() => bytesToAddress(6, Buffer.alloc(4))).toThrow('too short');
  });

  it('netmasks and prefixes', () => {
    expect(prefixToNetmask(24)).toBe(0xffffff00);
    expect(prefixToNetmask(0)).toBe(0);
    expect(prefixToNetmask(32)).toBe(0xffffffff);
    expect(netmaskToPrefix(0xffffff00)).toBe(24);
    expect(netmaskToPrefix(0)).toBe(0);
    expect(netmaskToPrefix(0xffffffff)).toBe(32);
    expect(() => netmaskToPrefix(0xff00ff00)).toThrow('not contiguous');
    expect(() => prefixToNetmask(33)).toThrow('outside 0..32');
  });
});

describe('attributes', () => {
  it('pads to 4 bytes and sets NLA_F_NESTED on nests', () => {
    expect(nlaString(6, 'rr').toString('hex')).toBe('0700060072720000');
    expect(nlaNest(1, [nlaU32(5, 7)]).toString('hex')).toBe('0c0001800800050007000000');
    const parsed = parseNlas(Buffer.concat([nlaNest(1, [nlaU32(5, 7)]), nlaString(6, 'rr')]), 'test');
    expect(parsed.map((a) => [a.type, a.nested, a.value.length])).toEqual([
      [1, true, 8],
      [6, false, 3],
    ]);
  });

  it('rejects lengths that run past the end, naming the place and offset', () => {
    const good = nlaU32(1, 1);
    const bad = Buffer.from(good);
    bad.writeUInt16LE(40, 0);
    expect(() => parseNlas(Buffer.concat([good, bad]), 'GET_DEST reply 3')).toThrow('GET_DEST reply 3: attribute type 1 at offset 8 has length 40, 8 bytes left');
    expect(() => parseNlas(Buffer.from([1, 0]), 'x')).toThrow('x: 2 stray bytes at offset 0');
    const zeroLen = Buffer.alloc(4);
    expect(() => parseNlas(zeroLen, 'x')).toThrow(NlaError);
  });

  it('typed getters check sizes and name the missing attribute', () => {
    const set = new NlaSet(Buffer.concat([nla(SvcAttr.AF, Buffer.of(2)), nla(SvcAttr.PORT, Buffer.of(0, 80))]), 'SERVICE', SvcAttr);
    expect(() => set.u16(SvcAttr.AF)).toThrow('SERVICE: AF has 1 bytes, expected 2');
    expect(set.be16(SvcAttr.PORT)).toBe(80);
    expect(() => set.req(SvcAttr.FWMARK, set.u32(SvcAttr.FWMARK))).toThrow('SERVICE: FWMARK missing');
  });

  it('service and destination encode and decode back to the same spec', () => {
    const services: ServiceSpec[] = [
      { key: { kind: 'addr', family: 4, protocol: 'sctp', address: '203.0.113.7', port: 38412 }, scheduler: 'sh', schedulerFlags: ['sh-fallback'], onePacket: true, persistence: { timeout: 1, netmaskPrefix: 0 } },
      { key: { kind: 'fwmark', family: 6, fwmark: 0xfffffffe }, scheduler: 'mh', schedulerFlags: ['mh-fallback', 'mh-port'], onePacket: false, persistence: { timeout: 86400, netmaskPrefix: 48 } },
    ];
    for (const s of services) {
      const back = decodeService(new NlaSet(serviceAttr(s), 'svc'));
      expect(back).toEqual({ ...s, dests: [] });
    }
    const dests: DestSpec[] = [
      { family: 6, address: '2001:db8::a', port: 0, forwarding: 'tunnel', weight: 0, upperThreshold: 4_000_000_000, lowerThreshold: 1, tunnelType: 'gue', tunnelPort: 65535, tunnelChecksum: 'remcsum' },
      { family: 4, address: '198.51.100.1', port: 1, forwarding: 'local', weight: 65535, upperThreshold: 0, lowerThreshold: 0 },
    ];
    for (const d of dests) {
      expect(decodeDest(new NlaSet(destAttr(d), 'dest'), 4)).toEqual({ ...d, activeConns: 0, inactiveConns: 0, persistConns: 0 });
    }
  });

  it('refuses to encode values the kernel fields cannot hold', () => {
    const base: DestSpec = { family: 4, address: '198.51.100.1', port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 };
    expect(() => destAttr({ ...base, port: 70000 })).toThrow('destination: port 70000 is outside 0..65535');
    expect(() => destAttr({ ...base, weight: -1 })).toThrow('weight -1 is not a u32');
    expect(() => serviceAttr({ key: { kind: 'fwmark', family: 4, fwmark: 1 }, scheduler: 'a-very-long-scheduler', schedulerFlags: [], onePacket: false })).toThrow('must be 1..15 bytes');
    expect(() => serviceAttr({ key: { kind: 'fwmark', family: 6, fwmark: 1 }, scheduler: 'rr', schedulerFlags: [], onePacket: false, persistence: { timeout: 1, netmaskPrefix: 129 } })).toThrow('outside 0..128');
  });

  it('decoding rejects unknown protocol, family and forwarding values, naming the field', () => {
    const svc = (attrs: Buffer[]) => new NlaSet(nlaNest(CmdAttr.SERVICE, attrs), 'GET_SERVICE reply 0');
    const af = (v: number) => nla(SvcAttr.AF, Buffer.from([v, 0]));
    expect(() => decodeService(svc([af(7)]))).toThrow('GET_SERVICE reply 0 SERVICE: address family 7 is neither AF_INET nor AF_INET6');
    expect(() => decodeService(svc([af(2), nla(SvcAttr.PROTOCOL, Buffer.from([1, 0]))]))).toThrow('PROTOCOL 1 is not tcp, udp or sctp');
    expect(() => decodeService(new NlaSet(Buffer.alloc(0), 'reply'))).toThrow('reply: SERVICE attribute missing');
    const d = new NlaSet(nlaNest(CmdAttr.DEST, [nla(DestAttr.ADDR, Buffer.alloc(16)), nla(DestAttr.PORT, Buffer.alloc(2)), nlaU32(DestAttr.FWD_METHOD, 4), nlaU32(DestAttr.WEIGHT, 1)]), 'GET_DEST');
    expect(() => decodeDest(d, 4)).toThrow('GET_DEST DEST: FWD_METHOD 4 is not masq, local, tunnel or route');
  });

  it('stats: STATS64 is preferred; STATS has u64 byte counters', () => {
    const u64 = (t: number, v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return nla(t, b);
    };
    const s32 = nlaNest(SvcAttr.STATS, [nlaU32(StatsAttr.CONNS, 3), nlaU32(StatsAttr.INPKTS, 4), u64(StatsAttr.INBYTES, 5n)]);
    const s64 = nlaNest(SvcAttr.STATS64, [u64(StatsAttr.CONNS, 2n ** 40n), u64(StatsAttr.OUTBYTES, 2n ** 52n)]);
    const only32 = decodeStats(new NlaSet(s32, 'svc'), SvcAttr.STATS, SvcAttr.STATS64);
    expect(only32).toMatchObject({ conns: 3, inPackets: 4, inBytes: 5, outBytes: 0 });
    const both = decodeStats(new NlaSet(Buffer.concat([s32, s64]), 'svc'), SvcAttr.STATS, SvcAttr.STATS64);
    expect(both).toMatchObject({ conns: 2 ** 40, outBytes: 2 ** 52, inPackets: 0 });
    expect(decodeStats(new NlaSet(Buffer.alloc(0), 'svc'), SvcAttr.STATS, SvcAttr.STATS64)).toBeUndefined();
  });
});

describe('netlink framing', () => {
  it('several messages in one datagram, each padded', () => {
    const a = encodeNlMessage({ type: 28, flags: 2, seq: 9, pid: 0, payload: Buffer.from([1, 1, 0, 0, 5]) });
    const b = encodeNlMessage({ type: 3, flags: 2, seq: 9, pid: 0, payload: Buffer.alloc(4) });
    expect(a).toHaveLength(24);
    expect(a.readUInt32LE(0)).toBe(21);
    const msgs = parseNlMessages(Buffer.concat([a, b]), 'reply');
    expect(msgs.map((m) => [m.type, m.seq, m.payload.length])).toEqual([
      [28, 9, 5],
      [3, 9, 4],
    ]);
  });

  it('rejects a message longer than the datagram', () => {
    const a = encodeNlMessage({ type: 28, flags: 0, seq: 1, pid: 0, payload: Buffer.alloc(4) });
    a.writeUInt32LE(100, 0);
    expect(() => parseNlMessages(a, 'netlink reply')).toThrow('netlink reply: message at offset 0 has length 100, 20 bytes left');
  });
});
