// Announcements on a real link: a peer namespace holds neighbour entries pointing at a stale MAC for
// the VIPs; after gratuitous ARP / unsolicited NA from the new owner they point at the owner's MAC.
// The peer kernel accepting the NA also proves its ICMPv6 checksum (bad checksums are dropped).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { ANNOUNCE_AGENT, runAgent } from '../vrrp-io/agent-runner.js';

const STALE_MAC = '02:00:00:00:00:99';
const timing = { delayMs: 0, repeat: 2, intervalMs: 100, refreshMs: 0 };

requireRoot('net/vip/announce', ['ip', 'arping'])('VIP announcements update a peer neighbour table', () => {
  let topo: Topology;
  let ownerMac: string;

  const neighbour = async (address: string): Promise<string> => {
    const r = await topo.exec('peer', ['ip', 'neigh', 'show', address, 'dev', 'eth0']);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    topo = new Topology();
    await topo.namespace('owner');
    await topo.namespace('peer');
    await topo.link({ ns: 'owner', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, { ns: 'peer', ifname: 'eth0', addresses: ['192.0.2.2/24'] });
    await topo.exec('owner', ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    await topo.exec('peer', ['ip', 'addr', 'add', '2001:db8::2/64', 'dev', 'eth0', 'nodad']);
    const link = JSON.parse((await topo.exec('owner', ['ip', '-j', 'link', 'show', 'dev', 'eth0'])).stdout) as { address: string }[];
    ownerMac = link[0]?.address ?? '';
    expect(ownerMac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    // The VIPs live on the owner; the peer still believes an old MAC (as after a failover).
    for (const [vip, prefix] of [
      ['192.0.2.10', '24'],
      ['192.0.2.11', '24'],
      ['2001:db8::10', '64'],
    ] as const) {
      await topo.exec('owner', ['ip', 'addr', 'add', `${vip}/${prefix}`, 'dev', 'eth0', ...(vip.includes(':') ? ['nodad'] : [])]);
      await topo.exec('peer', ['ip', 'neigh', 'add', vip, 'lladdr', STALE_MAC, 'dev', 'eth0', 'nud', 'stale']);
    }
    // Linux ignores ARP updates within locktime (1 s) of an entry's last change.
    await new Promise((r) => setTimeout(r, 1200));
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('gratuitous ARP through the addon (AF_PACKET) moves the IPv4 entry to the owner MAC', async () => {
    expect(await neighbour('192.0.2.10')).toContain(STALE_MAC);
    const [done] = await runAgent(topo, 'owner', ANNOUNCE_AGENT, { sender: 'native', vips: [{ address: '192.0.2.10', prefix: 24, dev: 'eth0' }], timing, timeoutMs: 15_000 });
    expect(done).toEqual({ event: 'done', sent: 2, failed: 0 });
    expect(await neighbour('192.0.2.10')).toContain(`lladdr ${ownerMac}`);
  });

  it('unsolicited neighbour advertisement through the addon moves the IPv6 entry to the owner MAC', async () => {
    expect(await neighbour('2001:db8::10')).toContain(STALE_MAC);
    const [done] = await runAgent(topo, 'owner', ANNOUNCE_AGENT, { sender: 'native', vips: [{ address: '2001:db8::10', prefix: 64, dev: 'eth0' }], timing, timeoutMs: 15_000 });
    expect(done).toEqual({ event: 'done', sent: 2, failed: 0 });
    expect(await neighbour('2001:db8::10')).toContain(`lladdr ${ownerMac}`);
  });

  it('the arping fallback (arping -U) moves the IPv4 entry too', async () => {
    expect(await neighbour('192.0.2.11')).toContain(STALE_MAC);
    const [done] = await runAgent(topo, 'owner', ANNOUNCE_AGENT, {
      sender: 'arping',
      vips: [{ address: '192.0.2.11', prefix: 24, dev: 'eth0' }],
      timing: { ...timing, repeat: 1 },
      timeoutMs: 15_000,
    });
    expect(done).toEqual({ event: 'done', sent: 1, failed: 0 });
    expect(await neighbour('192.0.2.11')).toContain(`lladdr ${ownerMac}`);
  });
});
