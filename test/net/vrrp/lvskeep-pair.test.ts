// Two lvskeep agents on a bridge (VRRPv3 over raw IPv4 multicast, and over UDP unicast), with a client that
// fetches http://VIP:8080/ from a tiny server on each director answering with the director's name: exactly one
// master holds the VIP, it moves on kill -9 / link down / SIGTERM (priority 0), preemption brings it back,
// nopreempt keeps it where it is, and the client's neighbour cache follows (gratuitous ARP).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT } from '../../harness/uml.js';
import { VrrpLab, agentEvents, countStates, signal, sleep, waitForState, waitReady, type Peer, type PeerOptions } from './lab.js';

const VIP = '192.0.2.50';
const HTTP_SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const HTTP_GET = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');

requireRoot('net/vrrp/lvskeep-pair', ['ip'])('lvskeep pair', () => {
  let lab: VrrpLab;
  const peers: Peer[] = [];

  beforeAll(async () => {
    lab = new VrrpLab([
      { name: 'a', address: '192.0.2.1' },
      { name: 'b', address: '192.0.2.2' },
    ]);
    await lab.build();
    for (const d of ['a', 'b']) {
      const s = lab.topo.spawn(d, [process.execPath, HTTP_SERVER, '0.0.0.0', '8080', d, '600'], { label: `http ${d}` });
      await s.waitForOutput(/listening/, 20_000);
    }
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  /** Which director answered the client on the VIP ('' when nobody did within 1 s). */
  const whoAnswers = async (): Promise<string> => {
    const r = await lab.topo.exec('client', [process.execPath, HTTP_GET, `http://${VIP}:8080/`, '1', '1000'], { check: false, timeoutMs: 10_000 });
    const res = JSON.parse(r.stdout.trim() || '[]') as { ok: boolean; body?: string }[];
    return res[0]?.ok ? (res[0].body ?? '').trim() : '';
  };
  const waitAnswer = async (name: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await whoAnswers();
      if (last === name) return;
      await sleep(100);
    }
    throw new Error(`client: VIP answered by "${last}", expected "${name}" within ${timeoutMs} ms`);
  };
  const start = async (ns: string, o: PeerOptions): Promise<Peer> => {
    const p = lab.startLvskeep(ns, o);
    peers.push(p);
    await waitReady(p);
    return p;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(peers.splice(0).map((p) => p.proc.stop(10_000)));
  };

  describe('VRRPv3 over raw IPv4 multicast', () => {
    const opts = (priority: number, extra: Partial<PeerOptions> = {}): PeerOptions => ({ vrid: 61, vip: VIP, priority, intervalMs: 300, ...extra });

    it('elects exactly one master, which alone holds the VIP and answers the client', async () => {
      const a = await start('a', opts(150));
      const b = await start('b', opts(100));
      await waitForState(a, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000);
      await lab.waitForHolders(VIP, ['a'], 5_000);
      await sleep(1_500); // a few advert intervals: nothing flaps
      expect(countStates(b, 'MASTER')).toBe(0);
      expect(await lab.holders(VIP)).toEqual(['a']);
      await waitAnswer('a', 5_000);
    });

    it('fails over when the master is killed -9, and preempts back after a restart', async () => {
      const [a] = peers as [Peer, Peer];
      const b = peers[1] as Peer;
      signal(a, 'SIGKILL');
      await a.proc.exited;
      await waitForState(b, 'MASTER', 5_000);
      // The dead agent could not remove its VIP; the client follows b's gratuitous ARP anyway.
      await waitAnswer('b', 5_000);
      const a2 = await start('a', opts(150));
      // On start a removes its stale VIP, hears b (lower priority) and preempts.
      await waitForState(a2, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000, 1);
      await lab.waitForHolders(VIP, ['a'], 5_000);
      await waitAnswer('a', 5_000);
    });

    it('fails over when the master loses its link, and preempts back when the link returns', async () => {
      const a = peers[2] as Peer;
      const b = peers[1] as Peer;
      const bMasters = countStates(b, 'MASTER');
      await lab.setLink('a', false);
      await waitForState(a, 'FAULT', 5_000);
      await waitForState(b, 'MASTER', 5_000, bMasters);
      await lab.waitForHolders(VIP, ['b'], 5_000);
      await waitAnswer('b', 5_000);
      await lab.setLink('a', true);
      await waitForState(a, 'MASTER', 10_000, 1);
      await lab.waitForHolders(VIP, ['a'], 5_000);
      await waitAnswer('a', 5_000);
      const fault = agentEvents(a.proc).find((e) => e.event === 'vrrp.state' && e.to === 'FAULT');
      expect(fault?.reason).toMatch(/interface eth0/);
    });

    it('hands over with priority 0 on SIGTERM: the backup takes over at once, make-before-break', async () => {
      const a = peers[2] as Peer;
      const b = peers[1] as Peer;
      const bMasters = countStates(b, 'MASTER');
      const t0 = Date.now();
      signal(a, 'SIGTERM');
      await waitForState(b, 'MASTER', 3_000, bMasters);
      // Master_Down_Interval would be ~1.1 s at 300 ms adverts; priority 0 means Skew_Time (~0.1 s).
      expect(Date.now() - t0).toBeLessThan(900);
      const exit = await a.proc.exited;
      expect(exit.code).toBe(0);
      expect(a.proc.output()).toMatch(/"event":"stopped"/);
      await lab.waitForHolders(VIP, ['b'], 3_000);
      await waitAnswer('b', 3_000);
      await stopAll();
      await lab.waitForHolders(VIP, [], 5_000);
    });

    it('nopreempt: a higher-priority router that starts later stays Backup', async () => {
      const b = await start('b', opts(100, { preempt: false }));
      await waitForState(b, 'MASTER', 10_000);
      const a = await start('a', opts(150, { preempt: false }));
      await waitForState(a, 'BACKUP', 10_000);
      await sleep(2_500); // well past a's Master_Down_Interval
      expect(countStates(a, 'MASTER')).toBe(0);
      expect(await lab.holders(VIP)).toEqual(['b']);
      await stopAll();
    });
  });

  describe('VRRPv3 over raw IPv6 multicast (link-local sources, ff02::12)', () => {
    const VIP6 = '2001:db8::50';
    const opts = (priority: number): PeerOptions => ({ vrid: 63, vip: VIP6, priority, intervalMs: 300 });

    it('elects one master holding the IPv6 VIP, and hands over with priority 0 on SIGTERM', async () => {
      await lab.waitLinkLocal('a');
      await lab.waitLinkLocal('b');
      const a = await start('a', opts(150));
      const b = await start('b', opts(100));
      await waitForState(a, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000);
      await lab.waitForHolders(VIP6, ['a'], 5_000);
      await sleep(1_000);
      expect(countStates(b, 'MASTER')).toBe(0);
      signal(a, 'SIGTERM');
      await waitForState(b, 'MASTER', 3_000);
      await a.proc.exited;
      await lab.waitForHolders(VIP6, ['b'], 3_000);
      await stopAll();
    });
  });

  describe('VRRPv3 over UDP unicast (lvskeep to lvskeep)', () => {
    const opts = (priority: number, self: string, peer: string): PeerOptions => ({ vrid: 62, vip: VIP, priority, intervalMs: 300, transport: 'udp', unicastPeers: [peer], unicastSource: self });

    it('elects one master, fails over on SIGTERM and on kill -9', async () => {
      const a = await start('a', opts(150, '192.0.2.1', '192.0.2.2'));
      const b = await start('b', opts(100, '192.0.2.2', '192.0.2.1'));
      await waitForState(a, 'MASTER', 10_000);
      await waitForState(b, 'BACKUP', 10_000);
      await lab.waitForHolders(VIP, ['a'], 5_000);
      await waitAnswer('a', 5_000);
      signal(a, 'SIGTERM');
      await waitForState(b, 'MASTER', 3_000);
      await a.proc.exited;
      await lab.waitForHolders(VIP, ['b'], 3_000);
      await waitAnswer('b', 3_000);
      const a2 = await start('a', opts(150, '192.0.2.1', '192.0.2.2'));
      await waitForState(a2, 'MASTER', 10_000);
      await lab.waitForHolders(VIP, ['a'], 5_000);
      signal(a2, 'SIGKILL');
      await waitForState(b, 'MASTER', 5_000, 1);
      await waitAnswer('b', 5_000);
      await stopAll();
    });
  });
});
