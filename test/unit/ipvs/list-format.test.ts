import { describe, expect, it } from 'vitest';
import { mergeListings, parseListing } from '../../../src/ipvs/list-format.js';
import { parseSaveState } from '../../../src/ipvs/save-format.js';
import { SaveFormatError } from '../../../src/ipvs/save-format.js';
import type { ServiceState } from '../../../src/ipvs/model.js';
import { fixture } from './fixtures.js';

/** The configuration part of a table (what -Sn shows), for comparing a -Ln merge with -Sn. */
function configOf(state: ServiceState[]): unknown {
  return state.map(({ dests, stats: _s, ...svc }) => ({
    ...svc,
    dests: dests.map(({ activeConns: _a, inactiveConns: _i, persistConns: _p, stats: _d, upperThreshold: _u, lowerThreshold: _l, ...d }) => d),
  }));
}

describe('ipvsadm -Ln --exact variants (real output)', () => {
  it('detects each variant from its header', () => {
    expect(parseListing(fixture('mixed.Ln.txt')).variant).toBe('plain');
    expect(parseListing(fixture('mixed.Ln-tun-info.txt')).variant).toBe('tun-info');
    expect(parseListing(fixture('mixed.Ln-thresholds.txt')).variant).toBe('thresholds');
    expect(parseListing(fixture('mixed.Ln-persistent-conn.txt')).variant).toBe('persistent-conn');
    expect(parseListing(fixture('mixed.Ln-stats.txt')).variant).toBe('stats');
    expect(parseListing(fixture('mixed.Ln-rate.txt')).variant).toBe('rate');
  });

  it('reads the version line for info()', () => {
    expect(parseListing(fixture('mixed.Ln.txt'))).toMatchObject({ version: '1.2.1', connTableSize: 4096 });
  });

  it('the --tun-info listing merged with --thresholds gives the same configuration as -Sn', () => {
    const merged = mergeListings({ main: parseListing(fixture('mixed.Ln-tun-info.txt')), thresholds: parseListing(fixture('mixed.Ln-thresholds.txt')) });
    expect(configOf(merged)).toEqual(configOf(parseSaveState(fixture('mixed.Sn.txt'))));
  });

  it('the plain listing has everything but tunnel details', () => {
    const plain = mergeListings({ main: parseListing(fixture('mixed.Ln.txt')) });
    const sn = parseSaveState(fixture('mixed.Sn.txt'));
    const strip = (s: ServiceState[]) =>
      (configOf(s) as ServiceState[]).map((x) => ({ ...x, dests: x.dests.map(({ tunnelType: _t, tunnelPort: _p, tunnelChecksum: _c, ...d }) => d) }));
    expect(strip(plain)).toEqual(strip(sn));
  });

  it('reads thresholds, which -Sn omits', () => {
    const merged = mergeListings({ main: parseListing(fixture('mixed.Ln-tun-info.txt')), thresholds: parseListing(fixture('mixed.Ln-thresholds.txt')) });
    const web = merged.find((s) => s.key.kind === 'addr' && s.key.address === '203.0.113.1');
    expect(web?.dests.map((d) => [d.address, d.port, d.upperThreshold, d.lowerThreshold])).toEqual([
      ['198.51.100.11', 80, 0, 0],
      ['198.51.100.12', 8080, 100, 10],
      ['198.51.100.13', 80, 0, 0],
      ['198.51.100.14', 80, 7, 3],
    ]);
  });

  it('reads connection counters, stats and rates after real traffic', () => {
    const state = mergeListings({
      main: parseListing(fixture('traffic.Ln-tun-info.txt')),
      thresholds: parseListing(fixture('traffic.Ln-thresholds.txt')),
      persistentConn: parseListing(fixture('traffic.Ln-persistent-conn.txt')),
      stats: parseListing(fixture('traffic.Ln-stats.txt')),
      rate: parseListing(fixture('traffic.Ln-rate.txt')),
    });
    expect(state).toEqual([
      {
        key: { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 },
        scheduler: 'rr', schedulerFlags: [], onePacket: false,
        stats: { conns: 11, inPackets: 62, outPackets: 41, inBytes: 4062, outBytes: 3480, cps: 1, inPps: 6, outPps: 4, inBps: 381, outBps: 326 },
        dests: [
          {
            family: 4, address: '198.51.100.11', port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0,
            activeConns: 0, inactiveConns: 5, persistConns: 0,
            stats: { conns: 5, inPackets: 30, outPackets: 20, inBytes: 1975, outBytes: 1710, cps: 0, inPps: 3, outPps: 2, inBps: 185, outBps: 160 },
          },
          {
            family: 4, address: '198.51.100.12', port: 80, forwarding: 'masq', weight: 1, upperThreshold: 50, lowerThreshold: 5,
            activeConns: 1, inactiveConns: 5, persistConns: 0,
            stats: { conns: 6, inPackets: 32, outPackets: 21, inBytes: 2087, outBytes: 1770, cps: 1, inPps: 3, outPps: 2, inBps: 196, outBps: 166 },
          },
        ],
      },
      {
        key: { kind: 'addr', family: 4, protocol: 'udp', address: '203.0.113.1', port: 53 },
        scheduler: 'wlc', schedulerFlags: [], onePacket: false, persistence: { timeout: 30, netmaskPrefix: 32 },
        stats: { conns: 1, inPackets: 1, outPackets: 1, inBytes: 31, outBytes: 59, cps: 0, inPps: 0, outPps: 0, inBps: 3, outBps: 6 },
        dests: [
          {
            family: 4, address: '198.51.100.11', port: 53, forwarding: 'masq', weight: 2, upperThreshold: 0, lowerThreshold: 0,
            activeConns: 0, inactiveConns: 1, persistConns: 1,
            stats: { conns: 1, inPackets: 1, outPackets: 1, inBytes: 31, outBytes: 59, cps: 0, inPps: 0, outPps: 0, inBps: 3, outBps: 6 },
          },
        ],
      },
    ]);
  });

  it('an empty table is an empty list', () => {
    const empty = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
    expect(mergeListings({ main: parseListing(empty) })).toEqual([]);
  });

  it('a destination present in the main listing but gone from a later one gets zeros, one that appeared later is ignored', () => {
    const main = parseListing(fixture('traffic.Ln-tun-info.txt'));
    const thresholds = parseListing(fixture('traffic.Ln-thresholds.txt').replace(/^.*198\.51\.100\.12:80.*\n/m, '') + '  -> 198.51.100.99:80             1          1          0          0\n');
    const merged = mergeListings({ main, thresholds });
    expect(merged[0]?.dests.map((d) => [d.address, d.upperThreshold])).toEqual([
      ['198.51.100.11', 0],
      ['198.51.100.12', 0],
    ]);
  });

  it('rejects abbreviated counters (no --exact) and malformed lines, naming the line', () => {
    const abbreviated = fixture('traffic.Ln-stats.txt').replace('4062', '4K');
    expect(() => parseListing(abbreviated)).toThrowError(SaveFormatError);
    expect(() => parseListing(abbreviated)).toThrow(/line 4: stats column 4: expected an exact number, got '4K'/);
    expect(() => parseListing('TCP  203.0.113.1:80 rr\n')).toThrow(/line 1: service before the header line/);
    const bad = fixture('mixed.Ln.txt').replace('Masq    3', 'Bogus   3').replace('FWM  7 rr', 'XYZ  7 rr');
    expect(() => parseListing(bad)).toThrow(/unknown forwarding method 'Bogus'.*unknown protocol 'XYZ'|2 errors/);
    expect(() => parseListing(fixture('mixed.Ln.txt').replace('mask 255.255.0.0', 'mask 255.0.255.300'))).toThrow(/mask '255.0.255.300' is not an IPv4 netmask/);
  });

  it('keeps a non-contiguous mask (the kernel accepts one) instead of failing the whole dump', () => {
    const listing = parseListing(fixture('mixed.Ln.txt').replace('mask 255.255.0.0', 'mask 255.0.255.0'));
    expect(listing.services.find((s) => s.key.kind === 'addr' && s.key.address === '203.0.113.14')?.persistence).toEqual({ timeout: 86400, netmaskPrefix: -1, rawNetmask: '255.0.255.0' });
  });
});
