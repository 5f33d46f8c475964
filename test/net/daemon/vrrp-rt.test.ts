// global.vrrp_rt_priority with the real `lvskeep run` (IPVS in memory, VRRP for real, one namespace):
// - off (0): the VRRP process's main thread stays SCHED_OTHER;
// - on (15) with vrrp_rlimit_rttime 200 ms (far above an ordinary burst on a loaded machine, far below the
//   stall): that thread is SCHED_RR 15, and a runaway busy loop in it (the process-hook's stall) is ended by
//   RLIMIT_RTTIME's SIGXCPU, which the daemon logs as a crash with that signal and recovers from by restarting the
//   VRRP process, real-time again;
// - on, but the daemon may run on one CPU only (taskset): the VRRP thread stays SCHED_OTHER, one warning says why.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeSpawner, Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT, SCRATCH_DIR } from '../../harness/uml.js';
import { sleep } from '../vrrp/lab.js';

const CLI = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const HOOK = join(REPO_ROOT, 'test', 'net', 'daemon', 'process-hook.ts');
type Line = Record<string, unknown> & { msg?: string; pid?: number; reason?: string };

function config(dir: string, name: string, rt: number, rttimeUs: number, vrid: number): string {
  return `
global:
  state_dir: ${dir}/${name}-state
  vrrp_rt_priority: ${rt}
  vrrp_rlimit_rttime: ${rttimeUs}
control:
  socket: ${dir}/${name}.sock
metrics:
  enabled: false
vrrp:
  instances:
    - name: vi${vrid}
      interface: eth0
      virtual_router_id: ${vrid}
      priority: 150
      advert_interval: 100ms
      version: 3
      virtual_ips: ["192.0.2.${vrid}/24"]
virtual_servers: []
log:
  level: info
`;
}

/** Scheduling policy and RT priority of one thread, from /proc/PID/task/TID/stat (fields 41 and 40). */
function threadSched(pid: number): { policy: string; rtPriority: number } {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // field 3 (state) onwards; comm may hold spaces
  const policy = Number(f[41 - 3]);
  return { policy: ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR'][policy] ?? String(policy), rtPriority: Number(f[40 - 3]) };
}

requireRoot('net/daemon/vrrp-rt', ['ip'])('global.vrrp_rt_priority: the VRRP thread in SCHED_RR, RLIMIT_RTTIME as its safety net', () => {
  let topo: Topology;
  let dir: string;
  const logs = new Map<string, Line[]>();
  let next: string | undefined;

  beforeAll(async () => {
    mkdirSync(SCRATCH_DIR, { recursive: true });
    dir = mkdtempSync(join(SCRATCH_DIR, 'vrrp-rt-'));
    topo = new Topology({
      timeoutMs: 30_000,
      spawner: (argv, opts) => {
        const p = nodeSpawner(argv, opts);
        const name = next;
        next = undefined;
        if (name !== undefined) {
          const out: Line[] = [];
          logs.set(name, out);
          let rest = '';
          p.child.stdout?.on('data', (c: Buffer) => {
            const parts = (rest + c.toString()).split('\n');
            rest = parts.pop() ?? '';
            for (const l of parts) {
              try {
                out.push(JSON.parse(l) as Line);
              } catch {
                out.push({ msg: `unparsed: ${l}` });
              }
            }
          });
        }
        return p;
      },
    });
    await topo.bridge('lan');
    await topo.namespace('a');
    await topo.plug({ ns: 'a', ifname: 'eth0', addresses: ['192.0.2.1/24'] }, 'lan');
  });

  afterAll(async () => {
    try {
      await topo?.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  async function run(name: string, rt: number, rttimeUs: number, vrid: number, prefix: readonly string[] = []): Promise<{ daemon: NsProcess; log: () => Line[]; until: (what: string, pred: (l: Line) => boolean, ms: number) => Promise<Line> }> {
    const cfg = join(dir, `${name}.yaml`);
    writeFileSync(cfg, config(dir, name, rt, rttimeUs, vrid));
    next = name;
    const daemon = topo.spawn('a', [...prefix, process.execPath, '--import', 'tsx', '--import', HOOK, CLI, 'run', '-c', cfg, '--backend', 'memory'], {
      cwd: REPO_ROOT,
      label: `lvskeep ${name}`,
      env: { ...process.env, LVSKEEP_TEST_HOOK_FILE: join(dir, `${name}-hook.json`) },
    });
    const log = (): Line[] => logs.get(name) ?? [];
    const until = async (what: string, pred: (l: Line) => boolean, ms: number): Promise<Line> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = log().find(pred);
        if (hit) return hit;
        if (!daemon.running()) throw new Error(`lvskeep exited before ${what}:\n${daemon.output().slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; log tail:\n${log().slice(-30).map((l) => JSON.stringify(l)).join('\n')}`);
        await sleep(50);
      }
    };
    return { daemon, log, until };
  }

  it('off (vrrp_rt_priority: 0): the VRRP process runs SCHED_OTHER', async () => {
    const d = await run('off', 0, 100_000, 71);
    const started = await d.until('the VRRP process', (l) => l.msg === 'VRRP process started', 30_000);
    await d.until('MASTER', (l) => typeof l.msg === 'string' && l.msg.startsWith('VRRP vi71: ') && l.msg.endsWith('-> Master'), 20_000);
    expect(threadSched(Number(started.pid))).toEqual({ policy: 'SCHED_OTHER', rtPriority: 0 });
    expect(d.log().filter((l) => typeof l.msg === 'string' && l.msg.includes('SCHED_RR'))).toEqual([]);
    await d.daemon.stop(20_000);
  });

  // The child does not go real-time on one CPU (the next test); this one needs two.
  it.skipIf(availableParallelism() < 2)('on (15, rttime 200 ms): SCHED_RR 15; a runaway loop gets SIGXCPU, is logged and restarted real-time', async () => {
    const d = await run('on', 15, 200_000, 72);
    const started = await d.until('the VRRP process', (l) => l.msg === 'VRRP process started', 30_000);
    const pid = Number(started.pid);
    await d.until('the SCHED_RR log', (l) => l.pid === pid && l.msg === 'VRRP thread runs SCHED_RR (global.vrrp_rt_priority)', 20_000);
    expect(threadSched(pid)).toEqual({ policy: 'SCHED_RR', rtPriority: 15 });
    // The one line, so that a failure message shows it whole (with the pid's other details).
    const limit = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max realtime timeout'));
    expect(limit, `pid ${pid}, log: ${d.log().filter((l) => l.pid === pid).map((l) => String(l.msg)).join(' | ')}`).toMatch(/^Max realtime timeout\s+200000\s+400000\s+us/);
    await d.until('MASTER', (l) => typeof l.msg === 'string' && l.msg.startsWith('VRRP vi72: ') && l.msg.endsWith('-> Master'), 20_000);

    // A 3 s busy loop in the VRRP thread: RLIMIT_RTTIME ends it after ~200 ms of CPU without sleeping.
    writeFileSync(join(dir, 'on-hook.json'), JSON.stringify({ where: 'vrrp', action: 'stall', ms: 3_000 }));
    const crash = await d.until('the crash log', (l) => l.msg === 'VRRP process exited unexpectedly; releasing its VIPs and restarting it', 10_000);
    expect(crash).toMatchObject({ pid, reason: 'signal SIGXCPU' });
    // The loop never finished (no stall acknowledgement from that process).
    expect(d.log().filter((l) => l.hook === 'stall' && l.pid === pid)).toEqual([]);
    const restarted = await d.until('the restart', (l) => l.msg === 'VRRP process started' && Number(l.pid) !== pid, 30_000);
    const newPid = Number(restarted.pid);
    await d.until('SCHED_RR again', (l) => l.pid === newPid && l.msg === 'VRRP thread runs SCHED_RR (global.vrrp_rt_priority)', 30_000);
    expect(threadSched(newPid)).toEqual({ policy: 'SCHED_RR', rtPriority: 15 });
    await d.daemon.stop(20_000);
  });

  it('on, but limited to one CPU (taskset -c 0): the VRRP thread stays SCHED_OTHER, one warning says why', async () => {
    const d = await run('one-cpu', 15, 100_000, 73, ['taskset', '-c', '0']);
    const started = await d.until('the VRRP process', (l) => l.msg === 'VRRP process started', 30_000);
    const pid = Number(started.pid);
    const warning = await d.until('the one-CPU warning', (l) => l.pid === pid && typeof l.msg === 'string' && l.msg.startsWith('not making the VRRP thread real-time'), 20_000);
    expect(warning).toMatchObject({ level: 40, cpus: 1, priority: 15 });
    expect(String(warning.msg)).toMatch(/only one CPU/);
    await d.until('MASTER', (l) => typeof l.msg === 'string' && l.msg.startsWith('VRRP vi73: ') && l.msg.endsWith('-> Master'), 20_000);
    expect(threadSched(pid)).toEqual({ policy: 'SCHED_OTHER', rtPriority: 0 });
    expect(d.log().filter((l) => l.msg === 'VRRP thread runs SCHED_RR (global.vrrp_rt_priority)')).toEqual([]);
    await d.daemon.stop(20_000);
  });
});
