// RFC 5798 Accept_Mode on a real kernel: one lvskeep director (the only router, so it becomes Master) with an
// HTTP server on all addresses, and a client on the LAN. With `accept: false` the Master holds the VIP but drops
// traffic to it (nftables table inet lvskeep) while still answering ARP for it; its own address still answers.
// With `accept: true` the VIP answers. A planned stop removes the table; a killed agent's table is removed by
// the next start.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';
import { VrrpLab, signal, waitForState, waitReady, type Peer, type PeerOptions } from './lab.js';

const VIP = '192.0.2.50';
const VIP6 = '2001:db8::50';
const HTTP_SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const HTTP_GET = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');

requireRoot('net/vrrp/accept-mode', ['ip', 'nft', 'arping'])('accept: false enforced with nftables', () => {
  let lab: VrrpLab;
  const opts = (accept: boolean): PeerOptions => ({ vrid: 71, vip: VIP, priority: 150, intervalMs: 300, accept });

  beforeAll(async () => {
    lab = new VrrpLab([{ name: 'a', address: '192.0.2.1' }]);
    await lab.build();
    const s = lab.topo.spawn('a', [process.execPath, HTTP_SERVER, '0.0.0.0', '8080', 'a', '600'], { label: 'http a' });
    await s.waitForOutput(/listening/, 20_000);
    const s6 = lab.topo.spawn('a', [process.execPath, HTTP_SERVER, '::', '8081', 'a', '600'], { label: 'http6 a' });
    await s6.waitForOutput(/listening/, 20_000);
    await lab.topo.exec('a', ['ip', '-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    await lab.topo.exec('client', ['ip', '-6', 'addr', 'add', '2001:db8::200/64', 'dev', 'eth0', 'nodad']);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const answers = async (address: string): Promise<boolean> => {
    const url = address.includes(':') ? `http://[${address}]:8081/` : `http://${address}:8080/`;
    const r = await lab.topo.exec('client', [process.execPath, HTTP_GET, url, '1', '1000'], { check: false, timeoutMs: 10_000 });
    const res = JSON.parse(r.stdout.trim() || '[]') as { ok: boolean }[];
    return res[0]?.ok === true;
  };
  const hasTable = async (): Promise<boolean> => {
    const r = await lab.topo.exec('a', ['nft', 'list', 'tables']);
    return r.stdout.includes('table inet lvskeep');
  };
  const master = async (accept: boolean): Promise<Peer> => {
    const p = lab.startLvskeep('a', opts(accept));
    await waitReady(p);
    await waitForState(p, 'MASTER', 10_000);
    await lab.waitForHolders(VIP, ['a'], 5_000);
    return p;
  };

  it('accept: false: the Master holds the VIP, answers ARP for it, and drops traffic to it', async () => {
    const p = await master(false);
    expect(await hasTable()).toBe(true);
    expect(await answers(VIP)).toBe(false);
    expect(await answers('192.0.2.1')).toBe(true); // only the VIPs are dropped
    const arp = await lab.topo.exec('client', ['arping', '-c', '1', '-w', '2', '-I', 'eth0', VIP], { check: false });
    expect(arp.code, arp.stdout + arp.stderr).toBe(0);
    // A planned stop removes the table with the VIP.
    signal(p, 'SIGTERM');
    await p.proc.exited;
    expect(await hasTable()).toBe(false);
  });

  it('accept: true: the VIP answers', async () => {
    const p = await master(true);
    expect(await answers(VIP)).toBe(true);
    expect(await hasTable()).toBe(false);
    signal(p, 'SIGTERM');
    await p.proc.exited;
  });

  it('rules a killed agent left behind are removed at the next start', async () => {
    const p = await master(false);
    signal(p, 'SIGKILL');
    await p.proc.exited;
    expect(await hasTable()).toBe(true); // nobody removed it
    const q = await master(true);
    expect(await hasTable()).toBe(false);
    expect(await answers(VIP)).toBe(true);
    signal(q, 'SIGTERM');
    await q.proc.exited;
  });

  it('IPv6: traffic to the VIP is dropped, neighbour discovery for it is still answered', async () => {
    await lab.waitLinkLocal('a');
    const p = lab.startLvskeep('a', { vrid: 72, vip: VIP6, priority: 150, intervalMs: 300, accept: false });
    await waitReady(p);
    await waitForState(p, 'MASTER', 10_000);
    await lab.waitForHolders(VIP6, ['a'], 5_000);
    expect(await answers('2001:db8::1')).toBe(true);
    // Solicitations to the VIP itself (unicast, as in neighbour unreachability detection) must be answered:
    // a STALE entry used by the client's connection attempt goes DELAY, then PROBE with unicast solicitations
    // to the VIP, and only back to REACHABLE if the Master answers one. (The first resolution goes to the
    // solicited-node multicast address, which the drop rules never match.)
    const link = JSON.parse((await lab.topo.exec('a', ['ip', '-j', 'link', 'show', 'dev', 'eth0'])).stdout) as { address: string }[];
    await lab.topo.sysctl('client', 'net.ipv6.neigh.eth0.delay_first_probe_time', '1');
    await lab.topo.exec('client', ['ip', '-6', 'neigh', 'replace', VIP6, 'lladdr', link[0]?.address ?? '', 'dev', 'eth0', 'nud', 'stale']);
    expect(await answers(VIP6)).toBe(false);
    const deadline = Date.now() + 5_000;
    let neigh = '';
    while (Date.now() < deadline && !neigh.includes('REACHABLE')) {
      neigh = (await lab.topo.exec('client', ['ip', '-6', 'neigh', 'show', VIP6, 'dev', 'eth0'])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(neigh).toContain('REACHABLE');
    signal(p, 'SIGTERM');
    await p.proc.exited;
    expect(await hasTable()).toBe(false);
    expect(await answers(VIP6)).toBe(false); // the VIP left with the stop
  });
});
