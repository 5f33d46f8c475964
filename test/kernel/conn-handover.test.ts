// The connection hand-over on real IPVS inside the UML guest (src/ipvs/conn-sync/): d1 holds the VIPs of a NAT
// service and runs NO kernel sync daemon, d2 runs the kernel's backup daemon. A held HTTP connection goes
// through d1. Only lvskeep's push (the helper test/kernel/vrrp/push-conns.ts, the code a director leaving
// master runs) can tell d2 about it:
// - before the push, d2's table does not have it; a push with another sync id is ignored by d2's kernel;
// - after the push with the right id, d2's kernel lists it with d1's real server and state;
// - the VIPs move to d2 and the held connection completes through d2, at the same real server.
// Topology: test/kernel/vrrp/nat-pair.ts.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT } from '../harness/uml.js';
import { buildNatPair, connEntry, GW, HELD_CLIENT, REAL, SYNC_ID, VIP } from './vrrp/nat-pair.js';

const PUSH = join(REPO_ROOT, 'test', 'kernel', 'vrrp', 'push-conns.ts');
const WAIT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

requireKernelIpvs('kernel/conn-handover')('connection hand-over: a push from the director leaving master fills the new master\'s IPVS table', () => {
  let topo: Topology;
  let held: NsProcess | undefined;
  let heldLocal = '';
  let heldDest = '';

  const push = async (syncId: number): Promise<{ conns: number; datagrams: number }> => {
    const r = await topo.exec('d1', [process.execPath, '--import', 'tsx', PUSH, 'i0', String(syncId)], { timeoutMs: 60_000 });
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { conns: number; datagrams: number };
  };
  const onD2 = async (): Promise<ReturnType<typeof connEntry>> => connEntry((await topo.exec('d2', ['ipvsadm', '-Lnc'])).stdout, heldLocal);

  beforeAll(async () => {
    topo = new Topology({ timeoutMs: 60_000 });
    await buildNatPair(topo, WAIT_MS);
    // d1 holds the VIPs and runs no kernel sync daemon; d2 runs the backup one.
    await topo.exec('d1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'e0']);
    await topo.exec('d1', ['ip', 'addr', 'add', `${GW}/24`, 'dev', 'i0']);
    await topo.exec('d2', ['ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'i0', '--syncid', String(SYNC_ID)]);
  });

  afterAll(async () => {
    await topo?.destroy();
  });

  it('a held connection through d1 is in d1\'s table and not in d2\'s (no kernel sync runs on d1)', async () => {
    held = topo.spawn('client', [process.execPath, HELD_CLIENT, VIP, '80', '200'], { label: 'held client' });
    const m = await held.waitForOutput(/"event":"connected","local":"([\d.]+:\d+)"/, WAIT_MS);
    heldLocal = m[1] ?? '';
    const onD1 = connEntry((await topo.exec('d1', ['ipvsadm', '-Lnc'])).stdout, heldLocal);
    expect(onD1?.state).toBe('ESTABLISHED');
    heldDest = onD1?.dest ?? '';
    await sleep(3_000);
    expect(await onD2()).toBeUndefined();
  });

  it('d2\'s kernel ignores a push with another sync id', async () => {
    const r = await push(SYNC_ID + 1);
    expect(r.conns).toBeGreaterThanOrEqual(1);
    await sleep(1_000);
    expect(await onD2()).toBeUndefined();
  });

  it('after the push with the right sync id, d2 lists the connection with d1\'s real server', async () => {
    const r = await push(SYNC_ID);
    expect(r.conns).toBeGreaterThanOrEqual(1);
    expect(r.datagrams).toBeGreaterThanOrEqual(1);
    let entry: ReturnType<typeof connEntry>;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = await onD2();
      if (!entry) await sleep(100);
    }
    expect(entry).toEqual({ state: 'ESTABLISHED', virtual: `${VIP}:80`, dest: heldDest });
  });

  it('the VIPs move to d2 and the held connection completes through d2 at the same real server', async () => {
    await topo.exec('d1', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'e0']);
    await topo.exec('d1', ['ip', 'addr', 'del', `${GW}/24`, 'dev', 'i0']);
    await topo.exec('d2', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'e0']);
    await topo.exec('d2', ['ip', 'addr', 'add', `${GW}/24`, 'dev', 'i0']);
    // What gratuitous ARP would do: the client and the real servers look the VIPs up again.
    for (const ns of ['client', 'rs1', 'rs2']) await topo.exec(ns, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    if (!held?.pid || held.pid <= 0) throw new Error('held client not started');
    process.kill(held.pid, 'SIGUSR2'); // our own helper: finish the request
    const resp = await held.waitForOutput(/^\{"event":"(response|error)".*$/m, WAIT_MS);
    const line = JSON.parse(resp[0]) as { event: string; status?: number; body?: string };
    expect(line, held.output()).toEqual({ event: 'response', status: 200, body: heldDest.startsWith(REAL.rs1) ? 'rs1' : 'rs2' });
    const d2 = connEntry((await topo.exec('d2', ['ipvsadm', '-Lnc'])).stdout, heldLocal);
    expect(d2?.dest).toBe(heldDest);
  });
});
