// The ipvsadm backend and the reconciler against real IPVS inside the UML guest. Every test gets its own
// network namespace (one IPVS table each) and checks the result against what `ipvsadm -Sn` prints there.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT } from '../harness/uml.js';
import type { IpvsBackend, IpvsOp } from '../../src/ipvs/backend.js';
import { createIpvsadmBackend, type IpvsadmBackend } from '../../src/ipvs/ipvsadm-backend.js';
import { MemoryBackend } from '../../src/ipvs/memory-backend.js';
import type { DesiredService, DestSpec, ServiceKey, ServiceState } from '../../src/ipvs/model.js';
import { planChanges } from '../../src/ipvs/reconcile.js';
import { createReconciler, type ReconcileEvent } from '../../src/ipvs/reconciler.js';
import { formatState, parseSaveState } from '../../src/ipvs/save-format.js';
import { normalizeDesired } from '../../src/ipvs/spec-diff.js';
import { silentLogger } from '../../src/log/logger.js';

const SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');

const web: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '203.0.113.1', port: 80 };
const dns: ServiceKey = { kind: 'addr', family: 4, protocol: 'udp', address: '203.0.113.2', port: 53 };
const sctp: ServiceKey = { kind: 'addr', family: 4, protocol: 'sctp', address: '203.0.113.3', port: 9000 };
const web6: ServiceKey = { kind: 'addr', family: 6, protocol: 'tcp', address: '2001:db8::80', port: 443 };
const mark7: ServiceKey = { kind: 'fwmark', family: 4, fwmark: 7 };
const mark8v6: ServiceKey = { kind: 'fwmark', family: 6, fwmark: 8 };

const rs = (address: string, over: Partial<DestSpec> = {}): DestSpec => ({
  family: address.includes(':') ? 6 : 4, address, port: 80, forwarding: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over,
});

/** A table touching every feature: protocols, fwmark v4/v6, persistence, flags, one-packet, tunnels, thresholds. */
const FULL: DesiredService[] = [
  { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false, dests: [rs('198.51.100.11'), rs('198.51.100.12', { port: 8080, weight: 3, upperThreshold: 100, lowerThreshold: 10 }), rs('198.51.100.13', { forwarding: 'route', weight: 0 })] },
  {
    key: dns, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'], onePacket: true, persistence: { timeout: 300, netmaskPrefix: 24 },
    dests: [
      rs('198.51.100.21', { port: 53, forwarding: 'tunnel', weight: 2 }),
      rs('198.51.100.22', { port: 53, forwarding: 'tunnel', tunnelType: 'gue', tunnelPort: 6080 }),
      rs('198.51.100.23', { port: 53, forwarding: 'tunnel', tunnelType: 'gre', tunnelChecksum: 'csum' }),
    ],
  },
  { key: sctp, scheduler: 'mh', schedulerFlags: ['mh-port'], onePacket: false, dests: [rs('198.51.100.31', { port: 9000 })] },
  { key: web6, scheduler: 'fo', schedulerFlags: [], onePacket: false, persistence: { timeout: 60, netmaskPrefix: 64 }, dests: [rs('2001:db8::11', { port: 443, weight: 7 })] },
  { key: mark7, scheduler: 'rr', schedulerFlags: [], onePacket: false, persistence: { timeout: 360, netmaskPrefix: 32 }, dests: [rs('198.51.100.41', { port: 0, forwarding: 'route', weight: 5 })] },
  { key: mark8v6, scheduler: 'lc', schedulerFlags: [], onePacket: false, dests: [rs('2001:db8::1', { port: 0, forwarding: 'route' })] },
];

const sortedLines = (text: string) => text.split('\n').filter((l) => l !== '').sort();

requireKernelIpvs('kernel/ipvs-ipvsadm')('ipvsadm backend and reconciler on real IPVS', () => {
  let topo: Topology;
  let seq = 0;

  beforeAll(() => {
    topo = new Topology({ timeoutMs: 120_000 });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  /** A fresh namespace (an empty IPVS table) and a backend bound to it. */
  async function fresh(): Promise<{ ns: string; backend: IpvsadmBackend; sn: () => Promise<string> }> {
    const local = `t${++seq}`;
    const ns = await topo.namespace(local);
    const backend = createIpvsadmBackend({ netns: ns, timeoutMs: 60_000, perOpTimeoutMs: 20 });
    return { ns, backend, sn: async () => (await topo.exec(local, ['ipvsadm', '-Sn'])).stdout };
  }

  /** The kernel's -Sn equals the desired table printed (thresholds dropped: -Sn never prints them). */
  async function expectSn(sn: () => Promise<string>, desired: DesiredService[]): Promise<void> {
    const expected = formatState(desired.map(normalizeDesired).map((s) => ({ ...s, dests: s.dests.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) })));
    const text = await sn();
    expect(sortedLines(text)).toEqual(sortedLines(expected));
    expect(planChanges(desired.map((s) => ({ ...s, dests: s.dests.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) })), parseSaveState(text), { owned: 'all' })).toEqual([]);
  }

  it('creates a table with every feature in one restore; -Sn and dump() read it back equal', async () => {
    const { backend, sn } = await fresh();
    const ops = planChanges(FULL, await backend.dump(), { owned: 'all' });
    const result = await backend.apply(ops);
    expect(result.failed.map((f) => f.error.message)).toEqual([]);
    expect(result.applied).toHaveLength(ops.length);
    await expectSn(sn, FULL);
    // dump() also carries thresholds (from -Ln --thresholds): nothing left to do, thresholds included.
    expect(planChanges(FULL, await backend.dump(), { owned: 'all' })).toEqual([]);
    expect(await backend.info()).toMatchObject({ version: '1.2.1' });
  });

  it('edits a weight, a scheduler and a forwarding method in place; deletes a real server and a service', async () => {
    const { backend, sn } = await fresh();
    await backend.apply(planChanges(FULL, [], { owned: 'all' }));
    const changed = structuredClone(FULL);
    const w = changed[0] as DesiredService;
    w.scheduler = 'rr';
    w.dests = [rs('198.51.100.11', { weight: 9 }), rs('198.51.100.13', { forwarding: 'masq', weight: 0 })]; // .12 goes, .13 DR -> masq
    changed.splice(2, 1); // drop the sctp service
    const ops = planChanges(changed, await backend.dump(), { owned: 'all' });
    expect(ops.map((o) => o.op)).toEqual(['edit-service', 'edit-dest', 'edit-dest', 'del-dest', 'del-dest', 'del-service']);
    const result = await backend.apply(ops);
    expect(result.failed.map((f) => f.error.message)).toEqual([]);
    await expectSn(sn, changed);
  });

  it('EEXIST, ESRCH, ENOENT, ERANGE, EINVAL and an unknown scheduler come back per op, naming the object, while the rest applies', async () => {
    const { backend, sn } = await fresh();
    await backend.apply(planChanges([FULL[0] as DesiredService], [], { owned: 'all' }));
    const missing: ServiceKey = { ...web, address: '203.0.113.99' };
    const ops: IpvsOp[] = [
      { op: 'add-service', service: { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false } },
      { op: 'add-dest', service: web, dest: rs('198.51.100.11', { weight: 4 }) },
      { op: 'add-dest', service: missing, dest: rs('198.51.100.11') },
      { op: 'edit-dest', service: web, dest: rs('198.51.100.99') },
      { op: 'del-dest', service: web, dest: rs('198.51.100.98') },
      { op: 'add-service', service: { key: { ...web, port: 81 }, scheduler: 'nosuch', schedulerFlags: [], onePacket: false } },
      { op: 'add-dest', service: web, dest: rs('198.51.100.15', { upperThreshold: 0, lowerThreshold: 5 }) },
      { op: 'add-service', service: { key: { ...web, port: 82 }, scheduler: 'rr', schedulerFlags: [], onePacket: true } },
      { op: 'add-dest', service: web, dest: rs('198.51.100.14') },
    ];
    const result = await backend.apply(ops);
    expect(result.applied).toEqual([ops[8]]);
    expect(result.failed.map((f) => f.error.message)).toEqual([
      'NEW_SERVICE tcp 203.0.113.1:80: EEXIST (Service already exists)',
      'NEW_DEST 198.51.100.11:80 on tcp 203.0.113.1:80: EEXIST (Destination already exists)',
      'NEW_DEST 198.51.100.11:80 on tcp 203.0.113.99:80: ESRCH (Service not defined)',
      'SET_DEST 198.51.100.99:80 on tcp 203.0.113.1:80: ENOENT (No such destination)',
      'DEL_DEST 198.51.100.98:80 on tcp 203.0.113.1:80: ENOENT (No such destination)',
      'NEW_SERVICE tcp 203.0.113.1:81: ENOENT (Scheduler or persistence engine not found)',
      'NEW_DEST 198.51.100.15:80 on tcp 203.0.113.1:80: ERANGE (Numerical result out of range)',
      'NEW_SERVICE tcp 203.0.113.1:82: EINVAL (one-packet scheduling (-o) is only for UDP (or fwmark) services)',
    ]);
    const expected = structuredClone([FULL[0] as DesiredService]);
    expected[0]?.dests.push(rs('198.51.100.14'));
    await expectSn(sn, expected);
  });

  it('the reconciler repairs a hand-run `ipvsadm -d`, then `ipvsadm -e`, then `ipvsadm -C`, and reports each', async () => {
    const { ns, backend, sn } = await fresh();
    const local = `t${seq}`;
    const drifts: ReconcileEvent[] = [];
    const r = createReconciler({ backend, logger: silentLogger(), interval: 3_600_000, owned: 'configured', onDrift: (e) => drifts.push(e) });
    r.setDesired(FULL);
    r.start();
    const first = await r.reconcileNow();
    expect(first.ops).toEqual([]); // start() already applied it; this pass found nothing to do
    await expectSn(sn, FULL);

    await topo.exec(local, ['ipvsadm', '-d', '-t', '203.0.113.1:80', '-r', '198.51.100.11:80']);
    await r.reconcileNow();
    expect(drifts.at(-1)?.found).toEqual(['tcp 203.0.113.1:80 -> 198.51.100.11:80: missing']);
    await expectSn(sn, FULL);

    await topo.exec(local, ['ipvsadm', '-e', '-t', '203.0.113.1:80', '-r', '198.51.100.12:8080', '-m', '-w', '42']);
    await r.reconcileNow();
    expect(drifts.at(-1)?.found).toEqual(['tcp 203.0.113.1:80 -> 198.51.100.12:8080: weight 42 -> 3, upper threshold 0 -> 100, lower threshold 0 -> 10']);
    expect(drifts.at(-1)?.done).toEqual(['-e -t 203.0.113.1:80 -r 198.51.100.12:8080 -m -w 3 -x 100 -y 10']);

    await topo.exec(local, ['ipvsadm', '-C']);
    const repaired = await r.reconcileNow();
    expect(repaired.event?.kind).toBe('drift');
    expect(repaired.result?.failed).toEqual([]);
    expect(repaired.ops).toHaveLength(FULL.reduce((n, s) => n + 1 + s.dests.length, 0));
    await expectSn(sn, FULL);
    expect(planChanges(FULL, await backend.dump(), { owned: 'all' })).toEqual([]);
    await r.stop();
    expect(ns).toContain(topo.prefix);
  });

  it('reads connection counters and stats back after real LVS-NAT traffic', async () => {
    const director = `d${++seq}`;
    const client = `c${seq}`;
    const real = [`r${seq}a`, `r${seq}b`];
    const lan = `lan${seq}`;
    const dirNs = await topo.namespace(director);
    await topo.namespace(client);
    for (const r of real) await topo.namespace(r);
    await topo.link({ ns: client, ifname: 'eth0', addresses: ['192.0.2.10/24'] }, { ns: director, ifname: 'out0', addresses: ['192.0.2.1/24'] });
    await topo.addAddress(director, 'out0', '192.0.2.100/32');
    await topo.bridge(lan);
    await topo.plug({ ns: director, ifname: 'in0', addresses: ['198.51.100.1/24'] }, lan);
    const addrs = ['198.51.100.11', '198.51.100.12'];
    for (const [i, r] of real.entries()) {
      await topo.plug({ ns: r, ifname: 'eth0', addresses: [`${addrs[i] ?? ''}/24`] }, lan);
      await topo.route(r, ['default', 'via', '198.51.100.1']);
    }
    await topo.sysctl(director, 'net.ipv4.ip_forward', '1');
    const servers = real.map((r, i) => topo.spawn(r, [process.execPath, SERVER, addrs[i] ?? '', '80', r], { label: `${r} http` }));
    await Promise.all(servers.map((s, i) => s.waitForOutput(new RegExp(`listening ${addrs[i] ?? ''}:80`), 60_000)));

    const vip: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: '192.0.2.100', port: 80 };
    const backend = createIpvsadmBackend({ netns: dirNs, timeoutMs: 60_000 });
    const desired: DesiredService[] = [{ key: vip, scheduler: 'rr', schedulerFlags: [], onePacket: false, dests: addrs.map((a) => rs(a)) }];
    expect((await backend.apply(planChanges(desired, [], { owned: 'all' }))).failed).toEqual([]);
    await expectSn(async () => (await topo.exec(director, ['ipvsadm', '-Sn'])).stdout, desired);

    const got = await topo.exec(client, [process.execPath, CLIENT, 'http://192.0.2.100/', '6', '5000']);
    expect((JSON.parse(got.stdout) as { ok: boolean }[]).every((x) => x.ok)).toBe(true);

    // The kernel folds per-CPU counters into the totals on its estimator tick (every 2 s on 6.1): poll, bounded.
    let [svc] = await backend.dump({ stats: true });
    for (const deadline = Date.now() + 10_000; (svc?.stats?.conns ?? 0) < 6 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 250));
      [svc] = await backend.dump({ stats: true });
    }
    expect(svc?.stats?.conns).toBe(6);
    expect(svc?.stats?.inPackets).toBeGreaterThan(0);
    expect(svc?.stats?.outBytes).toBeGreaterThan(0);
    expect(svc?.dests.map((d) => d.stats?.conns)).toEqual([3, 3]);
    for (const d of svc?.dests ?? []) expect(d.activeConns + d.inactiveConns).toBe(3);
    // The same numbers as ipvsadm prints them.
    const listing = (await topo.exec(director, ['ipvsadm', '-Ln', '--stats', '--exact'])).stdout;
    expect(listing).toMatch(/TCP\s+192\.0\.2\.100:80\s+6\s/);
  });

  it('the memory backend answers every op like the kernel does (errno and resulting table)', async () => {
    const { backend } = await fresh();
    const memory = new MemoryBackend();
    const missing: ServiceKey = { ...web, address: '203.0.113.99' };
    const script: IpvsOp[] = [
      { op: 'add-service', service: { key: web, scheduler: 'wlc', schedulerFlags: [], onePacket: false } },
      { op: 'add-service', service: { key: web, scheduler: 'rr', schedulerFlags: [], onePacket: false } },
      { op: 'add-service', service: { key: mark8v6, scheduler: 'nosuch', schedulerFlags: [], onePacket: false } },
      { op: 'edit-service', service: { key: missing, scheduler: 'rr', schedulerFlags: [], onePacket: false } },
      { op: 'del-service', key: missing },
      { op: 'add-dest', service: web, dest: rs('198.51.100.11') },
      { op: 'add-dest', service: web, dest: rs('198.51.100.11', { weight: 2 }) },
      { op: 'add-dest', service: missing, dest: rs('198.51.100.11') },
      { op: 'add-dest', service: web, dest: rs('198.51.100.12', { upperThreshold: 5, lowerThreshold: 9 }) },
      { op: 'add-dest', service: web, dest: rs('198.51.100.12', { upperThreshold: 0, lowerThreshold: 1 }) },
      { op: 'add-dest', service: web, dest: rs('198.51.100.13', { upperThreshold: 9, lowerThreshold: 5 }) },
      { op: 'edit-dest', service: web, dest: rs('198.51.100.99') },
      { op: 'edit-dest', service: web, dest: rs('198.51.100.11', { weight: 7, forwarding: 'route' }) },
      { op: 'edit-dest', service: missing, dest: rs('198.51.100.11') },
      { op: 'del-dest', service: web, dest: rs('198.51.100.99') },
      { op: 'del-dest', service: missing, dest: rs('198.51.100.11') },
      { op: 'edit-service', service: { key: web, scheduler: 'nosuch', schedulerFlags: [], onePacket: false } },
      { op: 'edit-service', service: { key: web, scheduler: 'sh', schedulerFlags: ['sh-port'], onePacket: false, persistence: { timeout: 30, netmaskPrefix: 24 } } },
      { op: 'del-dest', service: web, dest: rs('198.51.100.13') },
      { op: 'add-service', service: { key: mark7, scheduler: 'rr', schedulerFlags: [], onePacket: true } },
      { op: 'del-service', key: mark7 },
    ];
    const errnos = async (b: IpvsBackend) => {
      const out: string[] = [];
      // One op at a time, so each answer is the kernel's own and not inferred from a batch.
      for (const op of script) out.push((await b.apply([op])).failed[0]?.error.errno ?? 'ok');
      return out;
    };
    const kernelAnswers = await errnos(backend);
    expect(await errnos(memory)).toEqual(kernelAnswers);
    expect(kernelAnswers.filter((e) => e !== 'ok')).toEqual(['EEXIST', 'ENOENT', 'ESRCH', 'ESRCH', 'EEXIST', 'ESRCH', 'ERANGE', 'ERANGE', 'ENOENT', 'ESRCH', 'ENOENT', 'ESRCH', 'ENOENT']);
    const config = (t: ServiceState[]) => t.map(({ dests, ...s }) => ({ ...s, dests: dests.map(({ activeConns: _a, inactiveConns: _i, persistConns: _p, ...d }) => d) }));
    expect(config(await memory.dump())).toEqual(config(await backend.dump()));
  });

  it('1,000 services x 10 real servers apply in one restore and read back equal', async () => {
    const { backend, sn } = await fresh();
    const big: DesiredService[] = [];
    for (let i = 0; i < 1000; i++) {
      const key: ServiceKey = { kind: 'addr', family: 4, protocol: i % 2 === 0 ? 'tcp' : 'udp', address: `203.0.113.${1 + (i % 250)}`, port: 1000 + Math.floor(i / 250) * 10 + (i % 2) };
      const dests = Array.from({ length: 10 }, (_, j) => rs(`198.51.100.${10 + j}`, { port: 8000 + i, weight: 1 + ((i + j) % 7), upperThreshold: j === 0 ? 1000 : 0 }));
      big.push({ key, scheduler: ['rr', 'wlc', 'sh', 'mh'][i % 4] ?? 'rr', schedulerFlags: [], onePacket: false, dests });
    }
    expect(new Set(big.map((s) => JSON.stringify(s.key))).size).toBe(1000);
    const ops = planChanges(big, await backend.dump(), { owned: 'all' });
    expect(ops).toHaveLength(11_000);
    const t0 = Date.now();
    const result = await backend.apply(ops);
    const applyMs = Date.now() - t0;
    expect(result.failed.slice(0, 3).map((f) => f.error.message)).toEqual([]);
    expect(result.applied).toHaveLength(11_000);
    await expectSn(sn, big);
    const t1 = Date.now();
    expect(planChanges(big, await backend.dump(), { owned: 'all' })).toEqual([]);
    process.stdout.write(`ipvs-ipvsadm: 11,000 ops applied and verified in ${applyMs} ms; full dump + plan in ${Date.now() - t1} ms (UML)\n`);
  });
});
