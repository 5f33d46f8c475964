/**
 * keepalived's checker beside lvskeep's health checks, same real servers, same interval, same run: N real servers
 * checked every second with TCP_CHECK / HTTP_GET (keepalived 2.2.7, `keepalived -C`, checker process only) and
 * with lvskeep's daemon wiring (buildDaemon, netlink backend), one after the other, each owning the IPVS table
 * of a private network namespace. CPU is utime+stime of the checking process from /proc/<pid>/stat over a fixed
 * window after a warm-up; checks/s are the connections the local servers accepted in that window.
 *
 *   tsx bench/keepalived-checker.ts [N ...]      default 1000 2000; --window 10 --warmup 5 --checks tcp,http
 *
 * Needs root, keepalived and a kernel with IPVS: run it inside the user-mode-linux guest (bench/run-all.ts does).
 * It creates its own network namespace (ip netns add), re-runs itself inside, and deletes it afterwards; the
 * real servers are 198.51.100.x (a local route for the /24 inside that namespace) at ports 10000+ (TCP) and
 * 11000+ (HTTP). Bounded: every wait has a limit, each process started is stopped by its PID.
 * Absolute figures from UML say little about real hardware: the ratio of the two is the point.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineReader, runBench } from './lib.js';

const MAX_SERVERS = 5000;
const PER_ADDRESS = 250; // real server i: 198.51.100.(1 + i % 250), port base + floor(i / 250)
const TCP_BASE = 10_000;
const HTTP_BASE = 11_000;
const VIP = '203.0.113.1';

function opt(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? Math.min(v, max) : fallback;
}

function positional(): number[] {
  const out: number[] = [];
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i] ?? '';
    if (a.startsWith('--')) {
      i++; // skip the option's value
      continue;
    }
    const n = Number(a);
    if (Number.isInteger(n) && n > 0) out.push(Math.min(n, MAX_SERVERS));
  }
  return out;
}

const WINDOW_S = opt('window', 10, 60);
const WARMUP_S = opt('warmup', 5, 60);
const SIZES = positional().length > 0 ? positional() : [1000, 2000];
const KINDS = (() => {
  const i = process.argv.indexOf('--checks');
  const list = (i >= 0 ? (process.argv[i + 1] ?? '') : 'tcp,http').split(',');
  return list.filter((k): k is Kind => k === 'tcp' || k === 'http');
})();

type Kind = 'tcp' | 'http';

function realServer(kind: Kind, i: number): { address: string; port: number } {
  return { address: `198.51.100.${1 + (i % PER_ADDRESS)}`, port: (kind === 'tcp' ? TCP_BASE : HTTP_BASE) + Math.floor(i / PER_ADDRESS) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Outer: a private network namespace, this script again inside it.

function outer(): number {
  if (!existsSync('/proc/net/ip_vs')) {
    process.stderr.write('keepalived-checker bench: this kernel has no IPVS (/proc/net/ip_vs missing); run it inside the UML guest\n');
    return 2;
  }
  if (spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).error) {
    process.stderr.write('keepalived-checker bench: keepalived is not installed\n');
    return 2;
  }
  const ns = `lkkc-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) {
    process.stderr.write(`keepalived-checker bench: ip netns add ${ns} failed: ${add.stderr}\n`);
    return 2;
  }
  try {
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const route = spawnSync('ip', ['-n', ns, 'route', 'add', 'local', '198.51.100.0/24', 'dev', 'lo'], { encoding: 'utf8' });
    if (route.status !== 0) {
      process.stderr.write(`keepalived-checker bench: local route for 198.51.100.0/24 in ${ns} failed: ${route.stderr}\n`);
      return 2;
    }
    const inner = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1] ?? 'bench/keepalived-checker.ts', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LK_BENCH_INNER: ns },
      timeout: 40 * 60_000,
    });
    return inner.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The lvskeep side: the daemon's wiring on the netlink backend, from a config file; runs until stdin ends.

async function lvskeepChild(configPath: string): Promise<void> {
  process.setSourceMapsEnabled(false); // tsx turns them on; the installed daemon runs compiled code without them
  const { loadConfigFile } = await import('../src/config/load.js');
  const { buildDaemon } = await import('../src/daemon/build.js');
  const { openIpvsBackend } = await import('../src/daemon/ipvs-backend.js');
  const { silentLogger } = await import('../src/log/logger.js');
  const r = await loadConfigFile(configPath);
  if (!r.ok) throw new Error(`lvskeep side: ${configPath} rejected: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  const logger = silentLogger();
  const daemon = buildDaemon(r.config, { logger, backend: await openIpvsBackend('netlink', logger), vrrpFactory: () => undefined, alertGraceMs: 0 });
  await daemon.start();
  await daemon.settle();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('error', () => resolve());
    process.stdin.resume();
  });
  await daemon.stop('bench done');
}

// ---------------------------------------------------------------------------------------------------------------
// Inner: servers, keepalived, lvskeep, measurements.

// argv: number of ports per kind. Listeners on the wildcard address (this is a private namespace); stdin line
// "count" prints the connections accepted so far.
const SERVER_CODE = `
  const http = require('node:http'), net = require('node:net');
  const ports = Number(process.argv[1]);
  let accepted = 0;
  const listen = (srv, port) => new Promise((ok, fail) => { srv.on('connection', (s) => { accepted++; s.on('error', () => {}); }); srv.once('error', fail); srv.listen({ host: '0.0.0.0', port, backlog: 4096 }, ok); });
  (async () => {
    for (let k = 0; k < ports; k++) {
      const h = http.createServer((req, res) => res.end('ok\\n'));
      h.keepAliveTimeout = 1000;
      await listen(h, ${HTTP_BASE} + k);
      await listen(net.createServer((s) => s.end()), ${TCP_BASE} + k);
    }
    process.stdout.write('ready\\n');
  })().catch((e) => { process.stderr.write('bench servers: ' + e.message + '\\n'); process.exit(1); });
  let buf = '';
  process.stdin.on('data', (d) => { buf += d; while (buf.includes('\\n')) { buf = buf.slice(buf.indexOf('\\n') + 1); process.stdout.write(accepted + '\\n'); } });
  process.stdin.on('end', () => process.exit(0));`;

/** utime + stime of a process in ms, from /proc/<pid>/stat (fields 14 and 15, after the parenthesised name). */
function cpuMs(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc/${pid}/stat: cannot read utime/stime from "${stat.slice(0, 120)}"`);
  return ((utime + stime) * 1000) / ticksPerSecond;
}

function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

async function stopChild(child: ChildProcess, what: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const ok = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!ok) {
    process.stderr.write(`keepalived-checker bench: ${what} (pid ${child.pid}) did not stop within 10 s of SIGTERM; killing it\n`);
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  }
}

function keepalivedConf(kind: Kind, n: number): string {
  const port = kind === 'tcp' ? 80 : 8080;
  const lines = ['global_defs {', '  router_id lkbench', '}', `virtual_server ${VIP} ${port} {`, '  delay_loop 1', '  lb_algo wlc', '  lb_kind NAT', '  protocol TCP'];
  for (let i = 0; i < n; i++) {
    const rs = realServer(kind, i);
    lines.push(`  real_server ${rs.address} ${rs.port} {`, '    weight 1');
    if (kind === 'tcp') lines.push('    TCP_CHECK {', '      connect_timeout 1', '    }');
    else lines.push('    HTTP_GET {', '      url {', '        path /', '        status_code 200', '      }', '      connect_timeout 1', '    }');
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function lvskeepConf(kind: Kind, n: number): string {
  const port = kind === 'tcp' ? 80 : 8080;
  // keepalived: no jitter, 1 s connect timeout; lvskeep's timeout must be shorter than the interval.
  const check = kind === 'tcp' ? '{ type: tcp, interval: 1s, timeout: 900ms, jitter: 0, assume: up }' : '{ type: http, path: /, interval: 1s, timeout: 900ms, jitter: 0, assume: up, expect: { status: [200] } }';
  const rs = Array.from({ length: n }, (_, i) => {
    const r = realServer(kind, i);
    return `      - address: ${r.address}:${r.port}`;
  });
  return [`global:`, `  router_id: lkbench`, `virtual_servers:`, `  - name: bench`, `    address: ${VIP}:${port}`, `    scheduler: wlc`, `    forwarding: nat`, `    check: ${check}`, `    real_servers:`, ...rs, ''].join('\n');
}

interface Measure {
  cpuMsPerSecond: number;
  checksPerSecond: number;
  /** CPU of the local servers' process in the same window: it shares the guest's CPUs with the checker. */
  serversCpuMsPerSecond: number;
  /** Idle share of all the guest's CPUs in the window (from /proc/stat), percent: near 0 the checker is CPU-bound. */
  idlePercent: number;
}

/** Idle and total jiffies of all CPUs from the first line of /proc/stat. */
function cpuJiffies(): { idle: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { idle: (f[3] ?? 0) + (f[4] ?? 0), total };
}

async function measure(pid: number, servers: { child: ChildProcess; reader: LineReader }, ticks: number): Promise<Measure> {
  await sleep(WARMUP_S * 1000);
  const count = async (): Promise<number> => {
    servers.child.stdin?.write('count\n');
    return Number(await servers.reader.next(5_000, 'the bench servers (count)'));
  };
  const serversPid = servers.child.pid ?? 0;
  const c0 = await count();
  const cpu0 = cpuMs(pid, ticks);
  const s0 = cpuMs(serversPid, ticks);
  const j0 = cpuJiffies();
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const cpu1 = cpuMs(pid, ticks);
  const s1 = cpuMs(serversPid, ticks);
  const j1 = cpuJiffies();
  const c1 = await count();
  const secs = (performance.now() - t0) / 1000;
  const idlePercent = j1.total > j0.total ? ((j1.idle - j0.idle) / (j1.total - j0.total)) * 100 : NaN;
  return { cpuMsPerSecond: (cpu1 - cpu0) / secs, checksPerSecond: (c1 - c0) / secs, serversCpuMsPerSecond: (s1 - s0) / secs, idlePercent };
}

async function waitForFile(path: string, limitMs: number): Promise<string> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    try {
      const text = readFileSync(path, 'utf8').trim();
      if (text !== '') return text;
    } catch {
      // not written yet
    }
    await sleep(100);
  }
  throw new Error(`keepalived-checker bench: ${path} not written within ${limitMs} ms`);
}

function clearTable(): void {
  spawnSync('ipvsadm', ['-C']);
}

async function runKeepalived(dir: string, kind: Kind, n: number, servers: { child: ChildProcess; reader: LineReader }, ticks: number): Promise<Measure> {
  const conf = join(dir, `keepalived-${kind}-${n}.conf`);
  writeFileSync(conf, keepalivedConf(kind, n));
  const pidFile = join(dir, `keepalived-${kind}-${n}.pid`);
  const checkerPidFile = join(dir, `checkers-${kind}-${n}.pid`);
  // -C: checker only; -n: stay in the foreground (its PID is ours to stop); -l: log to the console.
  const child = spawn('keepalived', ['-C', '-n', '-l', '-f', conf, '-p', pidFile, '-c', checkerPidFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  try {
    const checkerPid = Number(await waitForFile(checkerPidFile, 20_000));
    if (!Number.isInteger(checkerPid) || checkerPid <= 0) throw new Error(`keepalived-checker bench: ${checkerPidFile} holds no PID`);
    return await measure(checkerPid, servers, ticks);
  } catch (err) {
    if (stderr) process.stderr.write(`keepalived said:\n${stderr}\n`);
    throw err;
  } finally {
    await stopChild(child, 'keepalived');
    clearTable();
  }
}

async function runLvskeep(dir: string, kind: Kind, n: number, servers: { child: ChildProcess; reader: LineReader }, ticks: number): Promise<Measure> {
  const conf = join(dir, `lvskeep-${kind}-${n}.yaml`);
  writeFileSync(conf, lvskeepConf(kind, n));
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? 'bench/keepalived-checker.ts', '--lvskeep-child', conf], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new LineReader(child, 'keepalived-checker bench').next(120_000, 'the lvskeep daemon (start)'); // node starts slowly in UML
    if (line !== 'ready') throw new Error(`keepalived-checker bench: lvskeep side said "${line}" instead of ready`);
    if (child.pid === undefined) throw new Error('keepalived-checker bench: lvskeep side has no PID');
    return await measure(child.pid, servers, ticks);
  } finally {
    child.stdin?.end();
    await stopChild(child, 'lvskeep');
    clearTable();
  }
}

async function inner(): Promise<number> {
  const ticks = clockTicks();
  const dir = mkdtempSync(join(tmpdir(), 'lkkc-'));
  const maxN = Math.max(...SIZES);
  const serverChild = spawn(process.execPath, ['-e', SERVER_CODE, String(Math.ceil(maxN / PER_ADDRESS))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const servers = { child: serverChild, reader: new LineReader(serverChild, 'keepalived-checker bench') };
  const rows: string[][] = [];
  let failures = 0;
  try {
    await servers.reader.next(60_000, 'the bench servers (start)');
    clearTable();
    for (const kind of KINDS) {
      for (const n of SIZES) {
        let k: Measure | undefined;
        let l: Measure | undefined;
        try {
          k = await runKeepalived(dir, kind, n, servers, ticks);
        } catch (err) {
          failures++;
          process.stderr.write(`keepalived ${kind} x ${n}: ${(err as Error).message}\n`);
        }
        try {
          l = await runLvskeep(dir, kind, n, servers, ticks);
        } catch (err) {
          failures++;
          process.stderr.write(`lvskeep ${kind} x ${n}: ${(err as Error).message}\n`);
        }
        const per1000 = (m: Measure | undefined): string => (m && m.checksPerSecond > 0 ? ((m.cpuMsPerSecond / m.checksPerSecond) * 1000).toFixed(0) : '-');
        // Per check, not per second: when one side falls behind, CPU per second alone would flatter it.
        const perCheck = (m: Measure | undefined): number => (m && m.checksPerSecond > 0 ? m.cpuMsPerSecond / m.checksPerSecond : NaN);
        const r = perCheck(l) / perCheck(k);
        const ratio = Number.isFinite(r) ? r.toFixed(2) : '-';
        rows.push([
          kind,
          String(n),
          k ? k.checksPerSecond.toFixed(0) : '-',
          k ? k.cpuMsPerSecond.toFixed(0) : '-',
          per1000(k),
          l ? l.checksPerSecond.toFixed(0) : '-',
          l ? l.cpuMsPerSecond.toFixed(0) : '-',
          per1000(l),
          ratio,
          k ? k.serversCpuMsPerSecond.toFixed(0) : '-',
          l ? l.serversCpuMsPerSecond.toFixed(0) : '-',
          `${k ? k.idlePercent.toFixed(0) : '-'} / ${l ? l.idlePercent.toFixed(0) : '-'}`,
        ]);
      }
    }
  } finally {
    servers.child.stdin?.end();
    await stopChild(servers.child, 'bench servers');
    rmSync(dir, { recursive: true, force: true });
  }
  const head = ['check', 'real servers', 'keepalived checks/s', 'keepalived CPU ms/s', 'keepalived CPU ms / 1000 checks', 'lvskeep checks/s', 'lvskeep CPU ms/s', 'lvskeep CPU ms / 1000 checks', 'CPU per check, lvskeep / keepalived', 'servers CPU ms/s (beside keepalived)', 'servers CPU ms/s (beside lvskeep)', 'guest idle %, keepalived / lvskeep'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`keepalived ${keepalivedVersion()} checker process (keepalived -C) beside lvskeep (buildDaemon, netlink backend), same real servers at 1 s, one after the other in one guest run`);
  console.log(`CPU: utime+stime from /proc/<pid>/stat over ${WINDOW_S} s after ${WARMUP_S} s warm-up; checks/s: connections the local servers accepted in that window`);
  console.log(`inside user-mode-linux (${availableParallelism()} CPU): absolute figures say little about real hardware, the CPU-per-check ratio is the point`);
  console.log('the local servers run in the same guest: guest idle near 0 % means checker + servers use all its CPU, and checks/s below the real servers count is then CPU-bound');
  console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
  return failures === 0 ? 0 : 1;
}

function keepalivedVersion(): string {
  const r = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  return /Keepalived v(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '(version unknown)';
}

const childIdx = process.argv.indexOf('--lvskeep-child');
if (childIdx >= 0) {
  lvskeepChild(process.argv[childIdx + 1] ?? '').catch((err: unknown) => {
    process.stderr.write(`lvskeep side: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
} else if (process.env.LK_BENCH_INNER) {
  runBench(inner);
} else {
  process.exitCode = outer();
}
