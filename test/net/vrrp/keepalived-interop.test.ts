// lvskeep against keepalived 2.2.7 on one bridge, each scenario with fresh processes: who is master, who holds
// the VIP (`ip -o addr`), priority-0 hand-over both ways, VRRPv2 with `auth_type PASS`, unicast, forged adverts
// (wrong password, TTL 64) that must change nothing, and a partition of the bridge that heals to one master.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { requireRoot } from '../../harness/privileges.js';
import { TRANSPORT_AGENT, agentArgv, parseLines } from '../vrrp-io/agent-runner.js';
import { encodeAdvert, passwordAuthData, V2_AUTH_PASS } from '../../../src/vrrp/codec.js';
import { VrrpLab, agentEvents, countStates, signal, sleep, waitForState, waitReady, type Peer, type PeerOptions } from './lab.js';

const VIP = '192.0.2.60';
const A = '192.0.2.1';
const B = '192.0.2.2';
const FORGER = '192.0.2.66';

requireRoot('net/vrrp/keepalived-interop', ['ip', 'keepalived'])('lvskeep <-> keepalived 2.2.7', () => {
  let lab: VrrpLab;
  let peers: Peer[] = [];

  beforeAll(async () => {
    lab = new VrrpLab([
      { name: 'a', address: A },
      { name: 'b', address: B },
    ]);
    await lab.build();
    await lab.topo.namespace('x');
    await lab.topo.plug({ ns: 'x', ifname: 'eth0', addresses: [`${FORGER}/24`] }, 'lan');
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.proc.stop(10_000)));
    peers = [];
    // Each scenario starts from a clean interface (keepalived removes VIPs it holds when stopped too).
    await lab.waitForHolders(VIP, [], 5_000);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const lvskeep = async (ns: string, o: PeerOptions): Promise<Peer> => {
    const p = lab.startLvskeep(ns, o);
    peers.push(p);
    await waitReady(p);
    return p;
  };
  const keepalived = (ns: string, o: PeerOptions): Peer => {
    const p = lab.startKeepalived(ns, o);
    peers.push(p);
    return p;
  };
  /** The agent's status of its one instance (SIGUSR2 prints it). */
  const agentStatus = async (p: Peer): Promise<Record<string, unknown>> => {
    const before = agentEvents(p.proc).filter((e) => e.event === 'status').length;
    signal(p, 'SIGUSR2');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const all = agentEvents(p.proc).filter((e) => e.event === 'status');
      if (all.length > before) return ((all.at(-1)?.instances as Record<string, unknown>[] | undefined) ?? [])[0] ?? {};
      await sleep(50);
    }
    throw new Error(`${p.proc.label}: no status line`);
  };
  /** Master and backup hold steady for `ms`: no new state changes on either side. */
  const steady = async (master: Peer, backup: Peer, ms: number): Promise<void> => {
    const m = countStates(master, 'MASTER');
    const b = countStates(backup, 'MASTER');
    await sleep(ms);
    expect(countStates(master, 'MASTER')).toBe(m);
    expect(countStates(backup, 'MASTER')).toBe(b);
  };

  const v3 = (priority: number, extra: Partial<PeerOptions> = {}): PeerOptions => ({ vrid: 71, vip: VIP, priority, intervalMs: 500, ...extra });

  it('v3 multicast: lvskeep master, keepalived backup; SIGTERM hands over with priority 0', async () => {
    const a = await lvskeep('a', v3(150));
    await waitForState(a, 'MASTER', 10_000);
    const b = keepalived('b', v3(100));
    await waitForState(b, 'BACKUP', 10_000);
    await steady(a, b, 2_500); // keepalived's Master_Down_Interval is ~1.7 s here
    expect(await lab.holders(VIP)).toEqual(['a']);
    const t0 = Date.now();
    signal(a, 'SIGTERM');
    await waitForState(b, 'MASTER', 3_000);
    expect(Date.now() - t0).toBeLessThan(1_200); // priority 0: Skew_Time, not Master_Down_Interval
    await a.proc.exited;
    await lab.waitForHolders(VIP, ['b'], 3_000);
  });

  it('v3 multicast: keepalived master, lvskeep backup; keepalived SIGTERM hands over to lvskeep', async () => {
    const b = keepalived('b', v3(150));
    await waitForState(b, 'MASTER', 10_000);
    const a = await lvskeep('a', v3(100));
    await waitForState(a, 'BACKUP', 10_000);
    await steady(b, a, 2_500);
    expect(await lab.holders(VIP)).toEqual(['b']);
    const t0 = Date.now();
    signal(b, 'SIGTERM');
    await waitForState(a, 'MASTER', 3_000);
    expect(Date.now() - t0).toBeLessThan(1_200);
    await lab.waitForHolders(VIP, ['a'], 3_000);
    const master = agentEvents(a.proc).find((e) => e.event === 'vrrp.state' && e.to === 'MASTER');
    expect(master?.reason).toMatch(/Master_Down_Interval expired/);
  });

  it('v2 with auth PASS: keepalived accepts our adverts; forged adverts (wrong password, TTL 64) change nothing', async () => {
    const v2 = (priority: number): PeerOptions => ({ vrid: 72, vip: VIP, priority, version: 2, intervalMs: 1000, authPass: 'lk-pass' });
    const a = await lvskeep('a', v2(150));
    await waitForState(a, 'MASTER', 10_000);
    const b = keepalived('b', v2(100));
    await waitForState(b, 'BACKUP', 10_000);
    await steady(a, b, 4_500); // past keepalived's Master_Down_Interval (~3.6 s)

    const forged = (password: string): string => {
      const fields = { version: 2 as const, vrid: 72, priority: 254, intervalCs: 100, addresses: [VIP], authType: V2_AUTH_PASS, authData: passwordAuthData(password) };
      return Buffer.from(encodeAdvert(fields, { family: 4, src: FORGER, dst: '224.0.0.18' })).toString('hex');
    };
    const forge = async (payloadHex: string, ttl: number): Promise<void> => {
      const r = await lab.topo.exec('x', agentArgv(TRANSPORT_AGENT, { role: 'send-plain', kind: 'raw', family: 4, interface: 'eth0', source: FORGER, dest: '224.0.0.18', ttl, count: 5, intervalMs: 200, payloadHex, timeoutMs: 20_000 }), { timeoutMs: 30_000, check: false });
      expect(parseLines(r.stdout).at(-1)).toMatchObject({ event: 'sent', count: 5 });
    };
    const aMasters = countStates(a, 'MASTER');
    const aBackups = countStates(a, 'BACKUP');
    await forge(forged('wrong'), 255);
    await forge(forged('lk-pass'), 64);
    await sleep(1_000);
    expect(countStates(a, 'MASTER')).toBe(aMasters);
    expect(countStates(a, 'BACKUP')).toBe(aBackups);
    expect(countStates(b, 'MASTER')).toBe(0);
    expect(await lab.holders(VIP)).toEqual(['a']);
    const st = await agentStatus(a);
    expect(st).toMatchObject({ state: 'Master', counters: { drops: { 'auth-mismatch': 5, 'bad-ttl': 5 } } });

    // And the other way round: lvskeep leaves, keepalived takes over on our priority 0.
    signal(a, 'SIGTERM');
    await waitForState(b, 'MASTER', 3_000);
    await lab.waitForHolders(VIP, ['b'], 3_000);
  });

  it('v3 unicast both ways: lvskeep master hands over to keepalived, keepalived master hands back', async () => {
    const uni = (priority: number, self: string, peer: string): PeerOptions => v3(priority, { vrid: 73, unicastSource: self, unicastPeers: [peer] });
    const a = await lvskeep('a', uni(150, A, B));
    await waitForState(a, 'MASTER', 10_000);
    const b = keepalived('b', uni(100, B, A));
    await waitForState(b, 'BACKUP', 10_000);
    await steady(a, b, 2_500);
    expect(await lab.holders(VIP)).toEqual(['a']);
    signal(a, 'SIGTERM');
    await waitForState(b, 'MASTER', 3_000);
    await a.proc.exited;
    await lab.waitForHolders(VIP, ['b'], 3_000);

    const a2 = await lvskeep('a', uni(100, A, B));
    await waitForState(a2, 'BACKUP', 10_000);
    await sleep(2_000);
    expect(countStates(a2, 'MASTER')).toBe(0);
    signal(b, 'SIGTERM');
    await waitForState(a2, 'MASTER', 3_000);
    await lab.waitForHolders(VIP, ['a'], 3_000);
  });

  it('partition of the bridge makes two masters; healing leaves exactly one (the higher priority)', async () => {
    const a = await lvskeep('a', v3(150));
    await waitForState(a, 'MASTER', 10_000);
    const b = keepalived('b', v3(100));
    await waitForState(b, 'BACKUP', 10_000);
    // Take a's port (the first plugged) off the bridge: its veth keeps carrier, so a stays master on its side.
    const aBackups = countStates(a, 'BACKUP');
    await lab.topo.exec('sw', ['ip', 'link', 'set', 'lanp1', 'nomaster']);
    await waitForState(b, 'MASTER', 5_000);
    await lab.waitForHolders(VIP, ['a', 'b'], 3_000);
    await lab.topo.exec('sw', ['ip', 'link', 'set', 'lanp1', 'master', 'lan']);
    await waitForState(b, 'BACKUP', 5_000, 1);
    await lab.waitForHolders(VIP, ['a'], 5_000);
    await sleep(1_500);
    expect(await lab.holders(VIP)).toEqual(['a']);
    expect(countStates(a, 'BACKUP')).toBe(aBackups);
    expect(countStates(a, 'FAULT')).toBe(0);
  });
});

