// `lvskeep run --dry-run` (in-memory IPVS table, logged after each change) against real HTTP real servers on
// loopback: a stopped server goes to weight 0 within interval x fall + timeout, a restarted one comes back,
// and a SIGHUP with a broken config changes nothing. Plus the one-shot commands on the shipped configs.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, REPO, runCli, type LogLine } from './cli.js';

const INTERVAL = 400;
const TIMEOUT = 200;
const FALL = 2;
const RISE = 2;
/** Process start, the first spread-out check, scheduling jitter and a slow CI machine. */
const SLACK = 2_500;

const SERVERS = [
  { address: '127.0.0.2', port: 18_080, weight: 2 },
  { address: '127.0.0.3', port: 18_080, weight: 3 },
  { address: '127.0.0.4', port: 18_080, weight: 4 },
] as const;

function config(socket: string): string {
  return `
control:
  socket: ${socket}
metrics:
  listen: 127.0.0.1:19595
virtual_servers:
  - name: web
    address: 203.0.113.1:80
    scheduler: wlc
    check: { type: http, path: /health, interval: ${INTERVAL}ms, timeout: ${TIMEOUT}ms, rise: ${RISE}, fall: ${FALL}, jitter: 0, assume: up }
    real_servers:
${SERVERS.map((s) => `      - address: ${s.address}:${s.port}\n        weight: ${s.weight}`).join('\n')}
`;
}

class RealServer {
  private server: Server | undefined;
  constructor(
    readonly address: string,
    readonly port: number,
  ) {}
  start(): Promise<void> {
    const server = createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('ok\n'));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.address, () => resolve());
    });
  }
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

const isTable = (l: LogLine): boolean => l.msg === 'dry-run IPVS table';
const tableOf = (l: LogLine): string[] => l.table as string[];
const weightIn = (table: readonly string[], rs: string): number | undefined => {
  const line = table.find((t) => t.includes(`-r ${rs} `));
  const m = line ? / -w (\d+)/.exec(line) : null;
  return m ? Number(m[1]) : undefined;
};

describe('lvskeep run --dry-run with real HTTP servers on loopback', () => {
  let dir: string;
  let path: string;
  let socket: string;
  let daemon: DaemonProcess;
  const servers = SERVERS.map((s) => new RealServer(s.address, s.port));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-net-daemon-'));
    path = join(dir, 'lvskeep.yaml');
    socket = join(dir, 'run', 'lvskeep.sock');
    writeFileSync(path, config(socket));
    for (const s of servers) await s.start();
    daemon = new DaemonProcess(['-c', path, '--dry-run']);
    await daemon.waitFor('the first table', isTable, 20_000);
  });

  afterAll(async () => {
    const code = await daemon?.stop();
    for (const s of servers) await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  /** Wait for a table logged after line `from` in which `rs` has `weight`; how long it took. */
  async function waitWeight(rs: string, weight: number, budgetMs: number, from: number): Promise<number> {
    const t0 = Date.now();
    await daemon.waitFor(`${rs} at weight ${weight}`, (l) => isTable(l) && weightIn(tableOf(l), rs) === weight, budgetMs, from);
    return Date.now() - t0;
  }

  it('starts with every real server at its configured weight', async () => {
    const { line } = await daemon.waitFor('the first table', isTable, 1_000);
    expect(tableOf(line)).toEqual([
      '-A -t 203.0.113.1:80 -s wlc',
      '-a -t 203.0.113.1:80 -r 127.0.0.2:18080 -m -w 2',
      '-a -t 203.0.113.1:80 -r 127.0.0.3:18080 -m -w 3',
      '-a -t 203.0.113.1:80 -r 127.0.0.4:18080 -m -w 4',
    ]);
  });

  it('a stopped real server reaches weight 0 within interval x fall + timeout, and returns when started', async () => {
    const budget = INTERVAL * FALL + TIMEOUT + SLACK;
    const down = servers[1];
    if (!down) throw new Error('fixture');
    let from = daemon.lines.length;
    await down.stop();
    const took = await waitWeight('127.0.0.3:18080', 0, budget, from);
    expect(took).toBeLessThanOrEqual(budget);
    const last = daemon.lines.filter(isTable).at(-1);
    expect(weightIn(tableOf(last ?? {}), '127.0.0.2:18080')).toBe(2); // the others are untouched
    expect(daemon.lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'rs.down')).toBe(true);

    from = daemon.lines.length;
    await down.start();
    await waitWeight('127.0.0.3:18080', 3, INTERVAL * RISE + TIMEOUT + SLACK, from);
    expect(daemon.lines.some((l) => (l.event as { type?: string } | undefined)?.type === 'rs.up')).toBe(true);
  });

  it('SIGHUP with a broken config logs the errors, changes nothing and keeps checking', async () => {
    const before = daemon.lines.filter(isTable).at(-1);
    writeFileSync(path, config(socket).replace('weight: 4', 'weight: -4'));
    const from = daemon.lines.length;
    daemon.signal('SIGHUP');
    await daemon.waitFor('reload failed', (l) => (l.event as { type?: string } | undefined)?.type === 'daemon.reload_failed', 10_000, from);
    expect(daemon.lines.slice(from).some((l) => typeof l.msg === 'string' && l.msg.includes('lvskeep.yaml:') && l.msg.includes('weight'))).toBe(true);
    expect(daemon.lines.slice(from).filter(isTable)).toEqual([]);
    expect(daemon.running()).toBe(true);
    expect(before).toBeDefined();

    // Still the old configuration, still checking: a failure is still acted on.
    const s = servers[2];
    if (!s) throw new Error('fixture');
    let at = daemon.lines.length;
    await s.stop();
    await waitWeight('127.0.0.4:18080', 0, INTERVAL * FALL + TIMEOUT + SLACK, at);
    at = daemon.lines.length;
    await s.start();
    await waitWeight('127.0.0.4:18080', 4, INTERVAL * RISE + TIMEOUT + SLACK, at);
  });

  it('answers on its control socket (status, drain and enable, reload, alert test) and serves metrics', async () => {
    writeFileSync(path, config(socket)); // the broken file of the previous test is fixed
    const status = await runCli(['status', '--socket', socket, '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { virtualServers: { name: string; realServers: { id: string; kernelWeight: number | null; status: string; lastCheck: { ok: boolean } | null }[] }[] };
    expect(parsed.virtualServers[0]?.name).toBe('web');
    expect(parsed.virtualServers[0]?.realServers.map((r) => [r.id, r.kernelWeight, r.status, r.lastCheck?.ok])).toEqual([
      ['127.0.0.2:18080', 2, 'up', true],
      ['127.0.0.3:18080', 3, 'up', true],
      ['127.0.0.4:18080', 4, 'up', true],
    ]);

    let from = daemon.lines.length;
    const drain = await runCli(['drain', '--socket', socket, 'web', '127.0.0.2:18080']);
    expect({ code: drain.code, stdout: drain.stdout }).toEqual({ code: 0, stdout: 'draining 127.0.0.2:18080 in web\n' });
    await waitWeight('127.0.0.2:18080', 0, 5_000, from);
    from = daemon.lines.length;
    const enable = await runCli(['enable', '-c', path, 'web', '127.0.0.2:18080']);
    expect(enable.code).toBe(0);
    await waitWeight('127.0.0.2:18080', 2, 5_000, from);

    const missing = await runCli(['maintenance', '--socket', socket, 'web', '127.0.0.9:18080']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no real server 127.0.0.9:18080');

    writeFileSync(path, config(socket).replace('weight: 4', 'weight: 5'));
    from = daemon.lines.length;
    const reload = await runCli(['reload', '--socket', socket]);
    expect(reload.code).toBe(0);
    expect(reload.stdout).toMatch(/^reloaded: checks 3 kept, 0 added, 0 restarted, 0 removed; services 1 kept/);
    await waitWeight('127.0.0.4:18080', 5, 5_000, from);

    const scrape = await (await fetch('http://127.0.0.1:19595/metrics')).text();
    expect(scrape).toMatch(/^lvskeep_real_server_weight\{[^}]*real_server="127\.0\.0\.4:18080"[^}]*kind="kernel"[^}]*\} 5$/m);
    expect(scrape).toMatch(/^lvskeep_check_results_total\{[^}]*real_server="127\.0\.0\.2:18080"[^}]*result="success"[^}]*\} [1-9]/m);

    const alert = await runCli(['alert', 'test', '-c', path]);
    expect(alert.code).toBe(1);
    expect(alert.stderr).toContain('the running daemon has no alert sinks configured');
  });
});

describe('one-shot commands', () => {
  it('lvskeep check accepts every shipped config and reports the broken fixture line by line', async () => {
    const configs = readdirSync(join(REPO, 'config')).filter((f) => f.endsWith('.yaml'));
    expect(configs.length).toBeGreaterThan(0);
    for (const f of configs) {
      const r = await runCli(['check', '-c', join(REPO, 'config', f)]);
      expect({ file: f, code: r.code, stdout: r.stdout }).toEqual({ file: f, code: 0, stdout: 'ok\n' });
    }
    const broken = await runCli(['check', '-c', 'test/fixtures/config/broken.yaml']);
    expect(broken.code).toBe(1);
    const expected = readFileSync(join(REPO, 'test', 'fixtures', 'config', 'broken.expected.txt'), 'utf8').trim().split('\n');
    const printed = broken.stderr.split('\n').map((l) => l.replace(/^test\/fixtures\/config\//, ''));
    for (const line of expected) expect(printed).toContain(line);
  });

  it('lvskeep plan with the memory backend prints the save-syntax operations and exits 2 with --detailed-exitcode', async () => {
    const r = await runCli(['plan', '-c', join(REPO, 'config', 'nat.yaml'), '--backend', 'memory', '--detailed-exitcode']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(['-A -t 203.0.113.10:80 -s rr', '-a -t 203.0.113.10:80 -r 198.51.100.11:80 -m -w 1', '-a -t 203.0.113.10:80 -r 198.51.100.12:80 -m -w 1', ''].join('\n'));
    const plain = await runCli(['plan', '-c', join(REPO, 'config', 'nat.yaml'), '--backend', 'memory']);
    expect(plain.code).toBe(0);
  });

  it('lvskeep apply --dry-run lists what it applied; lvskeep ipvs --backend memory shows an empty -Ln table', async () => {
    const r = await runCli(['apply', '-c', join(REPO, 'config', 'nat.yaml'), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(3);
    const list = await runCli(['ipvs', '--backend', 'memory']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n');
  });

  it('lvskeep alert test reports a delivered and a failed sink and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskeep-alert-'));
    try {
      const received: string[] = [];
      const okServer = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push(body);
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((resolve) => okServer.listen(18_090, '127.0.0.1', resolve));
      const path = join(dir, 'alerts.yaml');
      writeFileSync(
        path,
        `alerts:\n  sinks:\n    - name: good\n      type: webhook\n      url: http://127.0.0.1:18090/hook\n    - name: dead\n      type: webhook\n      url: http://127.0.0.1:18091/hook\n      retries: 0\n      timeout: 500ms\n`,
      );
      const r = await runCli(['alert', 'test', '-c', path]);
      await new Promise<void>((resolve) => okServer.close(() => resolve()));
      expect(r.stdout).toMatch(/^good: delivered$/m);
      expect(r.stdout).toMatch(/^dead: failed: .+/m);
      expect(r.code).toBe(1);
      // The good sink also hears that the dead one is failing (alert.delivery_failing), by design.
      expect(received.filter((b) => b.includes('alert.test'))).toHaveLength(1);
      const one = await runCli(['alert', 'test', '-c', path, '--sink', 'nosuch']);
      expect(one.code).toBe(1);
      expect(one.stderr).toContain('no alert sink named nosuch (configured: good, dead)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
