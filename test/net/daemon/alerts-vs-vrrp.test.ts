// A dead alert sink never delays VRRP: the real daemon (`lvskeep run --backend memory`, so VRRP runs for real and
// only the IPVS table is in memory) is VRRP master with a 100 ms advert interval on a bridge, while its alert sinks
// hang (an HTTP receiver that never answers, a TCP listener that never reads) or answer 500, and loopback real
// servers flap so that checks, IPVS weight changes and alerts keep coming. A client namespace captures the
// adverts with tcpdump for ~10 s: the gaps between them stay well under the backup's Master_Down_Interval, and a
// lower-priority lvskeep backup never takes over, while the daemon's status shows the alert queues backed up.
// VRRP runs in a process of its own (src/vrrp/process), so even a synchronous 500 ms stall injected into every
// AlertDispatcher.publish (preload hook, src/ untouched) leaves the adverts on time. A negative control stalls the
// VRRP process itself once for 500 ms (process-hook.ts) and checks that the same measurement does flag it, so the
// first tests can fail.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { controlRequest } from '../../../src/control/client.js';
import type { StatusResult } from '../../../src/control/protocol.js';
import { LineTaps, Topology, type NsProcess } from '../../harness/netns.js';
import { requireRoot } from '../../harness/privileges.js';
import { REPO_ROOT, SCRATCH_DIR } from '../../harness/uml.js';
import { countStates, lvskeepConfig, sleep, VRRP_AGENT, waitForState, waitReady, type Peer } from '../vrrp/lab.js';
import { runCli } from './cli.js';

const VIP = '192.0.2.50';
const VRID = 61;
const MASTER_ADDR = '192.0.2.1';
const BACKUP_ADDR = '192.0.2.2';
const INTERVAL_MS = 100;
/** The backup's Master_Down_Interval is 3 x interval + skew (~361 ms at priority 100): a gap this long is a failure. */
const MAX_GAP_MS = 3 * INTERVAL_MS;
const P99_GAP_MS = 2 * INTERVAL_MS;
const PORTS = { hangHttp: 18_101, hangTcp: 18_102, fail: 18_103, rs: 18_080 };
const REAL_SERVERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const FLAP_MS = 600;
const CAPTURE_MS = 10_000;
const NOISE = join(REPO_ROOT, 'test', 'net', 'daemon', 'alert-noise.ts');
const STALL_HOOK = join(REPO_ROOT, 'test', 'net', 'daemon', 'stall-publish-hook.ts');
const PROCESS_HOOK = join(REPO_ROOT, 'test', 'net', 'daemon', 'process-hook.ts');
const CLI = join(REPO_ROOT, 'src', 'cli', 'main.ts');

function daemonConfig(dir: string): string {
  const sink = (name: string, port: number, timeout: string, retries: number): string =>
    `    - { name: ${name}, type: webhook, url: "http://127.0.0.1:${port}/hook", timeout: ${timeout}, retries: ${retries}, group_window: 0ms, dedup_window: 0ms }`;
  return `
global:
  state_dir: ${dir}/state
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
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    scheduler: wlc
    check: { type: http, path: /health, interval: 200ms, timeout: 100ms, rise: 1, fall: 1, jitter: 0, assume: up }
    real_servers:
${REAL_SERVERS.map((a) => `      - address: ${a}:${PORTS.rs}`).join('\n')}
alerts:
  sinks:
${sink('hang-http', PORTS.hangHttp, '30s', 5)}
${sink('hang-tcp', PORTS.hangTcp, '30s', 5)}
${sink('http-500', PORTS.fail, '1s', 1)}
log:
  level: info
`;
}

// ---- pure: what the capture says ------------------------------------------------------------------------------

interface Advert {
  at: number;
  source: string;
  priority: number;
}

/** `1763712000.123456 IP 192.0.2.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 61, prio 150, intvl 10cs, length 12` */
function parseTcpdumpLine(line: string): Advert | undefined {
  const m = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+) > 224\.0\.0\.18: VRRPv3, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
  if (!m || Number(m[3]) !== VRID) return undefined;
  return { at: Number(m[1]) * 1000, source: m[2] ?? '', priority: Number(m[4]) };
}

interface AdvertVerdict {
  count: number;
  maxGapMs: number;
  p99GapMs: number;
  problems: string[];
}

/** Gaps between the master's adverts in [from, to]; problems name what broke the bounds. */
function judgeAdverts(adverts: readonly Advert[], from: number, to: number): AdvertVerdict {
  const problems: string[] = [];
  const inWindow = adverts.filter((a) => a.at >= from && a.at <= to);
  const fromMaster = inWindow.filter((a) => a.source === MASTER_ADDR).map((a) => a.at);
  const others = inWindow.filter((a) => a.source !== MASTER_ADDR);
  if (others.length > 0) problems.push(`${others.length} advert(s) from ${[...new Set(others.map((a) => a.source))].join(', ')}: the backup took over`);
  const gaps = fromMaster.slice(1).map((t, i) => t - (fromMaster[i] ?? t));
  // The edges count too: silence at the start or end of the window is a gap as well.
  if (fromMaster.length > 0) gaps.push((fromMaster[0] ?? from) - from, to - (fromMaster.at(-1) ?? to));
  const sorted = [...gaps].sort((x, y) => x - y);
  const maxGapMs = sorted.at(-1) ?? to - from;
  const p99GapMs = sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? to - from;
  const expected = (to - from) / INTERVAL_MS;
  if (fromMaster.length < expected * 0.8) problems.push(`${fromMaster.length} adverts from the master in ${to - from} ms, expected about ${Math.round(expected)}`);
  if (maxGapMs >= MAX_GAP_MS) problems.push(`longest gap ${maxGapMs.toFixed(1)} ms >= ${MAX_GAP_MS} ms`);
  if (p99GapMs >= P99_GAP_MS) problems.push(`p99 gap ${p99GapMs.toFixed(1)} ms >= ${P99_GAP_MS} ms`);
  const demoted = inWindow.filter((a) => a.source === MASTER_ADDR && a.priority !== 150);
  if (demoted.length > 0) problems.push(`${demoted.length} master advert(s) with priority other than 150`);
  return { count: fromMaster.length, maxGapMs, p99GapMs, problems };
}

// ---- the scenario -----------------------------------------------------------------------------------------------

type LogLine = { msg?: string; time?: number; event?: { type?: string } };

interface ScenarioResult {
  verdict: AdvertVerdict;
  samples: StatusResult[];
  backupMasters: number;
  backupRunning: boolean;
  eventsInWindow: number;
  tablesInWindow: number;
  noise: { hangHttp: number; hangTcp: number; fail: number; flaps: number };
  finalStatusCli: { code: number | null; stdout: string; stderr: string };
}

let topo: Topology | undefined;
let dir: string | undefined;

afterEach(async () => {
  try {
    await topo?.destroy();
  } finally {
    topo = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

/** stallMs: every alert publish (main process) busy-waits that long; vrrpStallMs: the VRRP process does, once. */
async function runScenario(opts: { captureMs: number; stallMs?: number; vrrpStallMs?: number }): Promise<ScenarioResult> {
  mkdirSync(SCRATCH_DIR, { recursive: true });
  dir = mkdtempSync(join(SCRATCH_DIR, 'alerts-vrrp-'));
  const taps = new LineTaps();
  topo = new Topology({ timeoutMs: 30_000, spawner: taps.spawner });
  const t = topo;
  await t.bridge('lan');
  for (const [ns, addr] of [['a', MASTER_ADDR], ['b', BACKUP_ADDR], ['client', '192.0.2.200']] as const) {
    await t.namespace(ns);
    await t.plug({ ns, ifname: 'eth0', addresses: [`${addr}/24`] }, 'lan');
  }

  let noise = { hangHttp: 0, hangTcp: 0, fail: 0, flaps: 0 };
  taps.next = (l) => {
    if (l.startsWith('{"event":"counts"')) noise = JSON.parse(l) as typeof noise;
  };
  const noiseProc = t.spawn('a', [process.execPath, '--import', 'tsx', NOISE, ...[PORTS.hangHttp, PORTS.hangTcp, PORTS.fail, PORTS.rs, FLAP_MS, 120].map(String), ...REAL_SERVERS], { cwd: REPO_ROOT, label: 'alert-noise' });
  await noiseProc.waitForOutput(/"event":"(listening|error)"/, 20_000);
  expect(noiseProc.output()).toContain('"event":"listening"');

  const configPath = join(dir, 'lvskeep.yaml');
  writeFileSync(configPath, daemonConfig(dir));
  const stallFile = join(dir, 'stall-ms');
  const logs: LogLine[] = [];
  taps.next = (l) => {
    try {
      logs.push(JSON.parse(l) as LogLine);
    } catch {
      logs.push({ msg: `unparsed: ${l}` });
    }
  };
  const hookFile = join(dir, 'hook.json');
  const hook = [...(opts.stallMs !== undefined ? ['--import', STALL_HOOK] : []), ...(opts.vrrpStallMs !== undefined ? ['--import', PROCESS_HOOK] : [])];
  const daemon = t.spawn('a', [process.execPath, '--import', 'tsx', ...hook, CLI, 'run', '-c', configPath, '--backend', 'memory'], {
    cwd: REPO_ROOT,
    label: 'lvskeep run',
    env: { ...process.env, LVSKEEP_TEST_PUBLISH_STALL_FILE: stallFile, LVSKEEP_TEST_HOOK_FILE: hookFile },
  });
  const socket = join(dir, 'lvskeep.sock');
  const status = (): Promise<StatusResult> => controlRequest(socket, 'status', { stats: false }, { timeoutMs: 5_000 });
  await waitUntil(daemon, 'lvskeep started', () => logs.some((l) => l.msg === 'lvskeep started'), 30_000);
  await waitUntil(daemon, 'vrrp MASTER', async () => (await status().catch(() => undefined))?.vrrp[0]?.state === 'MASTER', 10_000);

  const backupConf = join(dir, 'backup.yaml');
  writeFileSync(backupConf, lvskeepConfig(`vi${VRID}`, { vrid: VRID, vip: VIP, priority: 100, intervalMs: INTERVAL_MS }));
  const backup: Peer = { kind: 'lvskeep', ns: 'b', proc: t.spawn('b', [process.execPath, '--import', 'tsx', VRRP_AGENT, backupConf, '120'], { cwd: REPO_ROOT, label: 'lvskeep backup', env: { ...process.env } }) };
  await waitReady(backup);
  await waitForState(backup, 'BACKUP', 10_000);

  const adverts: Advert[] = [];
  taps.next = (l) => {
    const a = parseTcpdumpLine(l);
    if (a) adverts.push(a);
  };
  const capture = t.spawn('client', ['tcpdump', '-n', '-tt', '-l', '-i', 'eth0', 'ip proto 112'], { label: 'tcpdump' });
  await capture.waitForOutput(/listening on eth0/, 10_000);
  // Warm-up: the hanging sinks hold a delivery and have more waiting before the measured window starts.
  await waitUntil(daemon, 'alerts pending on both hanging sinks', async () => {
    const s = await status().catch(() => undefined);
    return ['hang-http', 'hang-tcp'].every((n) => (s?.alerts.sinks.find((k) => k.name === n)?.pending ?? 0) >= 1);
  }, 10_000);
  if (opts.stallMs !== undefined) writeFileSync(stallFile, String(opts.stallMs));
  if (opts.vrrpStallMs !== undefined) writeFileSync(hookFile, JSON.stringify({ where: 'vrrp', action: 'stall', ms: opts.vrrpStallMs }));

  const from = Date.now();
  const samples: StatusResult[] = [];
  while (Date.now() - from < opts.captureMs) {
    await sleep(1_000);
    const s = await status().catch(() => undefined);
    if (s) samples.push(s);
  }
  const to = Date.now();
  await sleep(200); // the last adverts reach tcpdump's output
  const finalStatusCli = await runCli(['status', '--socket', socket, '--json'], 20_000);
  await capture.stop();

  const inWindow = (l: LogLine): boolean => typeof l.time === 'number' && l.time >= from && l.time <= to;
  const result: ScenarioResult = {
    verdict: judgeAdverts(adverts, from, to),
    samples,
    backupMasters: countStates(backup, 'MASTER'),
    backupRunning: backup.proc.running(),
    eventsInWindow: logs.filter((l) => inWindow(l) && (l.event?.type === 'rs.down' || l.event?.type === 'rs.up')).length,
    tablesInWindow: logs.filter((l) => inWindow(l) && l.msg === 'dry-run IPVS table').length,
    noise,
    finalStatusCli,
  };
  const { verdict: v } = result;
  const pending = samples.map((s) => s.alerts.pending);
  process.stdout.write(
    `alerts-vs-vrrp${opts.stallMs !== undefined ? ` (publish stalled ${opts.stallMs} ms)` : ''}${opts.vrrpStallMs !== undefined ? ` (VRRP process stalled ${opts.vrrpStallMs} ms)` : ''}: ${v.count} adverts in ${to - from} ms, ` +
      `max gap ${v.maxGapMs.toFixed(1)} ms, p99 ${v.p99GapMs.toFixed(1)} ms; backup MASTER ${result.backupMasters} time(s); ` +
      `rs events ${result.eventsInWindow}, IPVS tables ${result.tablesInWindow}; alerts pending ${JSON.stringify(pending)}; noise ${JSON.stringify(result.noise)}` +
      `${v.problems.length > 0 ? `; problems: ${v.problems.join('; ')}` : ''}\n`,
  );
  return result;
}

/** Poll `cond` every 100 ms until it holds; fail early when `proc` exits, and after `timeoutMs`. */
async function waitUntil(proc: NsProcess, what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (!proc.running()) throw new Error(`${proc.label} exited before ${what}:\n${proc.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; ${proc.label} output:\n${proc.output().slice(-4000)}`);
    await sleep(100);
  }
}

const pendingOf = (s: StatusResult, sink: string): number => s.alerts.sinks.find((k) => k.name === sink)?.pending ?? 0;

requireRoot('net/daemon/alerts-vs-vrrp', ['ip', 'tcpdump'])('alert sinks that hang or fail vs. VRRP adverts of the real daemon', () => {
  it('adverts stay on time and the backup stays BACKUP while the alert queues back up', async () => {
    const r = await runScenario({ captureMs: CAPTURE_MS });
    const summary = { count: r.verdict.count, maxGapMs: r.verdict.maxGapMs, p99GapMs: r.verdict.p99GapMs, events: r.eventsInWindow, tables: r.tablesInWindow, noise: r.noise };
    expect(r.verdict.problems, JSON.stringify(summary)).toEqual([]);
    expect(r.backupMasters).toBe(0);
    expect(r.backupRunning).toBe(true);

    // The daemon stayed master, and the sinks really were stuck the whole time: both hanging sinks had alerts
    // waiting in every sample, their backlog grew, and the 500 sink was marked failing.
    expect(r.samples.length).toBeGreaterThanOrEqual(5);
    expect(r.samples.map((s) => s.vrrp[0]?.state)).toEqual(r.samples.map(() => 'MASTER'));
    for (const sink of ['hang-http', 'hang-tcp']) {
      const pending = r.samples.map((s) => pendingOf(s, sink));
      expect(Math.min(...pending), `${sink} pending ${JSON.stringify(pending)}`).toBeGreaterThanOrEqual(1);
      expect(pending.at(-1) ?? 0, `${sink} pending ${JSON.stringify(pending)}`).toBeGreaterThan(pending[0] ?? 0);
    }
    expect(r.samples.some((s) => s.alerts.sinks.find((k) => k.name === 'http-500')?.failing === true)).toBe(true);
    expect(r.noise.hangHttp).toBeGreaterThanOrEqual(1); // the hanging receivers were reached, not refused
    expect(r.noise.hangTcp).toBeGreaterThanOrEqual(1);
    expect(r.noise.fail).toBeGreaterThanOrEqual(2);

    // Checks, IPVS updates and alerts kept coming during the window: about every flap of every real server was
    // seen (a check interval of 200 ms against flaps of 600 ms) and changed the IPVS table.
    const flapsInWindow = (REAL_SERVERS.length * CAPTURE_MS) / FLAP_MS;
    expect(r.eventsInWindow, JSON.stringify(summary)).toBeGreaterThanOrEqual(Math.floor(flapsInWindow * 0.75));
    expect(r.tablesInWindow, JSON.stringify(summary)).toBeGreaterThanOrEqual(Math.floor(flapsInWindow * 0.75));

    // The operator's view says the same: `lvskeep status --json` shows the backlog.
    expect(r.finalStatusCli.code, r.finalStatusCli.stderr).toBe(0);
    const final = JSON.parse(r.finalStatusCli.stdout) as StatusResult;
    expect(final.vrrp[0]?.state).toBe('MASTER');
    expect(final.alerts.pending).toBeGreaterThan(0);
  });

  it('a synchronous 500 ms stall in every alert publish (main process) leaves the adverts on time too', async () => {
    const r = await runScenario({ captureMs: 3_000, stallMs: 500 });
    expect(r.verdict.problems, JSON.stringify({ count: r.verdict.count, maxGapMs: r.verdict.maxGapMs })).toEqual([]);
    expect(r.backupMasters).toBe(0);
  });

  it('negative control: one 500 ms stall of the VRRP process is caught by the same measurement', async () => {
    const r = await runScenario({ captureMs: 3_000, vrrpStallMs: 500 });
    expect(r.verdict.maxGapMs).toBeGreaterThanOrEqual(450);
    expect(r.verdict.problems.some((p) => p.startsWith('longest gap'))).toBe(true);
    expect(r.backupMasters).toBeGreaterThan(0); // and the takeover check bites too
  });
});
