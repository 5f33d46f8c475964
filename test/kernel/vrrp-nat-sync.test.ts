// VRRP for LVS-NAT on real IPVS inside the UML guest: two directors run the lvskeep VRRP manager (the test agent
// test/net/vrrp/agents/vrrp-agent.ts) with a sync group of the outside VIP and the inside gateway VIP, and
// lvs_sync on. Both directors hold the same NAT virtual service (ipvsadm); only the master owns the VIPs.
// Asserts: both VIPs on the master only; clients reach the real servers through the VIP; the IPVS sync daemons
// follow the VRRP state (the master keeps its backup daemon too) (`ipvsadm -L --daemon`); a connection made through the master appears in the backup's
// connection table (`ipvsadm -Lnc`); when the master's outside link dies BOTH VIPs move to d2, the daemons swap
// (the agents' worst VRRP timer lateness is printed, not asserted: timing in UML is a figure, not a proof; the
// proof that sync-daemon requests leave the VRRP thread and follow the VIPs is in test/unit/vrrp-sync-worker/
// and test/unit/vrrp-runtime/manager-sync-order.test.ts),
// the held connection completes through d2 (its synced entry routes it to the same real server), and new
// requests keep flowing; when the link returns, d1 preempts and everything moves back together.
// Topology: test/kernel/vrrp/nat-pair.ts (VIP 203.0.113.100 is instance ext, the gateway VIP 198.51.100.1
// instance int).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT, SCRATCH_DIR } from '../harness/uml.js';
import { buildNatPair, CLIENT_ADDR, connEntry, GW, HELD_CLIENT, NAT_DIRECTORS, REAL, SYNC_ID, VIP } from './vrrp/nat-pair.js';

const AGENT = join(REPO_ROOT, 'test', 'net', 'vrrp', 'agents', 'vrrp-agent.ts');
const CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');

const DIRECTORS = { d1: { ...NAT_DIRECTORS.d1, priority: 150 }, d2: { ...NAT_DIRECTORS.d2, priority: 100 } } as const;
type Director = keyof typeof DIRECTORS;
/** Generous for UML (process start ~2 s, late timers), far below "never". */
const WAIT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function agentConfig(d: Director): string {
  const p = DIRECTORS[d].priority;
  const common = [`      priority: ${p}`, '      advert_interval: 1s', '      garp: { repeat: 3, interval: 100ms }'];
  return [
    'vrrp:',
    '  instances:',
    '    - name: ext',
    '      interface: e0',
    '      virtual_router_id: 10',
    ...common,
    `      virtual_ips: ["${VIP}/24"]`,
    // The sync traffic runs on the inside network, which survives the outside link's failure.
    `      lvs_sync: { interface: i0, sync_id: ${SYNC_ID} }`,
    '    - name: int',
    '      interface: i0',
    '      virtual_router_id: 20',
    ...common,
    `      virtual_ips: ["${GW}/24"]`,
    '  sync_groups:',
    '    - name: nat',
    '      instances: [ext, int]',
    '',
  ].join('\n');
}

interface AgentEvent {
  event: string;
  instance?: string;
  to?: string;
  [k: string]: unknown;
}

function events(p: NsProcess): AgentEvent[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as AgentEvent);
}

/** The latest state each instance reported. */
function states(p: NsProcess): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events(p)) if (e.event === 'vrrp.state' && e.instance && e.to) out[e.instance] = e.to;
  return out;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 10_000; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

requireKernelIpvs('kernel/vrrp-nat-sync')('VRRP sync group + IPVS connection sync for a NAT director pair', () => {
  let topo: Topology;
  let dir: string;
  const agents: Partial<Record<Director, NsProcess>> = {};
  let held: NsProcess | undefined;
  let failed = false;

  const agent = (d: Director): NsProcess => {
    const a = agents[d];
    if (!a) throw new Error(`agent ${d} not started`);
    return a;
  };

  /** Which of the two VIPs a director holds (outside on e0, gateway on i0). */
  const vipsOf = async (d: Director): Promise<string[]> => {
    const r = await topo.exec(d, ['ip', '-o', '-4', 'addr', 'show'], { timeoutMs: 20_000 });
    return [VIP, GW].filter((v) => r.stdout.includes(` ${v}/`));
  };

  /** `master`/`backup` per running sync daemon, as ipvsadm reports them (e.g. "master sync daemon (mcast=i0, syncid=42, ...)"). */
  const daemonsOf = async (d: Director): Promise<string[]> => {
    const r = await topo.exec(d, ['ipvsadm', '-L', '--daemon'], { timeoutMs: 20_000 });
    return r.stdout
      .split('\n')
      .map((l) => /^(master|backup) sync daemon \(mcast=i0, syncid=(\d+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === SYNC_ID)
      .map((m) => m[1] ?? '')
      .sort();
  };

  /**
   * The largest lateness (ms) of any VRRP timer per instance so far, from the agent's status (SIGUSR2). The
   * sync-daemon switch of a new master used to stall its event loop (netlink runs inside sendmsg): its timers
   * fired 125-325 ms late. With the requests on a worker thread they must not.
   */
  const maxLateness = async (d: Director): Promise<Record<string, number>> => {
    const p = agent(d);
    const before = p.output().length;
    if (p.pid === undefined || p.pid <= 0) throw new Error(`${p.label} has no PID`);
    process.kill(p.pid, 'SIGUSR2'); // our own agent process
    const line = await until(`${d} status`, () => Promise.resolve(p.output().slice(before).split('\n').find((l) => l.startsWith('{"event":"status"'))), 20_000);
    const status = JSON.parse(line) as { instances: { name: string; timerLateness: { maxMs: number; count: number } }[] };
    return Object.fromEntries(status.instances.map((i) => [i.name, Math.round(i.timerLateness.maxMs)]));
  };
  const expectSettled = async (master: Director, backup: Director): Promise<void> => {
    await until(`both VIPs on ${master} only`, async () => ((await vipsOf(master)).length === 2 && (await vipsOf(backup)).length === 0 ? true : undefined));
    // The master keeps its backup daemon: it receives the connections a director leaving master hands over.
    await until(`${master} runs the master sync daemon (and the backup one)`, async () => ((await daemonsOf(master)).join() === 'backup,master' ? true : undefined));
    await until(`${backup} runs the backup sync daemon`, async () => ((await daemonsOf(backup)).join() === 'backup' ? true : undefined));
  };

  const startAgent = (d: Director): NsProcess => {
    const conf = join(dir, `${d}.yaml`);
    writeFileSync(conf, agentConfig(d));
    const p = topo.spawn(d, [process.execPath, '--import', 'tsx', AGENT, conf, '280'], { cwd: REPO_ROOT, label: `vrrp agent ${d}`, env: { ...process.env } });
    agents[d] = p;
    return p;
  };

  beforeAll(async () => {
    mkdirSync(SCRATCH_DIR, { recursive: true });
    dir = mkdtempSync(join(SCRATCH_DIR, 'vrrp-nat-'));
    topo = new Topology({ timeoutMs: 60_000 });
    await buildNatPair(topo, WAIT_MS);

    // d1 first, so the higher priority is master before d2 listens (no preemption dance to wait out).
    const a1 = startAgent('d1');
    await a1.waitForOutput(/"event":"(ready|error)"/, WAIT_MS);
    await until('d1 Master on both instances', () => Promise.resolve(states(a1).ext === 'MASTER' && states(a1).int === 'MASTER' ? true : undefined));
    const a2 = startAgent('d2');
    await a2.waitForOutput(/"event":"(ready|error)"/, WAIT_MS);
    await until('d2 Backup on both instances', () => Promise.resolve(states(a2).ext === 'BACKUP' && states(a2).int === 'BACKUP' ? true : undefined));
  });

  afterAll(async () => {
    const out = (['d1', 'd2'] as const).map((d) => `---- ${d}\n${agents[d]?.output().slice(-3000) ?? ''}`).join('\n');
    try {
      // The agents stop their sync daemons on SIGTERM; the namespaces (and their IPVS tables) go with destroy().
      await topo?.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
    if (failed) process.stdout.write(`vrrp-nat-sync: agent output after a failure:\n${out}\n${held?.output() ?? ''}\n`);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  it('d1 is master of the sync group: both VIPs on d1 only, master (and backup) sync daemon on d1, backup daemon on d2', async () => {
    await expectSettled('d1', 'd2');
    expect(events(agent('d1')).filter((e) => e.event === 'error')).toEqual([]);
    expect(events(agent('d2')).filter((e) => e.event === 'error' || e.event === 'ipvs.error')).toEqual([]);
  });

  it('the client reaches both real servers through the VIP', async () => {
    const r = await topo.exec('client', [process.execPath, CLIENT, `http://${VIP}/`, '4', '5000'], { timeoutMs: 60_000 });
    const bodies = (JSON.parse(r.stdout) as { body?: string }[]).map((x) => x.body);
    expect(new Set(bodies)).toEqual(new Set(['rs1', 'rs2']));
  });

  let heldLocal = '';
  let heldDest = '';
  it('a connection through the master appears in the backup director\'s connection table', async () => {
    held = topo.spawn('client', [process.execPath, HELD_CLIENT, VIP, '80', '200'], { label: 'held client' });
    const m = await held.waitForOutput(/"event":"connected","local":"([\d.]+:\d+)"/, WAIT_MS);
    heldLocal = m[1] ?? '';
    expect(heldLocal.startsWith(`${CLIENT_ADDR}:`)).toBe(true);
    const onMaster = await until('entry on d1', async () => connEntry((await topo.exec('d1', ['ipvsadm', '-Lnc'])).stdout, heldLocal));
    heldDest = onMaster.dest;
    const onBackup = await until('entry synced to d2', async () => connEntry((await topo.exec('d2', ['ipvsadm', '-Lnc'])).stdout, heldLocal));
    expect(onBackup).toMatchObject({ virtual: `${VIP}:80`, dest: heldDest });
  });

  it('killing d1\'s outside link moves BOTH VIPs to d2, the sync daemons swap, and traffic keeps flowing', async () => {
    const t0 = Date.now();
    await topo.exec('d1', ['ip', 'link', 'set', 'e0', 'down']);
    await until('d2 Master on both instances', () => Promise.resolve(states(agent('d2')).ext === 'MASTER' && states(agent('d2')).int === 'MASTER' ? true : undefined));
    const failoverMs = Date.now() - t0;
    expect(states(agent('d1'))).toEqual({ ext: 'FAULT', int: 'FAULT' });
    await expectSettled('d2', 'd1');
    process.stdout.write(`vrrp-nat-sync: both instances Master on d2 ${failoverMs} ms after d1's e0 went down\n`);
    // d2 was Backup until now (its timers rarely fired): its worst lateness is that of becoming master with the
    // sync-daemon switch (DEL_DAEMON backup, NEW_DAEMON master) and the first adverts after it.
    await sleep(3_000);
    const late2 = await maxLateness('d2');
    process.stdout.write(`vrrp-nat-sync: d2 max VRRP timer lateness after becoming master ${JSON.stringify(late2)} ms\n`);

    // The held connection finishes through d2: its synced entry sends it to the same real server.
    if (!held) throw new Error('held client not started');
    signalHeld(held);
    const resp = await held.waitForOutput(/^\{"event":"(response|error)".*$/m, WAIT_MS);
    const line = JSON.parse(resp[0]) as { event: string; status?: number; body?: string; error?: string };
    expect(line, held.output()).toEqual({ event: 'response', status: 200, body: heldDest.startsWith(REAL.rs1) ? 'rs1' : 'rs2' });

    const r = await topo.exec('client', [process.execPath, CLIENT, `http://${VIP}/`, '4', '5000'], { timeoutMs: 60_000, check: false });
    const results = JSON.parse(r.stdout) as { ok: boolean; body?: string }[];
    expect(results.every((x) => x.ok), r.stdout).toBe(true);
    expect(new Set(results.map((x) => x.body))).toEqual(new Set(['rs1', 'rs2']));
    const served = await topo.exec('d2', ['ipvsadm', '-Lnc']);
    expect(served.stdout).toContain(`${CLIENT_ADDR}:`);
  });

  it('when d1\'s link returns, d1 preempts: both VIPs and the master sync daemon go back together', async () => {
    const masters = events(agent('d1')).filter((e) => e.event === 'vrrp.state' && e.to === 'MASTER').length;
    await topo.exec('d1', ['ip', 'link', 'set', 'e0', 'up']);
    await until('d1 Master again on both instances', () =>
      Promise.resolve(events(agent('d1')).filter((e) => e.event === 'vrrp.state' && e.to === 'MASTER').length >= masters + 2 ? true : undefined),
    );
    await expectSettled('d1', 'd2');
    expect(states(agent('d2'))).toEqual({ ext: 'BACKUP', int: 'BACKUP' });
    const late1 = await maxLateness('d1');
    process.stdout.write(`vrrp-nat-sync: d1 max VRRP timer lateness over the run (incl. preempting with the sync-daemon switch) ${JSON.stringify(late1)} ms\n`);
    const r = await topo.exec('client', [process.execPath, CLIENT, `http://${VIP}/`, '2', '5000'], { timeoutMs: 60_000, check: false });
    expect((JSON.parse(r.stdout) as { ok: boolean }[]).every((x) => x.ok), r.stdout).toBe(true);
    for (const d of ['d1', 'd2'] as const) expect(events(agent(d)).filter((e) => e.event === 'ipvs.error' || e.event === 'vip.error' || e.event === 'error'), d).toEqual([]);
  });
});

/** Ask the held client to finish its request: SIGUSR2 to its own PID only. */
function signalHeld(p: NsProcess): void {
  const pid = p.pid;
  if (pid === undefined || pid <= 0) throw new Error(`${p.label} has no PID`);
  process.kill(pid, 'SIGUSR2');
}
