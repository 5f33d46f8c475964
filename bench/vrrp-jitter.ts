/**
 * VRRP timing under health-check load (issue #7): the real daemon (`lvskeep run --backend memory`: VRRP, checks,
 * pools and reconciler for real, only the IPVS table in memory) is VRRP master on a bridge with a short advert
 * interval, once idle (no virtual servers) and once with N HTTP real servers checked every second (N checks per
 * second asked) against local servers in its own namespace. A listener namespace captures the adverts with tcpdump
 * (kernel receive timestamps, nanosecond precision), which gives the send-interval jitter |gap - advert_interval|.
 * The daemon's lvskeep_vrrp_timer_lateness_seconds histogram is read from /metrics before and after the window.
 * Then a higher-priority helper daemon preempts it, and the helper's link is taken down a few times: the loaded
 * daemon, now backup, must announce mastership after its Master_Down_Interval; the capture says how late it was
 * (its first advert minus the helper's last one, minus Master_Down_Interval).
 *
 *   sudo npx tsx bench/vrrp-jitter.ts [--intervals 100,1000] [--servers 10000] [--window 20] [--failovers 5] [--baseline first|all] [--vrrp-nice N] [--vrrp-rt N] [--reuse] [--server-keepalive MS]
 *
 * The idle baseline runs at the first interval only unless `--baseline all` (it keeps the run near 3 minutes).
 * `--vrrp-nice N` sets global.vrrp_nice of the measured daemon (default: the configuration's default), for A/B runs.
 * `--vrrp-rt N` sets global.vrrp_rt_priority likewise (0 = SCHED_OTHER; default: the configuration's default, 10).
 * `--reuse` gives the checks reuse_connection: true (one keep-alive connection per real server instead of one per
 * check): on 2 cores shared with the servers, fresh connections reach a third of 10,000 checks/s or less.
 * `--server-keepalive MS` is the servers' keepAliveTimeout (default 5000, node's own). At 1000 they answer
 * `Keep-Alive: timeout=1`, which the checker (less its 1 s margin) cannot keep until the next check a second
 * later: `--reuse` then still opens a connection per check (the raw results count the connections accepted).
 * LVSKEEP_VRRP_CPU_PROF_DIR=<dir> writes a CPU profile of each VRRP child there (--cpu-prof; NODE_OPTIONS refuses it).
 * LVSKEEP_DAEMON_CPU_PROF_DIR=<dir> likewise for the measured daemon's main process.
 *
 * Needs root, `unshare`, `ip` and tcpdump. It re-runs itself inside `unshare --net --mount` (through
 * test/runner/net-sandbox.sh): every namespace, address and process it makes lives in a private sandbox; only
 * 192.0.2.0/24 and loopback addresses are used. Bounded: each window and wait is bounded, at most 20,000 real
 * servers, 60 s windows and 10 failovers per scenario; the whole run is killed after 10 minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { masterDownIntervalMs } from '../src/vrrp/timers.js';
import { LineTaps, Topology, type NsProcess } from '../test/harness/netns.js';
import { runBench } from './lib.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..');
const SELF = fileURLToPath(import.meta.url);
const CLI = join(REPO, 'src', 'cli', 'main.ts');

const VRID = 51;
const VIP = '192.0.2.50';
const LOADED_ADDR = '192.0.2.1';
const HELPER_ADDR = '192.0.2.2';
const LISTENER_ADDR = '192.0.2.200';
/** The measured daemon's priority; the helper's is higher so that it preempts. */
const PRIORITY = 150;
const HELPER_PRIORITY = 200;
const GOAL_P99_MS = 5;
/** Listener ports of the HTTP servers; each serves every 127.0.x.y address of the daemon's namespace. */
const SERVER_PORTS = 50;
const MAX_SERVERS = 20_000;
const REAL_SERVERS_PER_SERVICE = 100;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function clampInt(text: string, lo: number, hi: number, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- pure: statistics and parsing --------------------------------------------------------------------------------

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] ?? NaN;
}

interface Advert {
  /** Kernel receive time at the listener, ms since the capture's first whole second (kept exact to the ns). */
  at: number;
  source: string;
  priority: number;
}

/** `1765000000.123456789 IP 192.0.2.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 150, intvl 10cs, length 12` */
function parseCapture(line: string, baseSec: number): Advert | undefined {
  const m = /^(\d+)\.(\d+) IP (\d+\.\d+\.\d+\.\d+) > 224\.0\.0\.18: VRRPv3, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
  if (!m || Number(m[4]) !== VRID) return undefined;
  const frac = m[2] ?? '0';
  return { at: (Number(m[1]) - baseSec) * 1000 + Number(frac) / 10 ** (frac.length - 3), source: m[3] ?? '', priority: Number(m[5]) };
}

interface Jitter {
  adverts: number;
  p50: number;
  p99: number;
  max: number;
  /** Longest gap between two adverts (ms). */
  maxGap: number;
}

/** Send-interval jitter |gap - interval| of one source's adverts received in [from, to]. */
function jitterOf(adverts: readonly Advert[], source: string, from: number, to: number, intervalMs: number): Jitter {
  const times = adverts.filter((a) => a.source === source && a.at >= from && a.at <= to).map((a) => a.at);
  const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
  const dev = gaps.map((g) => Math.abs(g - intervalMs)).sort((a, b) => a - b);
  return { adverts: times.length, p50: percentile(dev, 50), p99: percentile(dev, 99), max: dev.at(-1) ?? NaN, maxGap: Math.max(...gaps) };
}

/** Cumulative bucket counts of one histogram in Prometheus text format, by upper bound (Infinity for +Inf). */
interface Histogram {
  buckets: Map<number, number>;
  count: number;
  sum: number;
}

function parseHistogram(text: string, name: string): Histogram {
  const h: Histogram = { buckets: new Map(), count: 0, sum: 0 };
  for (const line of text.split('\n')) {
    const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)`).exec(line);
    if (b) h.buckets.set(b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2]));
    else if (line.startsWith(`${name}_count `)) h.count = Number(line.split(' ')[1]);
    else if (line.startsWith(`${name}_sum `)) h.sum = Number(line.split(' ')[1]);
  }
  return h;
}

/** Sum of lvskeep_check_results_total over every real server, by result label. */
function checkResults(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const m of text.matchAll(/^lvskeep_check_results_total\{[^}]*result="([^"]+)"[^}]*\} (\S+)$/gm)) {
    const result = m[1] ?? '';
    sums.set(result, (sums.get(result) ?? 0) + Number(m[2]));
  }
  return sums;
}

/** Sum of every series of a counter. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

interface Lateness {
  count: number;
  meanMs: number;
  /** Upper bounds (ms) of the buckets holding the quantile: the histogram says "at most this". */
  p50: number;
  p99: number;
  max: number;
}

/** What the histogram recorded between two scrapes: quantiles as bucket upper bounds. */
function latenessBetween(a: Histogram, b: Histogram): Lateness {
  const bounds = [...b.buckets.keys()].sort((x, y) => x - y);
  const cum = bounds.map((le) => (b.buckets.get(le) ?? 0) - (a.buckets.get(le) ?? 0));
  const count = b.count - a.count;
  const q = (p: number): number => {
    if (count <= 0) return NaN;
    const i = cum.findIndex((c) => c >= Math.ceil(count * p));
    return ((bounds[i] ?? NaN) as number) * 1000;
  };
  const top = cum.findIndex((c) => c >= count);
  return { count, meanMs: count > 0 ? ((b.sum - a.sum) / count) * 1000 : NaN, p50: q(0.5), p99: q(0.99), max: count > 0 ? (bounds[top] ?? NaN) * 1000 : NaN };
}

// ---- the sandboxed run -------------------------------------------------------------------------------------------

// argv: listener count, keepAliveTimeout (ms). Prints {"ports":[...]} once all listen, then
// "c <Date.now()> <requests so far> <connections accepted so far>" every 250 ms.
const SERVER_CODE = `
  const http = require('node:http');
  const count = Number(process.argv[1]);
  const keepAliveMs = Number(process.argv[2]);
  let n = 0, conns = 0;
  const ports = [];
  const listen = (srv) => new Promise((ok) => srv.listen({ host: '0.0.0.0', port: 0, backlog: 4096 }, () => { ports.push(srv.address().port); ok(); }));
  (async () => {
    for (let i = 0; i < count; i++) {
      const h = http.createServer((req, res) => { n++; res.end('ok\\n'); });
      h.keepAliveTimeout = keepAliveMs;
      h.on('connection', () => { conns++; });
      await listen(h);
    }
    process.stdout.write(JSON.stringify({ ports }) + '\\n');
    setInterval(() => process.stdout.write('c ' + Date.now() + ' ' + n + ' ' + conns + '\\n'), 250);
  })();`;

/** Real server i: 127.0.x.y (x.y counting from 0.1) at one of the listener ports. */
function serverAddress(i: number, ports: readonly number[]): string {
  const a = Math.floor(i / ports.length);
  return `127.0.${Math.floor(a / 250)}.${1 + (a % 250)}:${ports[i % ports.length] ?? 0}`;
}

function daemonConfig(dir: string, name: string, o: { priority: number; intervalMs: number; metrics: boolean; realServers: string[]; reuse?: boolean; vrrpNice?: number; vrrpRt?: number }): string {
  const lines = [
    'global:',
    `  state_dir: ${dir}/${name}-state`,
    ...(o.vrrpNice !== undefined ? [`  vrrp_nice: ${o.vrrpNice}`] : []),
    ...(o.vrrpRt !== undefined ? [`  vrrp_rt_priority: ${o.vrrpRt}`] : []),
    'control:',
    `  socket: ${dir}/${name}.sock`,
    'metrics:',
    `  enabled: ${o.metrics}`,
    '  listen: 127.0.0.1:9595',
    'log:',
    '  level: warn',
    'vrrp:',
    '  instances:',
    `    - name: vi${VRID}`,
    '      interface: eth0',
    `      virtual_router_id: ${VRID}`,
    `      priority: ${o.priority}`,
    `      advert_interval: ${o.intervalMs}ms`,
    '      version: 3',
    `      virtual_ips: ["${VIP}/24"]`,
    '      garp: { repeat: 1 }',
  ];
  if (o.realServers.length > 0) lines.push('virtual_servers:');
  // Services of REAL_SERVERS_PER_SERVICE real servers each: the same checks as one big service, and the memory
  // backend (a list per service, searched per operation) stays linear; 10,000 in one service take it minutes.
  for (let v = 0; v * REAL_SERVERS_PER_SERVICE < o.realServers.length; v++) {
    lines.push(
      `  - name: web${v}`,
      `    address: 203.0.113.${1 + (v % 250)}:${80 + Math.floor(v / 250)}`,
      '    scheduler: wlc',
      // fall 3 and a generous timeout: a checker that falls behind should show as fewer checks per second, not
      // as real servers flapping (each flap would also rewrite the whole dry-run table into the log).
      `    check: { type: http, path: /, interval: 1s, timeout: 900ms, rise: 1, fall: 3, assume: up${o.reuse ? ', reuse_connection: true' : ''} }`,
      '    real_servers:',
      ...o.realServers.slice(v * REAL_SERVERS_PER_SERVICE, (v + 1) * REAL_SERVERS_PER_SERVICE).map((a) => `      - address: ${a}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** utime + stime of a process in ms from /proc/<pid>/stat (USER_HZ taken as 100); NaN when unreadable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of all CPUs from /proc/stat (machine-wide: other work on the machine included). */
function machineJiffies(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

interface Takeover {
  /** First advert of the new master minus the last advert of the old one (ms). */
  takeoverMs: number;
  /** takeoverMs - Master_Down_Interval. */
  lateMs: number;
}

interface ScenarioResult {
  scenario: string;
  intervalMs: number;
  servers: number;
  windowS: number;
  checksPerS: number;
  /** Connections the HTTP servers accepted per second over the window (fresh mode: one per check). */
  connsPerS: number;
  daemonCpuPercent: number;
  /** Busy share of all the machine's CPUs over the window (/proc/stat), %. */
  machineBusyPercent: number;
  /** CPU of the HTTP servers' process over the window, % of one core. */
  serversCpuPercent: number;
  /** Mean check duration between the scrapes (lvskeep_check_duration_seconds), ms. */
  checkMeanMs: number;
  jitter: Jitter;
  lateness: Lateness;
  scrapeMs: number[];
  checkResults: Record<string, number>;
  ipvsOps: number;
  /** Reconcile passes between the scrapes (same histogram arithmetic as the lateness). */
  reconcile: Lateness;
  masterDownMs: number;
  takeovers: Takeover[];
  lateWarnings: number;
  /** Spawn to its first advert as master (includes tsx start-up and Master_Down_Interval). */
  startupMs: number;
}

class Capture {
  readonly adverts: Advert[] = [];
  baseSec = Math.floor(Date.now() / 1000);
  onLine(line: string): void {
    const a = parseCapture(line, this.baseSec);
    if (a) this.adverts.push(a);
  }
  /** Date.now() on the capture's time axis (tcpdump -tt prints the realtime clock). */
  now(): number {
    return Date.now() - this.baseSec * 1000;
  }
}

async function inside(): Promise<void> {
  const intervals = arg('intervals', '100,1000').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 10 && n <= 5000 && n % 10 === 0);
  const servers = clampInt(arg('servers', '10000'), 0, MAX_SERVERS, 10_000);
  const windowS = clampInt(arg('window', '20'), 2, 60, 20);
  const failovers = clampInt(arg('failovers', '5'), 0, 10, 5);
  const reuse = process.argv.includes('--reuse');
  const serverKeepAliveMs = clampInt(arg('server-keepalive', '5000'), 0, 120_000, 5000);
  const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'lvskeep-jitter-'));
  const capture = new Capture();
  const taps = new LineTaps();
  const topo = new Topology({ timeoutMs: 30_000, spawner: taps.spawner });
  const results: ScenarioResult[] = [];
  try {
    await topo.bridge('lan');
    for (const [ns, addr] of [['a', LOADED_ADDR], ['b', HELPER_ADDR], ['listen', LISTENER_ADDR]] as const) {
      await topo.namespace(ns);
      await topo.plug({ ns, ifname: 'eth0', addresses: [`${addr}/24`] }, 'lan');
    }
    const serverProc = topo.spawn('a', [process.execPath, '-e', SERVER_CODE, String(SERVER_PORTS), String(serverKeepAliveMs)], { label: 'http servers' });
    const portsLine = await serverProc.waitForOutput(/^\{"ports":.*\}$/m, 20_000);
    const ports = (JSON.parse(portsLine[0]) as { ports: number[] }).ports;
    const realServers = Array.from({ length: servers }, (_, i) => serverAddress(i, ports));

    taps.next = (l) => capture.onLine(l);
    const tcpdump = topo.spawn('listen', ['tcpdump', '-n', '-tt', '--time-stamp-precision=nano', '-l', '-i', 'eth0', 'ip proto 112'], { label: 'tcpdump' });
    await tcpdump.waitForOutput(/listening on eth0/, 10_000);

    const baselineAll = arg('baseline', 'first') === 'all';
    for (const [n, intervalMs] of intervals.entries()) {
      for (const loaded of [false, true]) {
        if (loaded && servers === 0) continue;
        if (!loaded && n > 0 && !baselineAll && servers > 0) continue;
        const scenario = loaded ? `${servers} HTTP checks/s asked${reuse ? ', reuse_connection' : ''}` : 'idle (no checks)';
        process.stderr.write(`running advert_interval ${intervalMs} ms, ${scenario}\n`);
        try {
          results.push(await runScenario({ topo, dir, capture, serverProc, intervalMs, realServers: loaded ? realServers : [], windowS, failovers: intervalMs >= 1000 ? Math.min(failovers, 2) : failovers, scenario, reuse }));
        } catch (err) {
          process.stderr.write(`  failed: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    }
    await tcpdump.stop();
  } finally {
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  printReport(results, loadAtStart, serverKeepAliveMs);
}

interface ScenarioOptions {
  topo: Topology;
  dir: string;
  capture: Capture;
  serverProc: NsProcess;
  intervalMs: number;
  realServers: string[];
  windowS: number;
  failovers: number;
  scenario: string;
  reuse: boolean;
}

/** The last "c <ms> <requests> <connections>" line the servers printed. */
function serverCount(p: NsProcess): { at: number; n: number; conns: number } {
  const m = [...p.output().matchAll(/^c (\d+) (\d+) (\d+)$/gm)].at(-1);
  return { at: Number(m?.[1] ?? NaN), n: Number(m?.[2] ?? NaN), conns: Number(m?.[3] ?? NaN) };
}

async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const { topo, dir, capture } = o;
  const cfg = join(dir, 'measured.yaml');
  const nice = arg('vrrp-nice', '');
  const vrrpNice = nice === '' ? undefined : clampInt(nice, -20, 19, 0);
  const rt = arg('vrrp-rt', '');
  const vrrpRt = rt === '' ? undefined : clampInt(rt, 0, 99, 0);
  writeFileSync(cfg, daemonConfig(dir, 'measured', { priority: PRIORITY, intervalMs: o.intervalMs, metrics: true, realServers: o.realServers, reuse: o.reuse, ...(vrrpNice !== undefined ? { vrrpNice } : {}), ...(vrrpRt !== undefined ? { vrrpRt } : {}) }));
  const helperCfg = join(dir, 'helper.yaml');
  writeFileSync(helperCfg, daemonConfig(dir, 'helper', { priority: HELPER_PRIORITY, intervalMs: o.intervalMs, metrics: false, realServers: [] }));
  // States come from the capture, not the control socket: a status answer lists every real server, and polling
  // it would load the daemon being measured.
  const lastFrom = (src: string): Advert | undefined => capture.adverts.findLast((a) => a.source === src);
  const masterSince = (t: number): boolean => (lastFrom(LOADED_ADDR)?.at ?? -Infinity) > t;
  const preempted = (): boolean => {
    const own = lastFrom(LOADED_ADDR)?.at ?? -Infinity;
    return (lastFrom(HELPER_ADDR)?.at ?? -Infinity) > own && capture.now() - own > 1.5 * o.intervalMs;
  };
  const until = async (what: string, proc: NsProcess, cond: () => boolean, limitMs: number): Promise<void> => {
    const deadline = Date.now() + limitMs;
    while (!cond()) {
      if (!proc.running()) throw new Error(`${proc.label} exited before ${what}:\n${proc.output().slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${limitMs} ms; ${proc.label}:\n${proc.output().slice(-3000)}`);
      await sleep(20);
    }
  };
  const scrape = async (): Promise<{ h: Histogram; reconcile: Histogram; checks: Map<string, number>; ipvsOps: number; checkSum: number; checkCount: number; ms: number }> => {
    const t = performance.now();
    const r = await topo.exec('a', ['curl', '-sS', '--max-time', '10', 'http://127.0.0.1:9595/metrics'], { timeoutMs: 15_000 });
    const ms = performance.now() - t;
    return { h: parseHistogram(r.stdout, 'lvskeep_vrrp_timer_lateness_seconds'), reconcile: parseHistogram(r.stdout, 'lvskeep_ipvs_reconcile_duration_seconds'), checks: checkResults(r.stdout), ipvsOps: counterSum(r.stdout, 'lvskeep_ipvs_operations_total'), checkSum: counterSum(r.stdout, 'lvskeep_check_duration_seconds_sum'), checkCount: counterSum(r.stdout, 'lvskeep_check_duration_seconds_count'), ms };
  };

  const profDir = process.env.LVSKEEP_DAEMON_CPU_PROF_DIR;
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const daemon = topo.spawn('a', [process.execPath, ...prof, '--import', 'tsx', CLI, 'run', '-c', cfg, '--backend', 'memory'], { cwd: REPO, label: 'lvskeep run (measured)' });
  const started = capture.now();
  let helper: NsProcess | undefined;
  try {
    await until('adverts from the measured daemon (MASTER)', daemon, () => masterSince(started), 60_000);
    const startupMs = capture.now() - started;
    // Warm-up: every check has run a few times and the table settled. A scrape of thousands of series stalls the
    // daemon for seconds on a busy machine, and the checks it held back then run in a burst: the first scrape
    // comes early in the warm-up so that both are over before the window opens.
    const loaded = o.realServers.length > 0;
    await sleep(loaded ? 3_000 : 1_000);
    const s0 = await scrape();
    await sleep(loaded ? 4_000 : 1_000);
    const c0 = serverCount(o.serverProc);
    const cpu0 = processCpuMs(daemon.pid);
    const serversCpu0 = processCpuMs(o.serverProc.pid);
    const machine0 = machineJiffies();
    const from = capture.now();
    await sleep(o.windowS * 1000);
    const to = capture.now();
    const c1 = serverCount(o.serverProc);
    const cpu1 = processCpuMs(daemon.pid);
    const serversCpu1 = processCpuMs(o.serverProc.pid);
    const machine1 = machineJiffies();
    const s1 = await scrape();
    const jitter = jitterOf(capture.adverts, LOADED_ADDR, from, to, o.intervalMs);
    const lateness = latenessBetween(s0.h, s1.h);

    // Failovers onto the measured daemon as backup: the helper preempts it, then loses its link.
    helper = topo.spawn('b', [process.execPath, '--import', 'tsx', CLI, 'run', '-c', helperCfg, '--backend', 'memory'], { cwd: REPO, label: 'lvskeep run (helper)' });
    const takeovers: Takeover[] = [];
    const mdi = masterDownIntervalMs(3, PRIORITY, o.intervalMs / 10);
    for (let i = 0; i < o.failovers; i++) {
      await until('measured daemon BACKUP (preempted by the helper)', daemon, preempted, 30_000);
      await sleep(Math.max(1_000, 2 * o.intervalMs));
      const down = capture.now();
      await topo.exec('b', ['ip', 'link', 'set', 'eth0', 'down']);
      await until('measured daemon MASTER after the helper lost its link', daemon, () => masterSince(down), 10_000 + 4 * o.intervalMs);
      await sleep(2 * o.intervalMs + 200); // its first adverts reach the capture
      await topo.exec('b', ['ip', 'link', 'set', 'eth0', 'up']);
      const firstOwn = capture.adverts.find((a) => a.at > down && a.source === LOADED_ADDR);
      const lastHelper = capture.adverts.filter((a) => a.source === HELPER_ADDR && a.at < (firstOwn?.at ?? -Infinity)).at(-1);
      if (firstOwn && lastHelper && lastHelper.at > down - 2 * o.intervalMs) {
        const takeoverMs = firstOwn.at - lastHelper.at;
        takeovers.push({ takeoverMs, lateMs: takeoverMs - mdi });
      } else process.stderr.write(`  failover ${i + 1}: could not find both adverts in the capture\n`);
    }
    const lateWarnings = (daemon.output().match(/VRRP timer fired late/g) ?? []).length;
    if (process.env.BENCH_DEBUG) process.stderr.write(`--- measured daemon output (tail):\n${daemon.output().slice(-4000)}\n`);
    return {
      scenario: o.scenario,
      intervalMs: o.intervalMs,
      servers: o.realServers.length,
      windowS: o.windowS,
      checksPerS: o.realServers.length > 0 ? ((c1.n - c0.n) / (c1.at - c0.at)) * 1000 : 0,
      connsPerS: o.realServers.length > 0 ? ((c1.conns - c0.conns) / (c1.at - c0.at)) * 1000 : 0,
      daemonCpuPercent: ((cpu1 - cpu0) / ((to - from) / 1000)) / 10,
      machineBusyPercent: ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100,
      serversCpuPercent: ((serversCpu1 - serversCpu0) / ((to - from) / 1000)) / 10,
      checkMeanMs: s1.checkCount > s0.checkCount ? ((s1.checkSum - s0.checkSum) / (s1.checkCount - s0.checkCount)) * 1000 : NaN,
      jitter,
      lateness,
      scrapeMs: [s0.ms, s1.ms],
      // Between the scrapes (the window plus about 1 s before it and the scrape times).
      ipvsOps: s1.ipvsOps - s0.ipvsOps,
      reconcile: latenessBetween(s0.reconcile, s1.reconcile),
      checkResults: Object.fromEntries([...s1.checks].map(([k, v]) => [k, v - (s0.checks.get(k) ?? 0)])),
      masterDownMs: mdi,
      takeovers,
      lateWarnings,
      startupMs,
    };
  } finally {
    await helper?.stop(5_000);
    await daemon.stop(10_000);
    // The helper may still hold the VIP if it was killed: the next scenario starts without it.
    await topo.exec('b', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
    await topo.exec('a', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
  }
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** A histogram bound in ms; `topMs` is the histogram's largest finite bucket. */
function bound(ms: number, topMs = 5000): string {
  if (Number.isNaN(ms)) return 'n/a';
  return ms === Infinity ? `> ${topMs}` : `<= ${ms}`;
}

function printReport(results: ScenarioResult[], loadAtStart: string, serverKeepAliveMs: number): void {
  const head = [
    'advert_int',
    'scenario',
    'checks/s done',
    'daemon CPU %',
    'adverts',
    'jitter p50 / p99 / max ms',
    'longest gap ms',
    'timer lateness p50 / p99 / max ms (histogram)',
    'lateness mean ms',
    'Master_Down late ms p50 / max (n)',
    `goal p99 jitter < ${GOAL_P99_MS} ms`,
  ];
  const rows = results.map((r) => {
    const late = r.takeovers.map((t) => t.lateMs).sort((a, b) => a - b);
    return [
      `${r.intervalMs} ms`,
      r.scenario,
      r.servers > 0 ? r.checksPerS.toFixed(0) : '0',
      `${r.daemonCpuPercent.toFixed(0)}%`,
      String(r.jitter.adverts),
      `${fmt(r.jitter.p50)} / ${fmt(r.jitter.p99)} / ${fmt(r.jitter.max)}`,
      fmt(r.jitter.maxGap, 1),
      `${bound(r.lateness.p50)} / ${bound(r.lateness.p99)} / ${bound(r.lateness.max)}`,
      fmt(r.lateness.meanMs),
      late.length > 0 ? `${fmt(percentile(late, 50), 1)} / ${fmt(late.at(-1) ?? NaN, 1)} (${late.length})` : 'n/a',
      r.jitter.p99 < GOAL_P99_MS ? 'met' : 'NOT met',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const windowS = results[0]?.windowS ?? 0;
  console.log(`VRRP advert jitter and timer lateness of the real daemon (lvskeep run --backend memory), node ${process.version}`);
  console.log(`${availableParallelism()} x ${cpus()[0]?.model ?? 'unknown CPU'}, kernel ${release()}, load average ${loadAtStart} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end (other work on the machine skews every figure)`);
  console.log(
    `jitter: |gap - advert_interval| between the master's adverts over ${windowS} s, kernel receive timestamps (tcpdump, ns) in a listener namespace on the same bridge; ` +
      `checks/s counted at the HTTP servers (127.0.x.y x 50 ports in the daemon's namespace, sharing its CPUs, keepAliveTimeout ${serverKeepAliveMs} ms); daemon CPU % of one core`,
  );
  console.log(
    'timer lateness: lvskeep_vrrp_timer_lateness_seconds between two /metrics scrapes around the window (4 s before it under load, 1 s idle; right after it); the histogram gives bucket upper bounds ' +
      '(1, 5, 10, 25 ms ...); it includes the timers a scrape itself delayed (scrape times below: thousands of real-server series)',
  );
  console.log(
    `Master_Down late: the daemon as backup (priority ${PRIORITY}, same load), a priority-${HELPER_PRIORITY} master losing its link; its first advert minus the master's last, minus Master_Down_Interval ` +
      `(${results.map((r) => `${fmt(r.masterDownMs, 1)} ms at ${r.intervalMs} ms`).filter((v, i, a) => a.indexOf(v) === i).join(', ')})`,
  );
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('\nraw results:');
  for (const r of results) {
    console.log(
      `  ${r.intervalMs} ms, ${r.scenario}: start to first advert ${(r.startupMs / 1000).toFixed(1)} s; ${r.servers > 0 ? `connections accepted/s by the HTTP servers ${r.connsPerS.toFixed(0)}, their CPU ${r.serversCpuPercent.toFixed(0)}%; mean check ${fmt(r.checkMeanMs, 1)} ms; ` : ''}all CPUs ${r.machineBusyPercent.toFixed(0)}% busy over the window; scrape ms ${r.scrapeMs.map((m) => m.toFixed(0)).join(', ')}; lateness samples ${r.lateness.count}; ` +
        `check results between the scrapes ${JSON.stringify(r.checkResults)}; IPVS operations ${r.ipvsOps}; ` +
        `reconcile passes ${r.reconcile.count} (mean ${fmt(r.reconcile.meanMs, 0)} ms, longest ${bound(r.reconcile.max, 30_000)} ms); "VRRP timer fired late" warnings ${r.lateWarnings}; takeovers ms ${r.takeovers.map((t) => t.takeoverMs.toFixed(1)).join(', ') || 'none'}`,
    );
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--inside')) {
    await inside();
    return 0;
  }
  if (process.getuid?.() !== 0) {
    console.error('vrrp-jitter bench: needs root (network namespaces, raw sockets, tcpdump)');
    return 2;
  }
  const r = spawnSync(
    'unshare',
    ['--net', '--mount', '--propagation', 'private', '--', 'bash', join(REPO, 'test', 'runner', 'net-sandbox.sh'), process.execPath, '--import', 'tsx', SELF, '--inside', ...process.argv.slice(2)],
    { stdio: 'inherit', cwd: REPO, timeout: 10 * 60_000 },
  );
  return r.status ?? 1;
}

runBench(main);
