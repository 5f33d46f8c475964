// Two lvskeep agents speaking VRRPv3 over IPv6 unicast, on raw sockets (protocol 112) and over UDP. Only
// link-local addresses are used (fixed ones added with nodad, so the test knows them): they never leave the
// test's bridge, and RFC 5798 wants an IPv6 virtual router's first address to be link-local anyway.
// Exactly one master holds the VIP; SIGTERM hands over with priority 0 (fast), kill -9 after Master_Down_Interval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { VrrpLab, countStates, signal, sleep, waitForState, waitReady, type Peer, type PeerOptions } from './lab.js';

const VIP6 = 'fe80::50';
const LL = { a: 'fe80::a', b: 'fe80::b' } as const;

requireRoot('net/vrrp/ipv6-unicast', ['ip'])('lvskeep pair over IPv6 unicast', () => {
  let lab: VrrpLab;
  const peers: Peer[] = [];

  beforeAll(async () => {
    lab = new VrrpLab([
      { name: 'a', address: '192.0.2.1' },
      { name: 'b', address: '192.0.2.2' },
    ]);
    await lab.build();
    for (const d of ['a', 'b'] as const) await lab.topo.exec(d, ['ip', '-6', 'addr', 'add', `${LL[d]}/64`, 'dev', 'eth0', 'nodad']);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const start = async (ns: 'a' | 'b', o: PeerOptions): Promise<Peer> => {
    const p = lab.startLvskeep(ns, o);
    peers.push(p);
    await waitReady(p);
    return p;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(peers.splice(0).map((p) => p.proc.stop(10_000)));
  };
  const opts = (transport: 'vrrp' | 'udp', vrid: number, self: 'a' | 'b', priority: number): PeerOptions => ({
    vrid,
    vip: VIP6,
    priority,
    intervalMs: 300,
    transport,
    unicastSource: LL[self],
    unicastPeers: [LL[self === 'a' ? 'b' : 'a']],
  });

  describe.each([
    ['raw IPv6 (next header 112)', 'vrrp', 71],
    ['UDP over IPv6', 'udp', 72],
  ] as const)('VRRPv3 unicast, %s', (_label, transport, vrid) => {
    it('elects one master holding the VIP, hands over on SIGTERM (priority 0) and on kill -9', async () => {
      const a = await start('a', opts(transport, vrid, 'a', 150));
      const b = await start('b', opts(transport, vrid, 'b', 100));
      await waitForState(a, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000);
      await lab.waitForHolders(VIP6, ['a'], 5_000);
      await sleep(1_000); // several advert intervals: b hears a and nothing flaps
      expect(countStates(b, 'MASTER')).toBe(0);

      const t0 = Date.now();
      signal(a, 'SIGTERM');
      await waitForState(b, 'MASTER', 3_000);
      // Master_Down_Interval at 300 ms adverts is ~1.1 s; priority 0 means Skew_Time (~0.2 s).
      expect(Date.now() - t0).toBeLessThan(900);
      await a.proc.exited;
      await lab.waitForHolders(VIP6, ['b'], 3_000);

      const a2 = await start('a', opts(transport, vrid, 'a', 150));
      await waitForState(a2, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000, 1);
      await lab.waitForHolders(VIP6, ['a'], 5_000);
      signal(a2, 'SIGKILL');
      await a2.proc.exited;
      await waitForState(b, 'MASTER', 5_000, 1);
      // a2 died holding the VIP (nobody removed it): b holds it too now, so check b only.
      expect(await lab.holds('b', VIP6)).toBe(true);
      await stopAll();
    });
  });
});
