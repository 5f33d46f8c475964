import { describe, expect, it } from 'vitest';
import { statusResultSchema } from '../../../src/control/protocol.js';
import { buildStatus, type StatusInputs } from '../../../src/control/status-builder.js';
import type { ServiceState } from '../../../src/ipvs/model.js';

const stats = (n: number): NonNullable<ServiceState['stats']> => ({ conns: n, inPackets: n, outPackets: n, inBytes: n, outBytes: n, cps: n, inPps: n, outPps: n, inBps: n, outBps: n });

const kernel: ServiceState[] = [
  {
    key: { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 },
    scheduler: 'wlc',
    schedulerFlags: [],
    onePacket: false,
    stats: stats(100),
    dests: [
      { family: 4, address: '198.51.100.11', port: 80, forwarding: 'route', weight: 10, upperThreshold: 0, lowerThreshold: 0, activeConns: 4, inactiveConns: 9, persistConns: 0, stats: stats(60) },
      { family: 4, address: '198.51.100.12', port: 80, forwarding: 'route', weight: 0, upperThreshold: 0, lowerThreshold: 0, activeConns: 1, inactiveConns: 0, persistConns: 0, stats: stats(40) },
    ],
  },
];

function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  return {
    version: '0.1.0',
    pid: 77,
    startedAt: 1000,
    now: 9000,
    vrrp: [
      { name: 'VI_1', state: 'Master', basePriority: 150, effectivePriority: 140, masterAddress: '192.0.2.1', holdingVips: true, faultReasons: [], lastChange: { at: 2000, reason: 'master down timer' } },
      { name: 'VI_2', state: 'Fault', basePriority: 100, effectivePriority: 0, holdingVips: false, faultReasons: ['eth1 down'], lastChange: { at: 3000, reason: 'tracked interface eth1 down' } },
    ],
    vips: [
      { instance: 'VI_1', address: '203.0.113.1/32', interface: 'eth0' },
      { instance: 'VI_2', address: '203.0.113.2/32', interface: 'eth1' },
    ],
    virtualServers: [
      {
        name: 'web',
        id: 'tcp 203.0.113.1:80',
        scheduler: 'wlc',
        realServers: [
          { id: '198.51.100.11:80', weight: 10, forwarding: 'dr' },
          { id: '198.51.100.12:80', weight: 10, forwarding: 'dr' },
          { id: '198.51.100.13:80', weight: 5, forwarding: 'dr' },
        ],
      },
    ],
    pools: [
      {
        id: 'tcp 203.0.113.1:80',
        quorumUp: true,
        panic: false,
        sorry: false,
        servers: [
          { id: '198.51.100.11:80', status: 'up', since: 1500 },
          { id: '198.51.100.12:80', status: 'draining', since: 8000 },
          { id: '198.51.100.13:80', status: 'down', since: 1200 },
        ],
      },
    ],
    kernel,
    withStats: false,
    lastCheck: (vs, rs) => (vs === 'tcp 203.0.113.1:80' && rs === '198.51.100.11:80' ? { ok: true, at: 8900, latencyMs: 2.5, reason: 'HTTP 200' } : undefined),
    alerts: { pending: 3, sinks: [{ name: 'slack', pending: 3, failing: true }] },
    ...over,
  };
}

describe('buildStatus', () => {
  it('maps VRRP instances to the event state names and marks held VIPs', () => {
    const s = buildStatus(inputs());
    expect(s.vrrp).toEqual([
      { name: 'VI_1', state: 'MASTER', basePriority: 150, effectivePriority: 140, masterAddress: '192.0.2.1', lastChange: { at: 2000, reason: 'master down timer' }, faultReasons: [] },
      { name: 'VI_2', state: 'FAULT', basePriority: 100, effectivePriority: 0, masterAddress: null, lastChange: { at: 3000, reason: 'tracked interface eth1 down' }, faultReasons: ['eth1 down'] },
    ]);
    expect(s.vips.map((v) => [v.address, v.held])).toEqual([['203.0.113.1/32', true], ['203.0.113.2/32', false]]);
  });

  it('joins config, pool, check results and kernel per real server', () => {
    const [web] = buildStatus(inputs()).virtualServers;
    expect(web).toMatchObject({ name: 'web', id: 'tcp 203.0.113.1:80', scheduler: 'wlc', quorumUp: true, panic: false, sorryActive: false });
    expect(web!.realServers).toEqual([
      { id: '198.51.100.11:80', forwarding: 'route', configuredWeight: 10, kernelWeight: 10, status: 'up', statusSince: 1500, manual: 'none', lastCheck: { ok: true, at: 8900, latencyMs: 2.5, message: 'HTTP 200' }, activeConns: 4, inactiveConns: 9 },
      { id: '198.51.100.12:80', forwarding: 'route', configuredWeight: 10, kernelWeight: 0, status: 'draining', statusSince: 8000, manual: 'drain', lastCheck: null, activeConns: 1, inactiveConns: 0 },
      // Not in the kernel table (removed on failure): weights and counters unknown, config forwarding shown.
      { id: '198.51.100.13:80', forwarding: 'dr', configuredWeight: 5, kernelWeight: null, status: 'down', statusSince: 1200, manual: 'none', lastCheck: null, activeConns: null, inactiveConns: null },
    ]);
    expect(web!.stats).toBeUndefined();
  });

  it('adds counters only when asked', () => {
    const [web] = buildStatus(inputs({ withStats: true })).virtualServers;
    expect(web!.stats?.conns).toBe(100);
    expect(web!.realServers.map((r) => r.stats?.conns)).toEqual([60, 40, undefined]);
  });

  it('without a kernel table or pool it reports unknowns instead of failing', () => {
    const s = buildStatus(inputs({ kernel: undefined, pools: [] }));
    const [web] = s.virtualServers;
    expect(web!.quorumUp).toBe(false);
    expect(web!.realServers.every((r) => r.kernelWeight === null && r.status === 'unknown' && r.statusSince === 1000)).toBe(true);
  });

  it('produces what the protocol schema accepts, unchanged', () => {
    const s = buildStatus(inputs({ withStats: true }));
    expect(statusResultSchema.parse(s)).toEqual(s);
  });
});
