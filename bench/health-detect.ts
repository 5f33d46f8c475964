/**
 * Detection-delay benchmark: the daemon's own chain (real TCP/HTTP checkers -> pool policy -> desired table ->
 * reconciler -> IPVS backend, as assembled by buildDaemon) against N real servers on loopback; K of them die
 * (listeners closed, open connections reset) at a known instant and we time until each has weight 0 in the
 * table, against the bound interval x fall + timeout.
 *
 *   npx tsx bench/health-detect.ts [--servers 100] [--kill 25] [--interval-ms 1000] [--fall 3] [--timeout-ms 500]
 *
 * The table is the memory backend (no kernel IPVS needed); the instant a weight reaches 0 is taken when the
 * reconciler's apply() returns, which is when a kernel backend would have it too (minus the syscall).
 * It needs addresses 198.51.100.0/24 on loopback, so it re-runs itself inside `unshare --net` (a private,
 * throw-away network namespace) unless it already is in one. Bounded: warm-up + 3 x the bound + 10 s.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { parseConfigText } from '../src/config/load.js';
import { buildDaemon } from '../src/daemon/build.js';
import type { ApplyResult, IpvsOp } from '../src/ipvs/backend.js';
import { MemoryBackend } from '../src/ipvs/memory-backend.js';
import { silentLogger } from '../src/log/logger.js';
import { inPrivateNetns, LineReader, runBench } from './lib.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const SERVERS = Math.min(Math.floor(arg('servers', 100)), 250); // one 198.51.100.x address each
const KILL = Math.min(Math.floor(arg('kill', 25)), SERVERS);
const INTERVAL_MS = Math.min(arg('interval-ms', 1000), 10_000);
const FALL = Math.min(Math.floor(arg('fall', 3)), 10);
const TIMEOUT_MS = Math.min(arg('timeout-ms', 500), INTERVAL_MS - 1); // the config wants it shorter than the interval
const JITTER = 10; // the config default: intervals stretch by up to 10 %
const BOUND_MS = INTERVAL_MS * FALL + TIMEOUT_MS;
const TCP_PORT = 80;
const HTTP_PORT = 8080;


function reRunInPrivateNetns(): number {
  const self = [process.execPath, ...process.execArgv, process.argv[1] ?? 'bench/health-detect.ts', ...process.argv.slice(2)];
  const quoted = self.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  // The whole /24 as local routes: every 198.51.100.x can be bound without adding 250 addresses.
  const script = `ip link set lo up && ip route add local 198.51.100.0/24 dev lo && exec ${quoted}`;
  const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', script], { stdio: 'inherit', timeout: 120_000 });
  if (r.error) process.stderr.write(`health-detect bench: unshare --net failed: ${r.error.message}\n`);
  return r.status ?? 1;
}

// argv: count, tcp port, http port. Real server i listens on 198.51.100.(i+1). stdin line "kill 1,2,3" closes
// those servers' listeners and resets their open connections, then prints {"killedAt": epoch ms} once all closed.
const SERVER_CODE = `
  const http = require('node:http'), net = require('node:net');
  const [n, tcpPort, httpPort] = process.argv.slice(1).map(Number);
  const servers = [];
  const track = (srv) => { const socks = new Set(); srv.on('connection', (s) => { socks.add(s); s.on('close', () => socks.delete(s)); s.on('error', () => {}); }); return socks; };
  const listen = (srv, host, port) => new Promise((ok, fail) => { srv.once('error', fail); srv.listen({ host, port, backlog: 1024 }, ok); });
  (async () => {
    for (let i = 0; i < n; i++) {
      const host = '198.51.100.' + (i + 1);
      const h = http.createServer((req, res) => res.end('ok\\n'));
      const t = net.createServer((s) => s.end());
      const socks = [track(h), track(t)];
      await listen(h, host, httpPort); await listen(t, host, tcpPort);
      servers.push({ h, t, socks });
    }
    process.stdout.write(JSON.stringify({ ready: n }) + '\\n');
  })().catch((e) => { process.stderr.write('bench servers: ' + e.message + '\\n'); process.exit(1); });
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d; let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
      if (!line.startsWith('kill ')) continue;
      const killedAt = performance.timeOrigin + performance.now();
      for (const i of line.slice(5).split(',').map(Number)) {
        const s = servers[i]; if (!s) continue;
        s.h.close(); s.t.close();
        for (const set of s.socks) for (const sock of set) sock.destroy();
      }
      process.stdout.write(JSON.stringify({ killedAt }) + '\\n');
    }
  });
  process.stdin.on('end', () => process.exit(0));`;

class ServerFarm {
  private readonly out: LineReader;
  private constructor(readonly child: ChildProcess) {
    this.out = new LineReader(child, 'health-detect bench: real servers');
  }

  static async start(n: number): Promise<ServerFarm> {
    const farm = new ServerFarm(spawn(process.execPath, ['-e', SERVER_CODE, String(n), String(TCP_PORT), String(HTTP_PORT)], { stdio: ['pipe', 'pipe', 'inherit'] }));
    await farm.nextLine(15_000, 'start');
    return farm;
  }

  nextLine(limitMs: number, what: string): Promise<string> {
    return this.out.next(limitMs, what);
  }

  /** Kills the given servers; resolves with the instant (epoch ms) they started dying. */
  async kill(indices: number[]): Promise<number> {
    this.child.stdin?.write(`kill ${indices.join(',')}\n`);
    return (JSON.parse(await this.nextLine(5_000, 'kill')) as { killedAt: number }).killedAt;
  }

  stop(): void {
    this.child.stdin?.end();
    if (this.child.exitCode === null && this.child.pid !== undefined) this.child.kill('SIGTERM');
  }
}

/** The memory table, reporting every real server whose weight became 0 at the instant apply() returned. */
class TimedTable extends MemoryBackend {
  readonly zeroAt = new Map<string, number>();
  override async apply(ops: IpvsOp[]): Promise<ApplyResult> {
    const r = await super.apply(ops);
    const now = performance.timeOrigin + performance.now();
    for (const s of await this.dump()) {
      const vs = s.key.kind === 'addr' ? s.key.port : 0;
      for (const d of s.dests) {
        const key = `${vs} ${d.address}`;
        if (d.weight === 0 && !this.zeroAt.has(key)) this.zeroAt.set(key, now);
        if (d.weight > 0) this.zeroAt.delete(key);
      }
    }
    return r;
  }
}

function configText(): string {
  const rs = Array.from({ length: SERVERS }, (_, i) => `198.51.100.${i + 1}`);
  const check = `interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: 1, fall: ${FALL}, jitter: ${JITTER}, assume: up`;
  const vs = (name: string, port: number, type: string): string =>
    [
      `  - name: ${name}`,
      `    address: 203.0.113.1:${port}`,
      `    scheduler: wlc`,
      `    check: { type: ${type}, ${check} }`,
      `    real_servers:`,
      ...rs.map((a) => `      - address: ${a}:${port}`),
    ].join('\n');
  return `global:\n  router_id: bench\nvirtual_servers:\n${vs('tcp-farm', TCP_PORT, 'tcp')}\n${vs('http-farm', HTTP_PORT, 'http')}\n`;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inner(): Promise<number> {
  const parsed = parseConfigText(configText(), 'health-detect bench');
  if (!parsed.ok) {
    process.stderr.write(`health-detect bench: generated config rejected: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}\n`);
    return 2;
  }
  const farm = await ServerFarm.start(SERVERS);
  const table = new TimedTable();
  const daemon = buildDaemon(parsed.config, { logger: silentLogger(), backend: table, vrrpFactory: () => undefined, alertGraceMs: 0 });
  try {
    await daemon.start();
    await daemon.settle();
    // Warm-up: every check has run more than once, so no server starts the run mid-way through a first check.
    await sleep(2 * INTERVAL_MS + 500);
    const falseBefore = table.zeroAt.size;
    const victims = Array.from({ length: KILL }, (_, k) => Math.floor((k * SERVERS) / KILL));
    const victimKeys = (port: number): string[] => victims.map((i) => `${port} 198.51.100.${i + 1}`);
    const allKeys = [...victimKeys(TCP_PORT), ...victimKeys(HTTP_PORT)];
    const killedAt = await farm.kill(victims);
    const deadline = Date.now() + 3 * BOUND_MS + 5_000;
    while (Date.now() < deadline && !allKeys.every((k) => table.zeroAt.has(k))) await sleep(20);
    const victimSet = new Set(allKeys);
    const wrongly = [...table.zeroAt.keys()].filter((k) => !victimSet.has(k)).length;

    const head = ['check', 'real servers', 'killed', 'detected', 'bound ms (interval x fall + timeout)', 'delay p50 ms', 'delay p90 ms', 'delay max ms', 'over bound', 'live servers taken to 0'];
    const rows = (
      [
        ['tcp', TCP_PORT],
        ['http', HTTP_PORT],
      ] as const
    ).map(([kind, port]) => {
      const delays = victimKeys(port)
        .map((k) => table.zeroAt.get(k))
        .filter((t): t is number => t !== undefined)
        .map((t) => t - killedAt)
        .sort((a, b) => a - b);
      const wrong = [...table.zeroAt.keys()].filter((k) => k.startsWith(`${port} `) && !victimSet.has(k)).length;
      return [kind, String(SERVERS), String(KILL), String(delays.length), String(BOUND_MS), percentile(delays, 50).toFixed(0), percentile(delays, 90).toFixed(0), (delays.at(-1) ?? NaN).toFixed(0), String(delays.filter((d) => d > BOUND_MS).length), String(wrong)];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
    console.log(`detection delay: server dies (listener closed, connections reset) -> weight 0 in the table, through buildDaemon's health -> pool -> reconciler chain on the memory backend`);
    console.log(`interval ${INTERVAL_MS} ms (jitter ${JITTER} %: an interval may stretch to ${Math.round(INTERVAL_MS * (1 + JITTER / 100))} ms), fall ${FALL}, timeout ${TIMEOUT_MS} ms; a refused connect fails at once, so the timeout part of the bound is slack here`);
    console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
    const missed = allKeys.filter((k) => !table.zeroAt.has(k)).length;
    if (falseBefore > 0) console.log(`warning: ${falseBefore} live servers had weight 0 before the kill (the warm-up saw failures)`);
    if (missed > 0 || wrongly > 0) {
      console.log(`FAIL: ${missed} killed servers never reached weight 0; ${wrongly} live servers were taken to 0`);
      return 1;
    }
    return 0;
  } finally {
    await daemon.stop('bench done');
    farm.stop();
  }
}

if (inPrivateNetns()) {
  runBench(inner);
} else {
  process.exitCode = reRunInPrivateNetns();
}
