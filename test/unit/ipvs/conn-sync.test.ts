// The connection hand-over's pure parts: /proc/net/ip_vs and /proc/net/ip_vs_conn as the kernel prints them, and
// the kernel's version-1 sync datagram (byte layout checked field by field, then round trips).
import { describe, expect, it } from 'vitest';
import { ConnCollector, parseProcConns, parseProcServices } from '../../../src/ipvs/conn-sync/proc-tables.js';
import { connsPerMessage, decodeSyncMessage, encodeSyncMessages, handoverEntries, SYNC_HEADER_LEN, SYNC_V4_CONN_LEN, type SyncConn } from '../../../src/ipvs/conn-sync/sync-message.js';

// 203.0.113.10:80 = CB00710A:0050, 198.51.100.11 = C633640B, 198.51.100.12 = C633640C, client 203.0.113.50 = CB007132.
const SERVICES = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  CB00710A:0050 rr
  -> C633640B:0050      Masq    1      1          0
  -> C633640C:0050      Masq    0      0          1
UDP  CB00710A:0035 wlc
  -> C633640B:0035      Route   1      0          0
FWM  00000007 rr
  -> C6336440:0050      Tunnel  1      0          0
`;

const CONNS = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP CB007132 A3B2 CB00710A 0050 C633640B 0050 ESTABLISHED     899
TCP CB007132 A3B4 CB00710A 0050 C633640C 0050 SYN_RECV         59
UDP CB007132 9C40 CB00710A 0035 C633640B 0035 UDP             299
TCP CB007132 0000 CB00710A 0050 C633640B 0050 NONE            359
TCP CB007132 A3B6 C0000201 1F90 C6336440 0050 TIME_WAIT        119
SCTP CB007132 A3B8 CB00710A 0050 C633640B 0050 ESTABLISHED    899
TCP 2001:0db8:0000:0000:0000:0000:0000:0001 A3BA 2001:0db8:0000:0000:0000:0000:0000:0064 0050 2001:0db8:0000:0000:0000:0000:0000:000b 0050 ESTABLISHED 899
TCP CB00713 A3BC CB00710A 0050 C633640B 0050 ESTABLISHED     899
`;

describe('parseProcServices', () => {
  it('reads TCP and UDP IPv4 services with their real servers and forwarding methods, and leaves fwmark services out', () => {
    const s = parseProcServices(SERVICES);
    expect([...s.keys()]).toEqual(['TCP 203.0.113.10:80', 'UDP 203.0.113.10:53']);
    expect(s.get('TCP 203.0.113.10:80')?.dests).toEqual(new Map([['198.51.100.11:80', 'Masq'], ['198.51.100.12:80', 'Masq']]));
    expect(s.get('UDP 203.0.113.10:53')?.dests).toEqual(new Map([['198.51.100.11:53', 'Route']]));
  });
});

describe('parseProcConns', () => {
  it('reads IPv4 TCP/UDP rows and counts what it leaves out (templates, other protocols, IPv6, unreadable rows)', () => {
    const t = parseProcConns(CONNS);
    expect(t.conns.map((c) => `${c.protocol} ${c.client}:${c.clientPort} ${c.virtual}:${c.virtualPort} ${c.dest}:${c.destPort} ${c.state} ${c.expiresS}`)).toEqual([
      'TCP 203.0.113.50:41906 203.0.113.10:80 198.51.100.11:80 ESTABLISHED 899',
      'TCP 203.0.113.50:41908 203.0.113.10:80 198.51.100.12:80 SYN_RECV 59',
      'UDP 203.0.113.50:40000 203.0.113.10:53 198.51.100.11:53 UDP 299',
      'TCP 203.0.113.50:41910 192.0.2.1:8080 198.51.100.64:80 TIME_WAIT 119',
    ]);
    expect(t.skipped).toEqual({ template: 1, 'other-protocol': 1, ipv6: 1, unreadable: 1 });
  });
  it('stops at the limit and counts the rest', () => {
    const t = parseProcConns(CONNS, 2);
    expect(t.conns).toHaveLength(2);
    expect(t.skipped['over-limit']).toBe(2);
  });
  it('an empty table (header only) or empty text gives nothing', () => {
    expect(parseProcConns(CONNS.split('\n')[0] ?? '')).toEqual({ conns: [], skipped: {} });
    expect(parseProcConns('')).toEqual({ conns: [], skipped: {} });
  });
});

describe('ConnCollector (the line-at-a-time reader behind the pusher)', () => {
  it('with skipFinished, finished TCP rows are counted apart and do not use up the limit', () => {
    const rows = CONNS.split('\n');
    // The TIME_WAIT row moved to the front and repeated: a limit of 2 still keeps the first two live rows.
    const tw = rows[5] ?? '';
    const c = new ConnCollector({ limit: 2, skipFinished: true });
    for (const line of [rows[0] ?? '', tw, tw, tw, tw.replace('TIME_WAIT', 'CLOSE     '), ...rows.slice(1, 5)]) c.add(line);
    expect(c.full).toBe(true);
    expect(c.table().conns.map((x) => x.state)).toEqual(['ESTABLISHED', 'SYN_RECV']);
    expect(c.table().skipped).toEqual({ finished: 4, 'over-limit': 1, template: 1 });
  });
  it('without it, a finished row is a connection like any other (parseProcConns)', () => {
    const c = new ConnCollector({ limit: 1 });
    for (const line of [CONNS.split('\n')[0] ?? '', CONNS.split('\n')[5] ?? '']) c.add(line);
    expect(c.table().conns.map((x) => x.state)).toEqual(['TIME_WAIT']);
  });
});

describe('handoverEntries', () => {
  it('maps states and forwarding methods from the kernel tables; finished connections (TIME_WAIT, CLOSE) are left out', () => {
    const e = handoverEntries(parseProcConns(CONNS).conns, parseProcServices(SERVICES));
    expect(e.conns.map((c) => [c.protocol, c.state, c.flags, c.clientPort, c.dest])).toEqual([
      [6, 1, 0, 41906, '198.51.100.11'],
      [6, 3, 0, 41908, '198.51.100.12'],
      [17, 0, 3, 40000, '198.51.100.11'],
    ]);
    expect(e.skipped).toEqual({ finished: 1 });
    expect(e.conns.every((c) => c.timeoutS === 0 && c.fwmark === 0)).toBe(true);
  });
  it('an unknown TCP state name is counted, not guessed', () => {
    const t = parseProcConns(CONNS.replace('SYN_RECV', 'SYN_BOGUS'));
    expect(handoverEntries(t.conns, parseProcServices(SERVICES)).skipped).toEqual({ finished: 1, 'unknown-state': 1 });
  });
  it('a live connection of a service that is not a TCP/UDP service here (fwmark) is left to the kernel sync', () => {
    const t = parseProcConns(CONNS.replace('TIME_WAIT', 'ESTABLISHED'));
    expect(handoverEntries(t.conns, parseProcServices(SERVICES)).skipped).toEqual({ 'no-service': 1 });
  });
});

const conn = (i: number): SyncConn => ({ protocol: 6, flags: 3, state: 1, clientPort: 40000 + i, virtualPort: 80, destPort: 8080, fwmark: 0, timeoutS: 0, client: '203.0.113.50', virtual: '203.0.113.10', dest: '198.51.100.11' });

describe('sync datagrams', () => {
  it('lays out header and entry as the kernel reads them (big-endian)', () => {
    const [m] = encodeSyncMessages(42, [{ ...conn(0), fwmark: 7, timeoutS: 900 }], 40);
    expect(m?.length).toBe(SYNC_HEADER_LEN + SYNC_V4_CONN_LEN);
    expect(m?.subarray(0, 8).toString('hex')).toBe('00' + '2a' + '002c' + '01' + '01' + '0000');
    expect(m?.subarray(8).toString('hex')).toBe(
      ['00', '06', '0024', '00000003', '0001', '9c40', '0050', '1f90', '00000007', '00000384', 'cb007132', 'cb00710a', 'c633640b'].join(''),
    );
  });
  it('splits into datagrams of at most the per-message count and decodes back to the same entries', () => {
    const conns = Array.from({ length: 85 }, (_, i) => conn(i));
    const msgs = encodeSyncMessages(9, conns, 40);
    expect(msgs.map((m) => m.readUInt8(4))).toEqual([40, 40, 5]);
    expect(msgs.flatMap((m) => decodeSyncMessage(m).conns)).toEqual(conns);
    expect(decodeSyncMessage(msgs[0] as Buffer).syncId).toBe(9);
    expect(encodeSyncMessages(9, [], 40)).toEqual([]);
  });
  it('fits the MTU: 40 entries on 1500 bytes, never more than 255, at least 1', () => {
    expect(connsPerMessage(1500)).toBe(40);
    expect(SYNC_HEADER_LEN + connsPerMessage(1500) * SYNC_V4_CONN_LEN).toBeLessThanOrEqual(1500 - 28);
    expect(connsPerMessage(65535)).toBe(255);
    expect(connsPerMessage(68)).toBe(1);
  });
  it('refuses a bad sync id or address, and decoding names the broken field', () => {
    expect(() => encodeSyncMessages(256, [conn(0)], 40)).toThrow(/sync id 256/);
    expect(() => encodeSyncMessages(1, [{ ...conn(0), dest: '2001:db8::1' }], 40)).toThrow(/destination "2001:db8::1" is not an IPv4 address/);
    const [m] = encodeSyncMessages(1, [conn(0)], 40);
    expect(() => decodeSyncMessage((m as Buffer).subarray(0, 20))).toThrow(/size field 44 != datagram length 20/);
    const bad = Buffer.from(m as Buffer);
    bad.writeInt8(0, 5);
    expect(() => decodeSyncMessage(bad)).toThrow(/not version 1/);
    expect(() => decodeSyncMessage(Buffer.alloc(3))).toThrow(/shorter than the 8-byte header/);
  });
});
