// The LVS-NAT director pair the kernel tests share (vrrp-nat-sync, conn-handover): a client on the outside bridge,
// two directors on both bridges, each with the same NAT virtual service, and two real servers answering their
// names over HTTP, routed through the gateway VIP. Who holds the VIPs is up to each test.
//
//   client 203.0.113.10 --bridge ext-- d1 e0 203.0.113.2 / d2 e0 203.0.113.3      VIP 203.0.113.100
//                                      d1 i0 198.51.100.2 / d2 i0 198.51.100.3   gateway VIP 198.51.100.1
//                                      --bridge int-- rs1 198.51.100.11, rs2 198.51.100.12 (default via 198.51.100.1)
import { join } from 'node:path';
import type { Topology } from '../../harness/netns.js';
import { REPO_ROOT } from '../../harness/uml.js';

export const VIP = '203.0.113.100';
export const GW = '198.51.100.1';
export const CLIENT_ADDR = '203.0.113.10';
export const REAL = { rs1: '198.51.100.11', rs2: '198.51.100.12' } as const;
export const NAT_DIRECTORS = { d1: { ext: '203.0.113.2', int: '198.51.100.2' }, d2: { ext: '203.0.113.3', int: '198.51.100.3' } } as const;
export const SYNC_ID = 42;
export const HELD_CLIENT = join(REPO_ROOT, 'test', 'kernel', 'vrrp', 'held-http-client.mjs');
const SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');

/** Namespaces, bridges, the NAT service on both directors, and the real servers listening. */
export async function buildNatPair(topo: Topology, waitMs: number): Promise<void> {
  for (const name of ['client', 'd1', 'd2', 'rs1', 'rs2']) await topo.namespace(name);
  await topo.bridge('ext');
  await topo.bridge('int');
  await topo.plug({ ns: 'client', ifname: 'eth0', addresses: [`${CLIENT_ADDR}/24`] }, 'ext');
  for (const d of ['d1', 'd2'] as const) {
    await topo.plug({ ns: d, ifname: 'e0', addresses: [`${NAT_DIRECTORS[d].ext}/24`] }, 'ext');
    await topo.plug({ ns: d, ifname: 'i0', addresses: [`${NAT_DIRECTORS[d].int}/24`] }, 'int');
    await topo.sysctl(d, 'net.ipv4.ip_forward', '1');
    await topo.exec(d, ['ipvsadm', '-A', '-t', `${VIP}:80`, '-s', 'rr']);
    for (const rs of Object.values(REAL)) await topo.exec(d, ['ipvsadm', '-a', '-t', `${VIP}:80`, '-r', `${rs}:80`, '-m', '-w', '1']);
  }
  for (const rs of ['rs1', 'rs2'] as const) {
    await topo.plug({ ns: rs, ifname: 'eth0', addresses: [`${REAL[rs]}/24`] }, 'int');
    // NAT replies must return through whichever director holds the gateway VIP.
    await topo.route(rs, ['default', 'via', GW]);
  }
  const servers = (['rs1', 'rs2'] as const).map((rs) => topo.spawn(rs, [process.execPath, SERVER, REAL[rs], '80', rs, '280'], { label: `${rs} http` }));
  await Promise.all(servers.map((s, i) => s.waitForOutput(new RegExp(`listening ${Object.values(REAL)[i]}:80`), waitMs)));
}

/** The `ipvsadm -Lnc` entry of a client endpoint: `TCP 14:59 ESTABLISHED 203.0.113.10:40000 203.0.113.100:80 198.51.100.11:80`. */
export function connEntry(stdout: string, client: string): { state: string; virtual: string; dest: string } | undefined {
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'TCP' && f[3] === client) return { state: f[2] ?? '', virtual: f[4] ?? '', dest: f[5] ?? '' };
  }
  return undefined;
}
