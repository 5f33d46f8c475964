/**
 * Health-check load benchmark: HTTP and TCP checks through the real scheduler and checkers against local
 * servers on loopback. The servers run in a child process so the CPU measured here is the checker's alone.
 *
 *   npx tsx bench/health-checks.ts [--seconds 5] [--rates 1000,4000] [--servers 10000] [--checks tcp,http,http-reuse]
 *
 * --rates: N checks at 1 s against one loopback server (same target each time).
 * --checks: http opens a fresh connection per check (the default, keepalived's way); http-reuse is the same
 * check with reuse_connection: true (one keep-alive connection per real server).
 * --servers: the issue's target load, N distinct real servers at 1 s each (N checks per second), spread over
 * 127.0.x.y addresses x listener ports; the listeners are bound to the wildcard address, so this mode refuses
 * to run outside a private network namespace.
 *
 * Bounded: at most 30 s per run (the --servers rows: at most 20 s with warm-up) and 20,000 checks configured
 * per run. Run it inside a private network namespace (e.g. `unshare -n sh -c 'ip link set lo up && npx tsx
 * bench/health-checks.ts'`): it opens thousands of loopback connections per second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthMonitor } from '../src/health/monitor.js';
import type { CheckSpec, CommonCheckSpec } from '../src/health/types.js';
import { inPrivateNetns } from './lib.js';

// tsx turns source maps on; the daemon runs compiled JavaScript without them. Stack traces of errors made per
// check (Node formats some eagerly) cost several times more with them, which is not what production pays.
process.setSourceMapsEnabled(false);

const MAX_SECONDS = 30;
const MAX_CHECKS = 20_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const seconds = Math.min(Math.max(Number(arg('seconds', '5')), 1), MAX_SECONDS);
const rates = arg('rates', '1000,4000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const spreadServers = arg('servers', '')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0)
  .map((n) => Math.min(n, MAX_CHECKS));
/** Listener ports per check kind in --servers mode; each serves every 127.0.x.y address. */
const SPREAD_PORTS = 50;
/** Warm-up + measurement of one --servers row stays within 20 s. */
const SPREAD_MAX_SECONDS = 19;


// argv: host to bind, listeners per kind. Prints {"http":[ports],"tcp":[ports]} once all listen.
const SERVER_CODE = `
  const http = require('node:http'), net = require('node:net');
  const host = process.argv[1], count = Number(process.argv[2]);
  const out = { http: [], tcp: [] };
  const listen = (srv, kind) => new Promise((ok) => srv.listen({ host, port: 0, backlog: 4096 }, () => { out[kind].push(srv.address().port); ok(); }));
  (async () => {
    for (let i = 0; i < count; i++) {
      const h = http.createServer((req, res) => res.end('ok\\n'));
      h.keepAliveTimeout = 5000; // node's default; the fresh-connection checks send connection: close anyway
      const t = net.createServer((s) => { s.on('error', () => {}); s.end(); });
      await listen(h, 'http');
      await listen(t, 'tcp');
    }
    process.stdout.write(JSON.stringify(out) + '\\n');
  })();
  process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;

interface Servers {
  child: ChildProcess;
  http: number[];
  tcp: number[];
}

async function startServers(host: string, count: number): Promise<Servers> {
  const child = spawn(process.execPath, ['-e', SERVER_CODE, host, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<{ http: number[]; tcp: number[] }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bench servers (${count} listeners per kind on ${host}) did not start within 10 s`)), 10_000);
    let text = '';
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      if (!text.includes('\n')) return;
      clearTimeout(t);
      resolve(JSON.parse(text) as { http: number[]; tcp: number[] });
    });
  });
  return { child, ...ports };
}

function stopServers(servers: Servers): void {
  servers.child.stdin?.end();
  if (servers.child.pid !== undefined && servers.child.exitCode === null) servers.child.kill('SIGTERM');
}

/** Real server i of a spread load: 127.0.x.y (x.y counting from 0.1) at one of the listener ports. */
function spreadTarget(i: number, ports: readonly number[]): { address: string; port: number } {
  const a = Math.floor(i / ports.length);
  return { address: `127.0.${Math.floor(a / 250)}.${1 + (a % 250)}`, port: ports[i % ports.length] ?? 0 };
}

interface Row {
  check: string;
  /** Distinct real servers checked (1: every check hits one server). */
  servers: number;
  target: number;
  done: number;
  failures: number;
  cpuMsPer1000: number;
  lagP99: number;
  lagMax: number;
  /** CPU of the server process in the window, percent of one core: near 100 % the servers, not the checker, limit done/s. */
  serverCpuPercent: number;
  latP50: number;
  latP99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN);
}

/** utime + stime of a process in ms from /proc/<pid>/stat (fields 14, 15; USER_HZ taken as 100); NaN when unreadable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

type Kind = 'tcp' | 'http' | 'http-reuse';

async function run(kind: Kind, rate: number, targetOf: (i: number) => { address: string; port: number }, distinct: boolean, measureSeconds: number, serverPid: number | undefined): Promise<Row> {
  // N checks at a 1 s interval give N checks per second.
  const checks = Math.min(rate, MAX_CHECKS);
  const common: CommonCheckSpec = { intervalMs: 1000, timeoutMs: 2000, rise: 1, fall: 1, retries: 0, retryDelayMs: 0, assume: 'down', jitterPercent: 5 };
  const spec: CheckSpec =
    kind === 'tcp'
      ? { ...common, type: 'tcp' }
      : { ...common, type: 'http', method: 'GET', path: '/', expect: { status: [] }, headers: {}, ...(kind === 'http-reuse' ? { reuseConnection: true } : {}) };
  let done = 0;
  let failures = 0;
  let counting = false;
  const lastFailure: string[] = [];
  const latencies: number[] = [];
  const m = new HealthMonitor({
    maxConcurrent: 512,
    onResult: (_id, r) => {
      if (!counting) return;
      done++;
      if (latencies.length < 200_000) latencies.push(r.latencyMs);
      if (!r.ok) {
        failures++;
        if (lastFailure.length < 3) lastFailure.push(r.reason);
      }
    },
  });
  for (let i = 0; i < checks; i++) m.add({ id: `${kind}${i}`, spec, target: { ...targetOf(i), virtualServer: 'bench' } });
  m.start();
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: every check has started once
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const serverCpu0 = processCpuMs(serverPid);
  const t0 = performance.now();
  counting = true;
  await new Promise((r) => setTimeout(r, measureSeconds * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuMs = processCpuMs(serverPid) - serverCpu0;
  lag.disable();
  await m.stop();
  if (lastFailure.length > 0) console.error(`${kind} @${rate}/s failures, e.g.: ${lastFailure.join(' | ')}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    check: kind,
    servers: distinct ? checks : 1,
    target: rate,
    done: done / elapsed,
    failures,
    cpuMsPer1000: done > 0 ? (cpuMs / done) * 1000 : NaN,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
    serverCpuPercent: serverCpuMs / elapsed / 10,
    latP50: percentile(latencies.sort((a, b) => a - b), 50),
    latP99: percentile(latencies, 99),
  };
}

function table(rows: Row[]): string {
  const head = ['check', 'real servers', 'target/s', 'done/s', 'failed', 'CPU ms / 1000 checks', 'CPU % at 1000 checks/s', 'check ms p50', 'check ms p99', 'loop lag p99 ms', 'lag max ms', 'servers CPU %'];
  const body = rows.map((r) => [
    r.check,
    String(r.servers),
    String(r.target),
    r.done.toFixed(0),
    String(r.failures),
    r.cpuMsPer1000.toFixed(1),
    `${(r.cpuMsPer1000 / 10).toFixed(1)}%`, // 1000 checks/s costing X ms CPU each second = X/1000 of a core
    r.latP50.toFixed(1),
    r.latP99.toFixed(1),
    r.lagP99.toFixed(1),
    r.lagMax.toFixed(1),
    `${r.serverCpuPercent.toFixed(0)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const kinds = arg('checks', 'tcp,http,http-reuse')
    .split(',')
    .filter((k): k is Kind => k === 'tcp' || k === 'http' || k === 'http-reuse');
  if (spreadServers.length > 0 && !inPrivateNetns()) {
    // The spread listeners are bound to 0.0.0.0 so that one port serves every 127.0.x.y address.
    console.error('health-checks bench: --servers binds wildcard listeners; run it in a private network namespace (unshare --net)');
    process.exitCode = 2;
    return;
  }
  const rows: Row[] = [];
  const single = await startServers('127.0.0.1', 1);
  try {
    for (const kind of kinds) {
      for (const rate of rates) rows.push(await run(kind, rate, () => ({ address: '127.0.0.1', port: single[kind === 'tcp' ? 'tcp' : 'http'][0] ?? 0 }), false, seconds, single.child.pid));
    }
  } finally {
    stopServers(single);
  }
  if (spreadServers.length > 0) {
    const spread = await startServers('0.0.0.0', SPREAD_PORTS);
    try {
      for (const kind of kinds) {
        for (const n of spreadServers) rows.push(await run(kind, n, (i) => spreadTarget(i, spread[kind === 'tcp' ? 'tcp' : 'http']), true, Math.min(seconds, SPREAD_MAX_SECONDS), spread.child.pid));
      }
    } finally {
      stopServers(spread);
    }
  }
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`health checks on loopback, ${seconds} s per run, node ${process.version}, CPU of the checker process only (source maps off, as in the daemon)`);
  if (kinds.includes('http-reuse')) console.log('http: a fresh connection per check (default); http-reuse: reuse_connection: true, one keep-alive connection per real server');
  console.log(`${availableParallelism()} CPUs, load average ${load} (other work on the machine skews lag and CPU figures)`);
  if (spreadServers.length > 0) {
    console.log(
      `rows with real servers > 1: the target load of ${spreadServers.join(', ')} distinct real servers at 1 s each, over 127.0.x.y x ${SPREAD_PORTS} ports; ` +
        'done/s below target/s means the checker fell behind (the servers share the same CPUs)',
    );
  }
  console.log(table(rows));
  const serverBound = rows.filter((r) => r.serverCpuPercent >= 85 && r.done < r.target * 0.98);
  if (serverBound.length > 0) {
    console.log(`note: the servers' process used >= 85 % of a core in ${serverBound.map((r) => `${r.check} x ${r.servers}`).join(', ')}: there the servers, not the checker, may limit done/s`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
