// Real LVS-NAT inside the UML guest: client -> director (IPVS, round robin, masquerading) -> two real
// servers that answer their own names. Proves the kernel suite's plumbing (boot, modules, namespaces,
// ipvsadm, forwarding) before lvskeep's own IPVS code is tested on it.
//
//   client 203.0.113.10 --veth-- 203.0.113.1 director [VIP 203.0.113.100:80] 198.51.100.1 --bridge lan-- rs1 198.51.100.11
//                                                                                                   \-- rs2 198.51.100.12
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT } from '../harness/uml.js';

const SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');
const VIP = '203.0.113.100';
const REAL = { rs1: '198.51.100.11', rs2: '198.51.100.12' } as const;

interface Dest {
  addr: string;
  forward: string;
  weight: number;
  active: number;
  inactive: number;
}

/** The destinations of one service in `ipvsadm -Ln` output (`  -> ADDR:PORT  Masq  weight active inactive`). */
function destinations(listing: string): Dest[] {
  const dests: Dest[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) dests.push({ addr: m[1] ?? '', forward: m[2] ?? '', weight: Number(m[3]), active: Number(m[4]), inactive: Number(m[5]) });
  }
  return dests;
}

requireKernelIpvs('kernel/ipvs-nat')('IPVS NAT with round robin across two real servers', () => {
  let topo: Topology;

  beforeAll(async () => {
    // Commands start slowly inside UML (node takes ~2 s): generous per-command limit.
    topo = new Topology({ timeoutMs: 60_000 });
    for (const name of ['client', 'director', 'rs1', 'rs2']) await topo.namespace(name);
    await topo.link({ ns: 'client', ifname: 'eth0', addresses: ['203.0.113.10/24'] }, { ns: 'director', ifname: 'out0', addresses: ['203.0.113.1/24'] });
    await topo.addAddress('director', 'out0', `${VIP}/32`);
    await topo.bridge('lan');
    await topo.plug({ ns: 'director', ifname: 'in0', addresses: ['198.51.100.1/24'] }, 'lan');
    await topo.plug({ ns: 'rs1', ifname: 'eth0', addresses: [`${REAL.rs1}/24`] }, 'lan');
    await topo.plug({ ns: 'rs2', ifname: 'eth0', addresses: [`${REAL.rs2}/24`] }, 'lan');
    await topo.sysctl('director', 'net.ipv4.ip_forward', '1');
    // NAT replies must go back through the director to be un-masqueraded.
    await topo.route('rs1', ['default', 'via', '198.51.100.1']);
    await topo.route('rs2', ['default', 'via', '198.51.100.1']);

    const servers = (['rs1', 'rs2'] as const).map((rs) => topo.spawn(rs, [process.execPath, SERVER, REAL[rs], '80', rs], { label: `${rs} http` }));
    await Promise.all(servers.map((s, i) => s.waitForOutput(new RegExp(`listening ${Object.values(REAL)[i]}:80`), 60_000)));

    await topo.exec('director', ['ipvsadm', '-A', '-t', `${VIP}:80`, '-s', 'rr']);
    await topo.exec('director', ['ipvsadm', '-a', '-t', `${VIP}:80`, '-r', `${REAL.rs1}:80`, '-m', '-w', '1']);
    await topo.exec('director', ['ipvsadm', '-a', '-t', `${VIP}:80`, '-r', `${REAL.rs2}:80`, '-m', '-w', '1']);
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('the real servers answer their names directly from the director (sanity of the inside network)', async () => {
    const r = await topo.exec('director', [process.execPath, CLIENT, `http://${REAL.rs1}/`, '1', '5000']);
    expect(JSON.parse(r.stdout)).toEqual([{ ok: true, status: 200, body: 'rs1' }]);
  });

  it('requests from the client to the VIP reach both real servers in turn, and ipvsadm counts them', async () => {
    const r = await topo.exec('client', [process.execPath, CLIENT, `http://${VIP}/`, '6', '5000']);
    const bodies = (JSON.parse(r.stdout) as { ok: boolean; body: string }[]).map((x) => x.body);
    expect(bodies).toHaveLength(6);
    expect(new Set(bodies)).toEqual(new Set(['rs1', 'rs2']));
    // Round robin alternates on each new connection.
    for (let i = 1; i < bodies.length; i++) expect(bodies[i]).not.toBe(bodies[i - 1]);

    const listing = (await topo.exec('director', ['ipvsadm', '-Ln', '-t', `${VIP}:80`])).stdout;
    expect(listing).toMatch(new RegExp(`TCP\\s+${VIP.replaceAll('.', '\\.')}:80 rr`));
    const dests = destinations(listing);
    expect(dests.map((d) => d.addr).sort()).toEqual([`${REAL.rs1}:80`, `${REAL.rs2}:80`]);
    for (const d of dests) {
      expect(d.forward).toBe('Masq');
      // Closed connections linger in TIME_WAIT and count as inactive.
      expect(d.active + d.inactive, `${d.addr} connections in:\n${listing}`).toBe(3);
    }

    const conns = (await topo.exec('director', ['ipvsadm', '-Lnc'])).stdout;
    for (const rs of Object.values(REAL)) expect(conns).toContain(`${rs}:80`);
  });

  it('the client never sees the real servers: IPVS tables are per namespace', async () => {
    const other = await topo.exec('client', ['ipvsadm', '-Ln']);
    expect(destinations(other.stdout)).toEqual([]);
    expect(other.stdout).not.toContain(VIP);
  });
});
