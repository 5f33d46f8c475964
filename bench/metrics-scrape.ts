/**
 * Cost of one /metrics scrape with many real servers: the daemon as buildDaemon assembles it (memory backend,
 * pools, reconciler, metrics endpoint; no VRRP), health checks answered by an in-process fake prober that always
 * succeeds (so every real server has check-result series, as in a running daemon), scraped over loopback HTTP.
 * Reported per scrape: wall time until the whole body arrived, and the longest event-loop block while it ran
 * (the largest gap a 1 ms ticker saw: what a health check or a timer would have waited).
 *
 *   npx tsx bench/metrics-scrape.ts [--services 100] [--per-service 100] [--scrapes 10]
 *
 * Also times the daemon's start (first table applied) with that many real servers. Loopback only; bounded:
 * at most 20,000 real servers, 50 scrapes, each scrape limited to 30 s.
 */
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { parseConfigText } from '../src/config/load.js';
import { buildDaemon } from '../src/daemon/build.js';
import type { Prober } from '../src/health/types.js';
import { MemoryBackend } from '../src/ipvs/memory-backend.js';
import { silentLogger } from '../src/log/logger.js';
import { runBench } from './lib.js';


function arg(name: string, fallback: number, lo: number, hi: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

const SERVICES = arg('services', 100, 1, 1000);
const PER_SERVICE = arg('per-service', 100, 1, 20_000);
const SCRAPES = arg('scrapes', 10, 2, 50);
const TOTAL = Math.min(20_000, SERVICES * PER_SERVICE);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function configText(port: number): string {
  const lines = [`metrics:\n  enabled: true\n  listen: 127.0.0.1:${port}\nvirtual_servers:`];
  let made = 0;
  for (let s = 0; s < SERVICES && made < TOTAL; s++) {
    lines.push(`  - address: 203.0.${113 + Math.floor(s / 250)}.${(s % 250) + 1}:80`);
    lines.push('    protocol: tcp');
    lines.push('    check: { type: tcp, interval: 1s, timeout: 500ms, rise: 1, fall: 1, assume: up }');
    lines.push('    real_servers:');
    for (let r = 0; r < PER_SERVICE && made < TOTAL; r++, made++) {
      // 10.x.y.z: distinct addresses for up to 65,536 real servers per service.
      lines.push(`      - address: 10.${1 + Math.floor(r / 65536)}.${Math.floor(r / 256) % 256}.${r % 256}:8080`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const prober = (): Prober => ({ probe: () => Promise.resolve({ ok: true, latencyMs: 1, reason: 'connected' }), close: () => Promise.resolve() });

/** Longest gap a 1 ms ticker sees while `during` runs: how long the event loop was blocked at most. */
async function longestBlock<T>(during: () => Promise<T>): Promise<{ blockMs: number; result: T }> {
  let last = performance.now();
  let block = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    block = Math.max(block, now - last);
    last = now;
  }, 1);
  try {
    const result = await during();
    return { blockMs: Math.max(block, performance.now() - last), result };
  } finally {
    clearInterval(tick);
  }
}

/** One scrape by curl (another process, so the body's transfer does not count against the daemon's loop). */
function curl(port: number): Promise<{ wallMs: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-s', '-o', '/dev/null', '--max-time', '30', '-w', '%{http_code} %{size_download} %{time_total}', `http://127.0.0.1:${port}/metrics`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const [status, bytes, secs] = out.trim().split(' ').map(Number);
      resolve({ status: status ?? 0, bytes: bytes ?? 0, wallMs: (secs ?? NaN) * 1000 });
    });
  });
}

async function scrape(port: number): Promise<{ wallMs: number; blockMs: number; bytes: number; status: number }> {
  const { blockMs, result } = await longestBlock(() => curl(port));
  return { ...result, blockMs };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] ?? NaN;
}

async function main(): Promise<number> {
  const port = await freePort();
  const parsed = parseConfigText(configText(port), 'bench.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors.slice(0, 3)));
  const backend = new MemoryBackend();
  const daemon = buildDaemon(parsed.config, { logger: silentLogger(), backend, vrrpFactory: () => undefined, proberFactory: prober, metrics: true, alertGraceMs: 0 });
  const t0 = performance.now();
  await daemon.start();
  await daemon.settle();
  const startMs = performance.now() - t0;
  const dests = (await backend.dump()).reduce((n, s) => n + s.dests.length, 0);
  try {
    await sleep(2_500); // every real server has been checked at least once (interval 1 s)
    // The same windows without a scrape: what the checks alone block (the fake prober answers at once).
    const quiet: number[] = [];
    for (let i = 0; i < SCRAPES; i++) quiet.push((await longestBlock(() => sleep(300))).blockMs);
    quiet.sort((a, b) => a - b);
    const runs = [];
    for (let i = 0; i < SCRAPES; i++) {
      const r = await scrape(port);
      if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
      runs.push(r);
      await sleep(200);
    }
    // Two at once: they should share one collection.
    const c0 = performance.now();
    const both = await Promise.all([scrape(port), scrape(port)]);
    const concurrentMs = performance.now() - c0;
    // The first scrape creates every series (and runs cold code): shown apart, the others are the steady state.
    const first = runs[0];
    const steady = runs.slice(1);
    const wall = steady.map((r) => r.wallMs).sort((a, b) => a - b);
    const block = steady.map((r) => r.blockMs).sort((a, b) => a - b);
    const f = (n: number): string => n.toFixed(1);
    process.stdout.write(`/metrics scrape, ${SERVICES} virtual services x ${PER_SERVICE} real servers (${dests} destinations in the table), node ${process.version}\n`);
    process.stdout.write(`daemon start to first table applied: ${(startMs / 1000).toFixed(2)} s\n`);
    process.stdout.write(`| scrapes | body MB | first scrape: wall / loop block ms | wall ms p50 | wall ms max | loop block ms p50 | loop block ms max | loop block ms p50 / max, 300 ms without a scrape | two concurrent scrapes ms |\n|---|---|---|---|---|---|---|---|---|\n`);
    process.stdout.write(`| ${SCRAPES} | ${((first?.bytes ?? 0) / 1e6).toFixed(1)} | ${f(first?.wallMs ?? NaN)} / ${f(first?.blockMs ?? NaN)} | ${f(pct(wall, 50))} | ${f(wall.at(-1) ?? NaN)} | ${f(pct(block, 50))} | ${f(block.at(-1) ?? NaN)} | ${f(pct(quiet, 50))} / ${f(quiet.at(-1) ?? NaN)} | ${f(concurrentMs)} (block ${f(Math.max(...both.map((b) => b.blockMs)))}) |\n`);
    process.stdout.write('after the first scrape (it creates every series and runs cold code); wall: curl in another process; loop block: the longest gap a 1 ms timer in the daemon saw during the scrape (the checks run meanwhile: compare with the column without a scrape)\n');
    return 0;
  } finally {
    await daemon.stop('bench');
  }
}

runBench(main);
