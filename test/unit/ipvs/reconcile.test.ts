import { describe, expect, it } from 'vitest';
import type { IpvsOp } from '../../../src/ipvs/backend.js';
import { MemoryBackend } from '../../../src/ipvs/memory-backend.js';
import type { DesiredService, DestSpec, DestState, ServiceKey, ServiceState } from '../../../src/ipvs/model.js';
import { describeDrift, planChanges } from '../../../src/ipvs/reconcile.js';
import { formatOp } from '../../../src/ipvs/save-format.js';

const web: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 };
const dns: ServiceKey = { kind: 'addr', family: 4, protocol: 'udp', address: '203.0.113.1', port: 53 };
const web6: ServiceKey = { kind: 'addr', family: 6, protocol: 'tcp', address: '2001:db8::80', port: 443 };
const mark7: ServiceKey = { kind: 'fwmark', family: 4, fwmark: 7 };
const mark8v6: ServiceKey = { kind: 'fwmark', family: 6, fwmark: 8 };

function dest(address: string, over: Partial<DestSpec> = {}): DestSpec {
  return { family: address.includes(':') ? 6 : 4, address, port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over };
}
function svc(key: ServiceKey, dests: DestSpec[], over: Partial<DesiredService> = {}): DesiredService {
  return { key, scheduler: 'wlc', schedulerFlags: [], onePacket: false, dests, ...over };
}
/** The same table as the kernel reports it: counters present, maybe non-zero. */
function actual(services: DesiredService[]): ServiceState[] {
  return services.map((s) => ({ ...structuredClone(s), dests: s.dests.map((d): DestState => ({ ...structuredClone(d), activeConns: 3, inactiveConns: 7, persistConns: 0 })) }));
}
const lines = (ops: IpvsOp[]) => ops.map(formatOp);
const configured = { owned: 'configured' } as const;
const all = { owned: 'all' } as const;

describe('planChanges', () => {
  it('an empty desired table against an empty kernel table is a no-op', () => {
    expect(planChanges([], [], configured)).toEqual([]);
    expect(planChanges([], [], all)).toEqual([]);
  });

  it('a table that already matches yields [] (flags order, address spelling, ipip default, counters do not matter)', () => {
    const desired = [
      svc(web, [dest('198.51.100.11'), dest('198.51.100.12', { forwarding: 'tunnel' })], { scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'] }),
      svc({ ...web6, address: '2001:DB8:0::80' }, [dest('2001:db8:0:0::11', { port: 443 })], { persistence: { timeout: 60, netmaskPrefix: 64 } }),
      svc(mark8v6, [dest('2001:db8::1', { port: 0, forwarding: 'route' })]),
    ];
    const kernel = actual([
      svc(web, [dest('198.51.100.11'), dest('198.51.100.12', { forwarding: 'tunnel', tunnelType: 'ipip' })], { scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'] }),
      svc(web6, [dest('2001:db8::11', { port: 443 })], { persistence: { timeout: 60, netmaskPrefix: 64 } }),
      svc(mark8v6, [dest('2001:db8::1', { port: 0, forwarding: 'route' })]),
    ]);
    expect(planChanges(desired, kernel, configured)).toEqual([]);
    expect(planChanges(desired, kernel, all)).toEqual([]);
  });

  it('compares addresses canonically even when a backend reports another spelling', () => {
    const desired = [svc(web6, [dest('::ffff:198.51.100.11', { port: 443 })])];
    const kernel = actual([svc(web6, [dest('0:0:0:0:0:ffff:c633:640b', { port: 443 })])]);
    expect(planChanges(desired, kernel, configured)).toEqual([]);
  });

  it('a direct-routing real server configured with another port matches the kernel, which keeps the service port', () => {
    const desired = [svc(web, [dest('198.51.100.14', { port: 8080, forwarding: 'route' })])];
    const kernel = actual([svc(web, [dest('198.51.100.14', { port: 80, forwarding: 'route' })])]);
    expect(planChanges(desired, kernel, configured)).toEqual([]);
  });

  it('adds a missing service before its destinations', () => {
    const desired = [svc(web, [dest('198.51.100.11'), dest('198.51.100.12', { weight: 3 })], { scheduler: 'rr' })];
    expect(lines(planChanges(desired, [], configured))).toEqual([
      '-A -t 203.0.113.1:80 -s rr',
      '-a -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1',
      '-a -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 3',
    ]);
  });

  it.each([
    ['scheduler', { scheduler: 'rr' }, '-E -t 203.0.113.1:80 -s rr'],
    ['scheduler flags', { scheduler: 'sh', schedulerFlags: ['sh-port'] }, '-E -t 203.0.113.1:80 -s sh -b sh-port'],
    ['persistence added', { persistence: { timeout: 300, netmaskPrefix: 24 } }, '-E -t 203.0.113.1:80 -s wlc -p 300 -M 255.255.255.0'],
    ['one-packet', { onePacket: true }, '-E -t 203.0.113.1:80 -s wlc -o'],
  ] as [string, Partial<DesiredService>, string][])('edits the service in place when its %s changes', (_what, change, line) => {
    const base = svc(web, [dest('198.51.100.11')]);
    expect(lines(planChanges([{ ...base, ...change }], actual([base]), configured))).toEqual([line]);
  });

  it('repairs a hand-set non-contiguous persistence mask', () => {
    const kernel = actual([svc(web, [], { persistence: { timeout: 300, netmaskPrefix: -1, rawNetmask: '255.255.0.255' } })]);
    expect(describeDrift([svc(web, [], { persistence: { timeout: 300, netmaskPrefix: 16 } })], kernel)).toEqual([
      'tcp 203.0.113.1:80: found persistent 300s mask 255.255.0.255 -> persistent 300s /16; will edit the service in place',
    ]);
  });

  it('edits the service when persistence is removed or its timeout changes', () => {
    const persistent = svc(web, [], { persistence: { timeout: 300, netmaskPrefix: 32 } });
    expect(lines(planChanges([svc(web, [])], actual([persistent]), configured))).toEqual(['-E -t 203.0.113.1:80 -s wlc']);
    expect(lines(planChanges([svc(web, [], { persistence: { timeout: 600, netmaskPrefix: 32 } })], actual([persistent]), configured))).toEqual(['-E -t 203.0.113.1:80 -s wlc -p 600']);
  });

  it.each([
    ['weight', { weight: 5 }, '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 5'],
    ['forwarding method', { forwarding: 'route' }, '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -g -w 1'],
    ['thresholds', { upperThreshold: 100, lowerThreshold: 10 }, '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -m -w 1 -x 100 -y 10'],
    ['tunnel type', { forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 }, '-e -t 203.0.113.1:80 -r 198.51.100.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum'],
  ] as [string, Partial<DestSpec>, string][])('edits a destination in place when its %s changes', (_what, change, line) => {
    const base = svc(web, [dest('198.51.100.11')]);
    expect(lines(planChanges([svc(web, [dest('198.51.100.11', change)])], actual([base]), configured))).toEqual([line]);
  });

  it('changes of a gue tunnel port or checksum are edits too', () => {
    const gue = (over: Partial<DestSpec>) => svc(web, [dest('198.51.100.11', { forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, ...over })]);
    expect(planChanges([gue({ tunnelPort: 6081 })], actual([gue({})]), configured).map((o) => o.op)).toEqual(['edit-dest']);
    expect(planChanges([gue({ tunnelChecksum: 'csum' })], actual([gue({})]), configured).map((o) => o.op)).toEqual(['edit-dest']);
    expect(planChanges([gue({ tunnelChecksum: 'nocsum' })], actual([gue({})]), configured)).toEqual([]);
  });

  it('adds new destinations before deleting stale ones, so the pool is never empty', () => {
    const kernel = actual([svc(web, [dest('198.51.100.11'), dest('198.51.100.12')])]);
    const desired = [svc(web, [dest('198.51.100.13'), dest('198.51.100.12', { weight: 2 })])];
    expect(lines(planChanges(desired, kernel, configured))).toEqual([
      '-a -t 203.0.113.1:80 -r 198.51.100.13:80 -m -w 1',
      '-e -t 203.0.113.1:80 -r 198.51.100.12:80 -m -w 2',
      '-d -t 203.0.113.1:80 -r 198.51.100.11:80',
    ]);
  });

  it('a destination whose port changes is a different destination: add the new, delete the old', () => {
    const kernel = actual([svc(web, [dest('198.51.100.11', { port: 8080 })])]);
    expect(lines(planChanges([svc(web, [dest('198.51.100.11', { port: 9090 })])], kernel, configured))).toEqual([
      '-a -t 203.0.113.1:80 -r 198.51.100.11:9090 -m -w 1',
      '-d -t 203.0.113.1:80 -r 198.51.100.11:8080',
    ]);
  });

  it("leaves services that are not desired alone with owned: 'configured'", () => {
    const kernel = actual([svc(web, [dest('198.51.100.11')]), svc(dns, [dest('198.51.100.53', { port: 53 })])]);
    expect(planChanges([svc(web, [dest('198.51.100.11')])], kernel, configured)).toEqual([]);
  });

  it("deletes other services, destinations first, with owned: 'all'", () => {
    const kernel = actual([svc(web, [dest('198.51.100.11')]), svc(dns, [dest('198.51.100.53', { port: 53 }), dest('198.51.100.54', { port: 53 })]), svc(mark7, [])]);
    expect(lines(planChanges([svc(web, [dest('198.51.100.11')])], kernel, all))).toEqual([
      '-d -u 203.0.113.1:53 -r 198.51.100.53:53',
      '-d -u 203.0.113.1:53 -r 198.51.100.54:53',
      '-D -u 203.0.113.1:53',
      '-D -f 7',
    ]);
  });

  it('tells services apart by protocol, family and fwmark family', () => {
    const kernel = actual([svc(web, []), svc({ kind: 'fwmark', family: 4, fwmark: 8 }, [])]);
    const desired = [svc({ ...web, protocol: 'udp' }, []), svc(mark8v6, [])];
    expect(lines(planChanges(desired, kernel, all))).toEqual(['-A -u 203.0.113.1:80 -s wlc', '-A -f 8 -6 -s wlc', '-D -t 203.0.113.1:80', '-D -f 8']);
  });

  it('handles IPv6 services and fwmark services with IPv6 real servers', () => {
    const desired = [svc(web6, [dest('2001:db8::11', { port: 443, weight: 4 })]), svc(mark8v6, [dest('2001:db8::1', { forwarding: 'route' })])];
    expect(lines(planChanges(desired, [], configured))).toEqual([
      '-A -t [2001:db8::80]:443 -s wlc',
      '-a -t [2001:db8::80]:443 -r [2001:db8::11]:443 -m -w 4',
      '-A -f 8 -6 -s wlc',
      '-a -f 8 -6 -r [2001:db8::1]:0 -g -w 1',
    ]);
  });

  it('rejects a desired table that lists a service or a destination twice', () => {
    expect(() => planChanges([svc(web, []), svc(web, [])], [], configured)).toThrow(/service tcp 203.0.113.1:80 twice/);
    expect(() => planChanges([svc(web, [dest('198.51.100.11', { forwarding: 'route', port: 1 }), dest('198.51.100.11', { forwarding: 'route', port: 2 })])], [], configured)).toThrow(
      /real server 198.51.100.11:80 twice/,
    );
  });

  it('orders every plan so the kernel accepts it: service add before its dests, dest deletes before service delete', () => {
    const kernel = actual([svc(web, [dest('198.51.100.11')]), svc(dns, [dest('198.51.100.53', { port: 53 })])]);
    const desired = [svc(web6, [dest('2001:db8::11')]), svc(web, [dest('198.51.100.12')], { scheduler: 'rr' }), svc(mark7, [dest('198.51.100.41', { port: 0 })])];
    const ops = planChanges(desired, kernel, all);
    const ids = (k: ServiceKey) => JSON.stringify(k);
    ops.forEach((op, i) => {
      if (op.op === 'add-dest') {
        const svcAdd = ops.findIndex((o) => o.op === 'add-service' && ids(o.service.key) === ids(op.service));
        const existed = kernel.some((s) => ids(s.key) === ids(op.service));
        expect(existed || (svcAdd >= 0 && svcAdd < i)).toBe(true);
      }
      if (op.op === 'del-service') {
        expect(ops.slice(i + 1).some((o) => o.op === 'del-dest' && ids(o.service) === ids(op.key))).toBe(false);
      }
    });
    expect(ops.filter((o) => o.op === 'del-service')).toHaveLength(1);
  });

  it('converges: applying the plan to a kernel-like table leaves nothing to do', async () => {
    const start = [svc(web, [dest('198.51.100.11'), dest('198.51.100.12')]), svc(dns, [dest('198.51.100.53', { port: 53 })]), svc(mark7, [dest('198.51.100.41', { port: 0, forwarding: 'route' })])];
    const desired = [
      svc(web, [dest('198.51.100.12', { weight: 9, forwarding: 'route', port: 8080 }), dest('198.51.100.13', { upperThreshold: 5 })], { scheduler: 'rr', persistence: { timeout: 30, netmaskPrefix: 24 } }),
      svc(web6, [dest('2001:db8::11', { port: 443 })]),
      svc(mark7, [dest('198.51.100.41', { port: 0, forwarding: 'tunnel', tunnelType: 'gre' })]),
    ];
    for (const owned of ['configured', 'all'] as const) {
      const kernel = new MemoryBackend();
      await kernel.apply(planChanges(start, [], { owned }));
      const plan = planChanges(desired, await kernel.dump(), { owned });
      const result = await kernel.apply(plan);
      expect(result.failed).toEqual([]);
      expect(planChanges(desired, await kernel.dump(), { owned })).toEqual([]);
      expect((await kernel.dump()).some((s) => s.key.kind === 'addr' && s.key.protocol === 'udp')).toBe(owned === 'configured');
    }
  });
});

describe('describeDrift', () => {
  it('says what was found and what will be done, one line per difference', () => {
    const kernel = actual([svc(web, [dest('198.51.100.11'), dest('198.51.100.12')]), svc(dns, [])]);
    const desired = [svc(web, [dest('198.51.100.11', { weight: 3 }), dest('198.51.100.13')], { scheduler: 'rr' }), svc(mark7, [])];
    expect(describeDrift(desired, kernel)).toEqual([
      'tcp 203.0.113.1:80: found scheduler wlc -> rr; will edit the service in place',
      'tcp 203.0.113.1:80 -> 198.51.100.13:80: found missing; will add it (masq, weight 1)',
      'tcp 203.0.113.1:80 -> 198.51.100.11:80: found weight 1 -> 3; will edit it in place',
      'tcp 203.0.113.1:80 -> 198.51.100.12:80: found not configured (masq, weight 1, 3 active connections); will delete it',
      'fwmark 7: found missing; will add it (wlc)',
    ]);
    expect(describeDrift(desired, kernel, all).at(-1)).toBe('udp 203.0.113.1:53: found not configured (owned: all); will delete it');
    expect(describeDrift(desired.slice(0, 0), [])).toEqual([]);
  });
});
