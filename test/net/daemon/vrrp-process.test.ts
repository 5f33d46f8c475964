// The daemon's process shape with the real `lvskeep run` (IPVS in memory, VRRP for real) as master of a pair on a
// bridge, 100 ms adverts, and a lower-priority lvskeep VRRP agent as backup; a client namespace captures the
// adverts with tcpdump. A preloaded hook (process-hook.ts) stalls or crashes the main process or the VRRP child:
// - a 1.5 s busy loop on the main event loop leaves every advert on time and the backup BACKUP (VRRP has a
//   process of its own), while the same stall in the VRRP process is caught by the same measurement;
// - a VRRP process killed with SIGKILL, or dying of an uncaught error, is logged with why and restarted, and the
//   pair never has the VIP on both directors and ends with exactly one master;
// - SIGTERM still hands over the planned way through the VRRP process.
// The VRRP process runs with lvs_sync, so its sync-daemon worker thread is there through the crash and the stop.
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { controlRequest } from '../../../src/control/client.js';
import type { StatusResult } from '../../../src/control/protocol.js';
import { LineTaps, Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT, SCRATCH_DIR } from '../../harness/uml.js';
import { countStates, lvskeepConfig, sleep, VRRP_AGENT, waitForState, waitReady, type Peer } from '../vrrp/lab.js';

const VIP = '192.0.2.52';
const VRID = 62;
const MASTER_ADDR = '192.0.2.1';
const INTERVAL_MS = 100;
/** The backup's Master_Down_Interval is ~361 ms at priority 100: a gap this long is a failure. */
const MAX_GAP_MS = 3 * INTERVAL_MS;
const STALL_MS = 1_500;
const CLI = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const HOOK = join(REPO_ROOT, 'test', 'net', 'daemon', 'process-hook.ts');

/** Scheduling policy and RT priority of one thread, from /proc/PID/task/TID/stat (fields 41 and 40). */
function threadSched(pid: number, tid = pid): { policy: 'SCHED_OTHER' | 'SCHED_FIFO' | 'SCHED_RR' | string; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const policy = Number(f[41 - 3]);
  return { policy: ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', '4', 'SCHED_IDLE'][policy] ?? String(policy), rtPriority: Number(f[40 - 3]) };
}

/** The VRRP child goes SCHED_RR 10 (the default) only where it can run on two CPUs or more. */
const TWO_CPUS = availableParallelism() >= 2;
const EXPECTED_SCHED = TWO_CPUS ? { policy: 'SCHED_RR', rtPriority: 10 } : { policy: 'SCHED_OTHER', rtPriority: 0 };

type Line = Record<string, unknown> & { msg?: string; hook?: string; where?: string; pid?: number; from?: number; to?: number; reason?: string };

function daemonConfig(dir: string): string {
  return `
global:
  state_dir: ${dir}/state
  # vrrp_rt_priority stays at its default (SCHED_RR 10). The 1.5 s busy loop ordered in the VRRP process below
  # must run to its end, so RLIMIT_RTTIME (whose SIGXCPU would end it at 100 ms) is at its maximum, 10 s.
  vrrp_rlimit_rttime: 10000000
control:
  socket: ${dir}/lvskeep.sock
metrics:
  enabled: false
vrrp:
  instances:
    - name: vi${VRID}
      interface: eth0
      virtual_router_id: ${VRID}
      priority: 150
      advert_interval: ${INTERVAL_MS}ms
      version: 3
      virtual_ips: ["${VIP}/24"]
      # The VRRP process runs its sync-daemon worker thread (no ip_vs on the host: its requests fail and are
      # retried): the crash and stop below must end that process with its own exit code, never a native abort.
      lvs_sync: { interface: eth0, sync_id: ${VRID} }
virtual_servers: []
log:
  level: info
`;
}

/** `1763712000.123456 IP 192.0.2.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 62, prio 150, ...` */
function advertOf(line: string): { at: number; source: string } | undefined {
  const m = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+) > 224\.0\.0\.18: VRRPv3, Advertisement, vrid (\d+)/.exec(line);
  return m && Number(m[3]) === VRID ? { at: Number(m[1]) * 1000, source: m[2] ?? '' } : undefined;
}

/** The master's longest silence in [from, to], edges included, and how many adverts came from anyone else. */
function gaps(adverts: readonly { at: number; source: string }[], from: number, to: number): { count: number; maxGapMs: number; others: number } {
  const inWindow = adverts.filter((a) => a.at >= from && a.at <= to);
  const times = inWindow.filter((a) => a.source === MASTER_ADDR).map((a) => a.at);
  const edges = [from, ...times, to];
  const maxGapMs = Math.max(...edges.slice(1).map((t, i) => t - (edges[i] ?? t)));
  return { count: times.length, maxGapMs, others: inWindow.length - times.length };
}

requireRoot('net/daemon/vrrp-process', ['ip', 'tcpdump'])('VRRP in a supervised process of its own (real daemon)', () => {
  let topo: Topology;
  let dir: string;
  let daemon: NsProcess;
  let backup: Peer;
  const taps = new LineTaps();
  const logs: Line[] = [];
  let adverts: { at: number; source: string }[] = [];

  const status = (): Promise<StatusResult> => controlRequest(join(dir, 'lvskeep.sock'), 'status', { stats: false }, { timeoutMs: 5_000 });
  const order = (o: object): void => writeFileSync(join(dir, 'hook.json'), JSON.stringify(o));
  const logged = (pred: (l: Line) => boolean): Line[] => logs.filter(pred);
  async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await get();
      if (v !== undefined && v !== false) return v;
      if (!daemon.running()) throw new Error(`lvskeep exited before ${what}:\n${daemon.output().slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; log tail:\n${logs.slice(-30).map((l) => JSON.stringify(l)).join('\n')}`);
      await sleep(50);
    }
  }
  const vrrpPids = (): number[] => logged((l) => l.msg === 'VRRP process started').map((l) => Number(l.pid));
  const holders = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const ns of ['a', 'b']) {
      const r = await topo.exec(ns, ['ip', '-o', 'addr', 'show', 'dev', 'eth0'], { timeoutMs: 10_000 });
      if (r.stdout.includes(` ${VIP}/`)) out.push(ns);
    }
    return out;
  };
  /** Polls who holds the VIP until `done` resolves; returns every sample. */
  const watchHolders = async (done: Promise<unknown>): Promise<string[][]> => {
    const samples: string[][] = [];
    let over = false;
    void done.finally(() => (over = true));
    while (!over) {
      samples.push(await holders());
      await sleep(50);
    }
    samples.push(await holders());
    return samples;
  };
  const masterAgain = async (): Promise<void> => {
    await until('the daemon MASTER again', async () => (await status().catch(() => undefined))?.vrrp[0]?.state === 'MASTER', 20_000);
    await until('the VIP on a only', async () => ((await holders()).join(',') === 'a' ? true : undefined), 10_000);
    await waitForState(backup, 'BACKUP', 10_000, countStates(backup, 'BACKUP') - 1);
  };
  /** Adverts seen by the client during `run`, with `run`'s own window. */
  async function capture(run: () => Promise<{ from: number; to: number }>): Promise<{ from: number; to: number; count: number; maxGapMs: number; others: number }> {
    adverts = [];
    taps.next = (l) => {
      const a = advertOf(l);
      if (a) adverts.push(a);
    };
    const dump = topo.spawn('client', ['tcpdump', '-n', '-tt', '-l', '-i', 'eth0', 'ip proto 112'], { label: 'tcpdump' });
    try {
      await dump.waitForOutput(/listening on eth0/, 10_000);
      await sleep(700); // the window starts 500 ms before the stall: tcpdump must already be capturing then
      const w = await run();
      await sleep(300); // the last adverts reach tcpdump's output
      return { ...w, ...gaps(adverts, w.from, w.to) };
    } finally {
      await dump.stop();
    }
  }
  /** Order a stall and return the window around it (500 ms either side). */
  async function stall(where: 'main' | 'vrrp'): Promise<{ from: number; to: number; stalled: Line }> {
    const before = logs.length;
    order({ where, action: 'stall', ms: STALL_MS });
    const stalled = await until(`the ${where} stall`, () => logs.slice(before).find((l) => l.hook === 'stall' && l.where === where), 20_000);
    const from = (stalled.from ?? 0) - 500;
    const to = (stalled.to ?? 0) + 500;
    await sleep(Math.max(0, to - Date.now()));
    return { from, to, stalled };
  }

  beforeAll(async () => {
    mkdirSync(SCRATCH_DIR, { recursive: true });
    dir = mkdtempSync(join(SCRATCH_DIR, 'vrrp-process-'));
    topo = new Topology({ timeoutMs: 30_000, spawner: taps.spawner });
    await topo.bridge('lan');
    for (const [ns, addr] of [['a', MASTER_ADDR], ['b', '192.0.2.2'], ['client', '192.0.2.200']] as const) {
      await topo.namespace(ns);
      await topo.plug({ ns, ifname: 'eth0', addresses: [`${addr}/24`] }, 'lan');
    }
    const configPath = join(dir, 'lvskeep.yaml');
    writeFileSync(configPath, daemonConfig(dir));
    taps.next = (l) => {
      try {
        logs.push(JSON.parse(l) as Line);
      } catch {
        logs.push({ msg: `unparsed: ${l}` });
      }
    };
    daemon = topo.spawn('a', [process.execPath, '--import', 'tsx', '--import', HOOK, CLI, 'run', '-c', configPath, '--backend', 'memory'], {
      cwd: REPO_ROOT,
      label: 'lvskeep run',
      env: { ...process.env, LVSKEEP_TEST_HOOK_FILE: join(dir, 'hook.json') },
    });
    await until('lvskeep started', () => logged((l) => l.msg === 'lvskeep started')[0], 30_000);
    await until('vrrp MASTER', async () => (await status().catch(() => undefined))?.vrrp[0]?.state === 'MASTER', 10_000);
    const backupConf = join(dir, 'backup.yaml');
    writeFileSync(backupConf, lvskeepConfig(`vi${VRID}`, { vrid: VRID, vip: VIP, priority: 100, intervalMs: INTERVAL_MS }));
    backup = { kind: 'lvskeep', ns: 'b', proc: topo.spawn('b', [process.execPath, '--import', 'tsx', VRRP_AGENT, backupConf, '240'], { cwd: REPO_ROOT, label: 'lvskeep backup' }) };
    await waitReady(backup);
    await waitForState(backup, 'BACKUP', 10_000);
  });

  afterAll(async () => {
    try {
      await topo?.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs VRRP in a child process: a 1.5 s stall of the main event loop leaves every advert on time', async () => {
    const [pid] = vrrpPids();
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(daemon.pid);
    // The child of the daemon, running the VRRP entry point.
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(new RegExp(`^PPid:\\s+${daemon.pid}$`, 'm'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('child-main');
    // global.vrrp_rt_priority (default 10): its main thread, and only that one, runs SCHED_RR; the daemon does not.
    // On one CPU the child stays at normal scheduling and says why (test/net/daemon/vrrp-rt.test.ts).
    const rtMsg = TWO_CPUS ? /^VRRP thread runs SCHED_RR \(global\.vrrp_rt_priority\)$/ : /only one CPU/;
    await until('the scheduling log', () => logged((l) => l.pid === pid && rtMsg.test(String(l.msg)))[0], 10_000);
    expect(threadSched(pid ?? 0)).toEqual(EXPECTED_SCHED);
    const others = readdirSync(`/proc/${pid}/task`).map(Number).filter((t) => t !== pid);
    expect(others.length).toBeGreaterThan(0);
    for (const tid of others) expect(threadSched(pid ?? 0, tid).policy).toBe('SCHED_OTHER');
    expect(threadSched(daemon.pid ?? 0).policy).toBe('SCHED_OTHER');
    expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/^Max realtime timeout\s+10000000\s+20000000\s+us/m);
    // Its log lines reach the daemon's output, marked as the VRRP process's.
    expect(logged((l) => l.process === 'vrrp' && l.pid === pid && typeof l.msg === 'string' && l.msg.startsWith('VRRP vi62: ')).length).toBeGreaterThan(0);

    const backupMastersBefore = countStates(backup, 'MASTER');
    const w = await capture(async () => {
      const s = await stall('main');
      expect((s.stalled.to ?? 0) - (s.stalled.from ?? 0)).toBeGreaterThanOrEqual(STALL_MS);
      expect(s.stalled.pid).toBe(daemon.pid);
      return s;
    });
    process.stdout.write(`vrrp-process: main stalled ${STALL_MS} ms: ${w.count} adverts in ${w.to - w.from} ms, longest gap ${w.maxGapMs.toFixed(1)} ms\n`);
    expect(w.others).toBe(0);
    expect(w.maxGapMs).toBeLessThan(MAX_GAP_MS);
    expect(w.count).toBeGreaterThanOrEqual(Math.floor(((w.to - w.from) / INTERVAL_MS) * 0.8));
    expect(countStates(backup, 'MASTER')).toBe(backupMastersBefore);
    expect((await status()).vrrp[0]?.state).toBe('MASTER');
  });

  it('negative control: the same stall in the VRRP process is caught by the same measurement', async () => {
    const backupMastersBefore = countStates(backup, 'MASTER');
    const w = await capture(async () => {
      const s = await stall('vrrp');
      expect(s.stalled.pid).toBe(vrrpPids().at(-1));
      return s;
    });
    process.stdout.write(`vrrp-process: VRRP process stalled ${STALL_MS} ms: longest gap ${w.maxGapMs.toFixed(1)} ms, ${w.others} adverts from the backup\n`);
    expect(w.maxGapMs).toBeGreaterThanOrEqual(STALL_MS - 200);
    expect(countStates(backup, 'MASTER')).toBeGreaterThan(backupMastersBefore);
    await masterAgain();
  });

  it('a VRRP process killed with SIGKILL is logged, restarted, and the pair never holds the VIP twice', async () => {
    const pid = vrrpPids().at(-1) ?? 0;
    const before = logs.length;
    const recovered = (async () => {
      process.kill(pid, 'SIGKILL'); // the daemon's own child, started by this test
      const crash = await until('the crash log', () => logs.slice(before).find((l) => l.msg === 'VRRP process exited unexpectedly; releasing its VIPs and restarting it'), 10_000);
      expect(crash).toMatchObject({ pid, reason: 'signal SIGKILL' });
      await until('the restart log', () => logs.slice(before).find((l) => l.msg === 'VRRP process restarted; its instances start in Backup'), 30_000);
      await masterAgain();
    })();
    const samples = await watchHolders(recovered);
    await recovered;
    expect(samples.filter((s) => s.length > 1), JSON.stringify(samples)).toEqual([]);
    expect(samples.at(-1)).toEqual(['a']);
    const events = logs.slice(before).flatMap((l) => (l.msg === 'event vrrp.process' ? [l.event as { status: string; reason: string }] : []));
    expect(events).toMatchObject([{ status: 'exited', reason: 'signal SIGKILL' }, { status: 'restarted' }]);
    const newPid = vrrpPids().at(-1);
    expect(newPid).not.toBe(pid);
    // The restarted process started in Backup and listened before claiming Master again.
    expect(logs.slice(before).find((l) => l.pid === newPid && l.msg === 'VRRP vi62: Initialize -> Backup')).toBeDefined();
    // A restarted process is real-time again.
    expect(threadSched(newPid ?? 0)).toEqual(EXPECTED_SCHED);
  });

  it('an uncaught error in the VRRP process is logged with its message and the process restarted', async () => {
    const pid = vrrpPids().at(-1) ?? 0;
    // Its sync-daemon worker thread is at work first (a failed request, retried): the crash must end the process
    // with that thread alive. The thread starts at normal scheduling (the real-time VRRP thread creates it with
    // SCHED_RESET_ON_FORK) and compiles TypeScript under tsx here, so on a busy machine this can take a while.
    await until('the sync-daemon worker at work', () => logs.find((l) => l.pid === pid && typeof l.msg === 'string' && l.msg.startsWith('IPVS sync daemon change failed')), 20_000);
    const before = logs.length;
    order({ where: 'vrrp', action: 'crash' });
    const crash = await until('the crash log', () => logs.slice(before).find((l) => l.msg === 'VRRP process exited unexpectedly; releasing its VIPs and restarting it'), 10_000);
    expect(crash).toMatchObject({ pid, reason: 'exit code 70 (uncaught: test hook crash)' });
    // The sync-daemon worker of that process had been at work (and so ended with it, without taking it down).
    expect(logs.some((l) => l.pid === pid && typeof l.msg === 'string' && l.msg.startsWith('IPVS sync daemon change failed'))).toBe(true);
    await until('the restart log', () => logs.slice(before).find((l) => l.msg === 'VRRP process restarted; its instances start in Backup'), 30_000);
    await masterAgain();
    expect(await holders()).toEqual(['a']);
  });

  it('SIGTERM hands over the planned way through the VRRP process and releases the VIP', async () => {
    const pid = vrrpPids().at(-1) ?? 0;
    const mastersBefore = countStates(backup, 'MASTER');
    await daemon.stop(20_000);
    expect((await daemon.exited).code).toBe(0);
    expect(logged((l) => l.pid === pid && l.reason === 'planned step-down: stopping').length).toBeGreaterThan(0);
    expect(countStates(backup, 'MASTER')).toBeGreaterThan(mastersBefore);
    // The backup heard priority 0 (and so took over after Skew_Time, not Master_Down_Interval); the VIP moved to it alone.
    expect(backup.proc.output()).toContain(`master ${MASTER_ADDR} sent priority 0`);
    expect(await holders()).toEqual(['b']);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
