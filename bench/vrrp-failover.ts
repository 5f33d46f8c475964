/**
 * VRRP failover benchmark: an lvskeep pair and a keepalived 2.2.7 pair (VRRPv3, IPv4 multicast, priorities
 * 150/100) on one bridge, a client probing http://VIP:8080/ every 10 ms (a tiny server on each director), and two
 * events: the master's link goes down, and a planned switchover (SIGTERM to the master). Prints the longest gap
 * between answers and the failed probes per event, advert interval and implementation, side by side.
 *
 *   sudo npx tsx bench/vrrp-failover.ts [--intervals 1000,100] [--impls lvskeep,keepalived] [--events link,sigterm]
 *
 * Needs root, `unshare`, `ip` and keepalived. It re-runs itself inside `unshare --net --mount` (through
 * test/runner/net-sandbox.sh) so every namespace, address and process it makes lives in a private sandbox; only
 * 192.0.2.0/24 addresses are used. Bounded: each probe run lasts at most 15 s, each wait is bounded.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..');
const SELF = fileURLToPath(import.meta.url);
const VIP = '192.0.2.80';
const PROBE_EVERY_MS = 10;
const PROBE_TIMEOUT_MS = 300;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface ProbeResult {
  sent: number;
  ok: number;
  failed: number;
  /** Longest time between two consecutive answers (ms), counting from the first answer. */
  longestGapMs: number;
  /** Who answered, in order of first appearance. */
  answeredBy: string[];
}

/** `--probe URL DURATION_MS`: a request every 10 ms (fresh connection each), each bounded; prints one JSON line. */
async function probe(url: string, durationMs: number): Promise<void> {
  const answers: number[] = [];
  const by: string[] = [];
  let sent = 0;
  let failed = 0;
  const pending = new Set<Promise<void>>();
  const once = (): Promise<void> =>
    new Promise<void>((resolve) => {
      sent++;
      let done = false;
      const finish = (ok: boolean, body = ''): void => {
        if (done) return;
        done = true;
        if (ok) {
          answers.push(performance.now());
          const name = body.trim();
          if (!by.includes(name)) by.push(name);
        } else failed++;
        resolve();
      };
      const req = request(url, { agent: false, timeout: PROBE_TIMEOUT_MS, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => finish(res.statusCode === 200, body));
        res.on('error', () => finish(false));
      });
      req.on('timeout', () => {
        req.destroy();
        finish(false);
      });
      req.on('error', () => finish(false));
      req.end();
    });
  const t0 = performance.now();
  process.stdout.write('probing\n');
  while (performance.now() - t0 < durationMs) {
    const p = once();
    pending.add(p);
    void p.then(() => pending.delete(p));
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  await Promise.all(pending);
  const ok = answers.length;
  // The start counts as an answer: a client that never reached the master before the event shows as a gap.
  answers.push(t0);
  answers.sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < answers.length; i++) gap = Math.max(gap, (answers[i] ?? 0) - (answers[i - 1] ?? 0));
  const result: ProbeResult = { sent, ok, failed, longestGapMs: Math.round(gap), answeredBy: by };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

type Impl = 'lvskeep' | 'keepalived';
type BenchEvent = 'link' | 'sigterm';

async function inside(): Promise<void> {
  const lab = await import('../test/net/vrrp/lab.js');
  const intervals = arg('intervals', '1000,100').split(',').map(Number).filter((n) => n >= 10 && n <= 5000);
  const impls = arg('impls', 'lvskeep,keepalived').split(',').filter((s): s is Impl => s === 'lvskeep' || s === 'keepalived');
  const events = arg('events', 'link,sigterm').split(',').filter((s): s is BenchEvent => s === 'link' || s === 'sigterm');
  const l = new lab.VrrpLab([
    { name: 'a', address: '192.0.2.1' },
    { name: 'b', address: '192.0.2.2' },
  ]);
  const results = new Map<string, ProbeResult>();
  try {
    await l.build();
    for (const d of ['a', 'b']) {
      const s = l.topo.spawn(d, [process.execPath, join(REPO, 'test', 'fixtures', 'http-name-server.mjs'), '0.0.0.0', '8080', d, '900'], { label: `http ${d}` });
      await s.waitForOutput(/listening/, 20_000);
    }
    for (const intervalMs of intervals) {
      for (const event of events) {
        for (const impl of impls) {
          const key = `${impl}|${event}|${intervalMs}`;
          process.stderr.write(`running ${key}\n`);
          try {
            results.set(key, await scenario(lab, l, impl, event, intervalMs));
          } catch (err) {
            process.stderr.write(`  ${key} failed: ${err instanceof Error ? err.message : String(err)}\n`);
          }
        }
      }
    }
  } finally {
    await l.destroy();
  }
  printTable(results, intervals, events, impls);
}

type Lab = typeof import('../test/net/vrrp/lab.js');

async function scenario(lab: Lab, l: InstanceType<Lab['VrrpLab']>, impl: Impl, event: BenchEvent, intervalMs: number): Promise<ProbeResult> {
  const opts = (priority: number) => ({ vrid: 90, vip: VIP, priority, intervalMs, garpRepeat: 3, garpIntervalMs: 100 });
  const start = async (ns: string, priority: number) => {
    const p = impl === 'lvskeep' ? l.startLvskeep(ns, opts(priority)) : l.startKeepalived(ns, opts(priority));
    await lab.waitReady(p);
    return p;
  };
  const a = await start('a', 150);
  const b = await start('b', 100);
  try {
    await lab.waitForState(a, 'MASTER', 15_000);
    await lab.waitForState(b, 'BACKUP', 15_000);
    await l.waitForHolders(VIP, ['a'], 5_000);
    await lab.sleep(Math.max(1_000, 3 * intervalMs));
    await waitClientReaches(l, 'a', 10_000);
    // Long enough for a link-down failover (3 intervals + skew) plus settling, bounded at 15 s.
    const durationMs = Math.min(15_000, 1_000 + 5 * intervalMs + 2_000);
    const prober = l.topo.spawn('client', [process.execPath, '--import', 'tsx', SELF, '--probe', `http://${VIP}:8080/`, String(durationMs)], { cwd: REPO, label: 'prober' });
    await prober.waitForOutput(/^probing$/m, 20_000);
    await lab.sleep(1_000); // a second of steady answers before the event
    const before = await l.holders(VIP);
    if (before.join(',') !== 'a' || lab.countStates(b, 'MASTER') > 0) {
      process.stderr.write(`  warning: before the event VIP holders are [${before.join(',')}], backup MASTER transitions ${lab.countStates(b, 'MASTER')}\n`);
      if (process.env.BENCH_DEBUG) process.stderr.write(`--- a:\n${a.proc.output()}\n--- b:\n${b.proc.output()}\n`);
    }
    if (event === 'link') await l.setLink('a', false);
    else lab.signal(a, 'SIGTERM');
    const exit = await Promise.race([prober.exited, lab.sleep(durationMs + 20_000).then(() => undefined)]);
    if (!exit) throw new Error('prober did not finish');
    const line = prober.output().split('\n').find((s) => s.startsWith('{'));
    if (!line) throw new Error(`prober printed nothing:\n${prober.output()}`);
    return JSON.parse(line) as ProbeResult;
  } finally {
    await Promise.all([a.proc.stop(10_000), b.proc.stop(10_000)]);
    await l.setLink('a', true);
    // Scenarios must not inherit the client's neighbour entry for the VIP (Linux ignores a new lladdr for
    // neigh locktime after an update, which would skew the next run).
    await l.topo.exec('client', ['ip', 'neigh', 'flush', 'dev', 'eth0'], { check: false });
    await l.waitForHolders(VIP, [], 10_000).catch(async () => {
      // A dead agent cannot clean up; do it here so the next scenario starts clean.
      for (const ns of await l.holders(VIP)) await l.topo.exec(ns, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
    });
  }
}

/** Bounded wait until the client gets an answer from `name` on the VIP. */
async function waitClientReaches(l: InstanceType<Lab['VrrpLab']>, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await l.topo.exec('client', [process.execPath, join(REPO, 'test', 'fixtures', 'http-get.mjs'), `http://${VIP}:8080/`, '1', '500'], { check: false, timeoutMs: 10_000 });
    last = r.stdout.trim();
    if (last.includes(`"body":"${name}`)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`client never reached ${name} on ${VIP} (last: ${last})`);
}

function printTable(results: Map<string, ProbeResult>, intervals: number[], events: BenchEvent[], impls: Impl[]): void {
  const label: Record<BenchEvent, string> = { link: 'master link down', sigterm: 'master SIGTERM (planned)' };
  const cell = (r: ProbeResult | undefined): string => (r ? `${(r.longestGapMs / 1000).toFixed(2)} s / ${r.failed} failed` : 'n/a');
  const header = ['event', 'advert_int', ...impls.map((i) => `${i}: longest gap / failed`)];
  const rows: string[][] = [];
  for (const event of events) {
    for (const intervalMs of intervals) {
      rows.push([label[event], `${intervalMs / 1000} s`, ...impls.map((i) => cell(results.get(`${i}|${event}|${intervalMs}`)))]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cols: string[]): string => `| ${cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\nVRRP failover, probes every ${PROBE_EVERY_MS} ms (timeout ${PROBE_TIMEOUT_MS} ms), VRRPv3 IPv4 multicast, priorities 150/100`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log('\nraw results:');
  for (const [k, v] of results) console.log(`  ${k}: ${JSON.stringify(v)}`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--probe')) {
    const i = process.argv.indexOf('--probe');
    await probe(process.argv[i + 1] ?? '', Math.min(Number(process.argv[i + 2] ?? '5000'), 15_000));
    return;
  }
  if (process.argv.includes('--inside')) {
    await inside();
    return;
  }
  if (process.getuid?.() !== 0) {
    console.error('vrrp-failover bench: needs root (network namespaces, raw sockets)');
    process.exit(2);
  }
  // Everything happens inside a private network + mount namespace that vanishes with the run.
  const r = spawnSync(
    'unshare',
    ['--net', '--mount', '--propagation', 'private', '--', 'bash', join(REPO, 'test', 'runner', 'net-sandbox.sh'), process.execPath, '--import', 'tsx', SELF, '--inside', ...process.argv.slice(2)],
    { stdio: 'inherit', cwd: REPO, timeout: 15 * 60_000 },
  );
  process.exit(r.status ?? 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
