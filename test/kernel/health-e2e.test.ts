// lvskeep end to end on real IPVS inside the UML guest: `lvskeep run` (netlink backend) in the director
// namespace owns a NAT virtual service of three real HTTP servers. A stopped server is inhibited (weight 0 in
// `ipvsadm -Ln`) within interval x fall + timeout and clients stop reaching it; restarted, it gets its weight
// back; with all but a minority down, panic keeps every server at its weight. Then `lvskeep apply` (ipvsadm
// backend) and `lvskeep plan --detailed-exitcode`: 0 when the kernel matches, 2 after a manual `ipvsadm -d`.
// The CLI runs as `node --import tsx src/cli/main.ts` (no build step).
//
//   client 203.0.113.10 --veth-- 203.0.113.1 director [VIP 203.0.113.100:80] 198.51.100.1 --bridge lan-- rs1 .11, rs2 .12, rs3 .13
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Topology, type NsProcess } from '../harness/netns.js';
import { requireKernelIpvs } from '../harness/privileges.js';
import { REPO_ROOT } from '../harness/uml.js';

const SERVER = join(REPO_ROOT, 'test', 'fixtures', 'http-name-server.mjs');
const CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http-get.mjs');
const CLI = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];
const VIP = '203.0.113.100';
const REAL = { rs1: '198.51.100.11', rs2: '198.51.100.12', rs3: '198.51.100.13' } as const;
type Rs = keyof typeof REAL;
const WEIGHT: Record<Rs, number> = { rs1: 1, rs2: 2, rs3: 3 };

const INTERVAL = 1_000;
const TIMEOUT = 500;
const FALL = 2;
const RISE = 2;
/** UML is slow (process start ~2 s, timers late under load): generous, but far below "never". */
const SLACK = 6_000;

const CONFIG = (socket: string): string => `
global:
  state_dir: ${dirname(socket)}/state
control:
  socket: ${socket}
ipvs:
  reconcile_interval: 5s
virtual_servers:
  - name: web
    address: ${VIP}:80
    scheduler: rr
    forwarding: nat
    panic_threshold: 50
    check: { type: http, interval: ${INTERVAL}ms, timeout: ${TIMEOUT}ms, rise: ${RISE}, fall: ${FALL}, jitter: 0, assume: up }
    real_servers:
${(Object.keys(REAL) as Rs[]).map((rs) => `      - address: ${REAL[rs]}:80\n        weight: ${WEIGHT[rs]}`).join('\n')}
`;

/** `  -> ADDR:PORT  Masq  weight active inactive` lines of `ipvsadm -Ln`, as address -> weight. */
function weights(listing: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of listing.split('\n')) {
    const m = /^\s+->\s+(\d+\.\d+\.\d+\.\d+):\d+\s+\w+\s+(\d+)\s+\d+\s+\d+\s*$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

requireKernelIpvs('kernel/health-e2e')('lvskeep run: health checks drive real IPVS weights', () => {
  let topo: Topology;
  let dir: string;
  let daemon: NsProcess;
  const servers = new Map<Rs, NsProcess>();

  const startServer = async (rs: Rs): Promise<void> => {
    const p = topo.spawn(rs, [process.execPath, SERVER, REAL[rs], '80', rs, '300'], { label: `${rs} http` });
    servers.set(rs, p);
    await p.waitForOutput(new RegExp(`listening ${REAL[rs].replaceAll('.', '\\.')}:80`), 60_000);
  };
  const stopServer = async (rs: Rs): Promise<void> => {
    await servers.get(rs)?.stop();
    servers.delete(rs);
  };
  const table = async (): Promise<Record<string, number>> => weights((await topo.exec('director', ['ipvsadm', '-Ln', '-t', `${VIP}:80`], { check: false })).stdout);
  /** Poll `ipvsadm -Ln` until `pred` holds; returns the elapsed ms. */
  const waitTable = async (what: string, pred: (w: Record<string, number>) => boolean, budgetMs: number): Promise<number> => {
    const t0 = Date.now();
    let last: Record<string, number> = {};
    while (Date.now() - t0 < budgetMs) {
      last = await table();
      if (pred(last)) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${what}: not within ${budgetMs} ms; last table ${JSON.stringify(last)}; lvskeep log:\n${daemon.output().slice(-4000)}`);
  };
  const bodies = async (n: number): Promise<string[]> => {
    const r = await topo.exec('client', [process.execPath, CLIENT, `http://${VIP}/`, String(n), '3000'], { check: false });
    return (JSON.parse(r.stdout) as { ok: boolean; body?: string }[]).map((x) => (x.ok ? (x.body ?? '').trim() : 'FAILED'));
  };
  const cli = (args: string[]) => topo.exec('director', [...CLI, ...args], { check: false, timeoutMs: 60_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvskeep-e2e-'));
    writeFileSync(join(dir, 'lvskeep.yaml'), CONFIG(join(dir, 'lvskeep.sock')));
    topo = new Topology({ timeoutMs: 60_000 });
    for (const name of ['client', 'director', 'rs1', 'rs2', 'rs3']) await topo.namespace(name);
    await topo.link({ ns: 'client', ifname: 'eth0', addresses: ['203.0.113.10/24'] }, { ns: 'director', ifname: 'out0', addresses: ['203.0.113.1/24'] });
    await topo.addAddress('director', 'out0', `${VIP}/32`);
    await topo.bridge('lan');
    await topo.plug({ ns: 'director', ifname: 'in0', addresses: ['198.51.100.1/24'] }, 'lan');
    for (const rs of Object.keys(REAL) as Rs[]) {
      await topo.plug({ ns: rs, ifname: 'eth0', addresses: [`${REAL[rs]}/24`] }, 'lan');
      await topo.route(rs, ['default', 'via', '198.51.100.1']);
    }
    await topo.sysctl('director', 'net.ipv4.ip_forward', '1');
    await Promise.all((Object.keys(REAL) as Rs[]).map(startServer));
    daemon = topo.spawn('director', [...CLI, 'run', '-c', join(dir, 'lvskeep.yaml'), '--backend', 'netlink'], { label: 'lvskeep run', cwd: REPO_ROOT });
    await daemon.waitForOutput(/"msg":"lvskeep started"/, 60_000);
  });

  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('programs the configured weights and clients reach every real server', async () => {
    await waitTable('configured weights', (w) => w[REAL.rs1] === 1 && w[REAL.rs2] === 2 && w[REAL.rs3] === 3, 10_000);
    expect(new Set(await bodies(6))).toEqual(new Set(['rs1', 'rs2', 'rs3']));
  });

  it('a stopped real server gets weight 0 within interval x fall + timeout, clients stop reaching it; restarted it returns', async () => {
    const budget = INTERVAL * FALL + TIMEOUT + SLACK;
    await stopServer('rs2');
    const took = await waitTable('rs2 inhibited', (w) => w[REAL.rs2] === 0 && w[REAL.rs1] === 1 && w[REAL.rs3] === 3, budget);
    expect(took).toBeLessThanOrEqual(budget);
    const seen = await bodies(6);
    expect(seen).not.toContain('rs2');
    expect(seen).not.toContain('FAILED');
    expect(daemon.output()).toMatch(/"type":"rs.down".*198\.51\.100\.12:80/);

    await startServer('rs2');
    await waitTable('rs2 restored', (w) => w[REAL.rs2] === 2, INTERVAL * RISE + TIMEOUT + SLACK);
    expect(new Set(await bodies(6))).toContain('rs2');
  });

  it('with all but a minority down, panic keeps every real server at its weight', async () => {
    await Promise.all([stopServer('rs2'), stopServer('rs3')]);
    // One of three healthy (33%) is below panic_threshold 50: the pool refuses to eject anyone.
    const deadline = Date.now() + INTERVAL * (FALL + 1) + TIMEOUT + SLACK;
    while (!/"type":"panic.entered"/.test(daemon.output())) {
      if (Date.now() > deadline) throw new Error(`no panic.entered; log:\n${daemon.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitTable('panic weights', (w) => w[REAL.rs1] === 1 && w[REAL.rs2] === 2 && w[REAL.rs3] === 3, 5_000);
    await Promise.all([startServer('rs2'), startServer('rs3')]);
    const stopped = await daemon.stop(10_000).then(() => daemon.exited);
    expect(stopped.code).toBe(0);
    expect(await table()).toEqual({ [REAL.rs1]: 1, [REAL.rs2]: 2, [REAL.rs3]: 3 }); // left as it is on stop
  });

  it('lvskeep apply then plan --detailed-exitcode: 0 when the kernel matches, 2 after a manual ipvsadm -d', async () => {
    const cfg = join(dir, 'lvskeep.yaml');
    await topo.exec('director', ['ipvsadm', '-C']);
    const applied = await cli(['apply', '-c', cfg, '--backend', 'ipvsadm']);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    expect(applied.stdout.split('\n').filter(Boolean)).toEqual([
      `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r ${REAL.rs1}:80 -m -w 1`,
      `-a -t ${VIP}:80 -r ${REAL.rs2}:80 -m -w 2`,
      `-a -t ${VIP}:80 -r ${REAL.rs3}:80 -m -w 3`,
    ]);
    const clean = await cli(['plan', '-c', cfg, '--backend', 'ipvsadm', '--detailed-exitcode']);
    expect({ code: clean.code, stdout: clean.stdout }).toEqual({ code: 0, stdout: 'no changes\n' });

    await topo.exec('director', ['ipvsadm', '-d', '-t', `${VIP}:80`, '-r', `${REAL.rs1}:80`]);
    const drift = await cli(['plan', '-c', cfg, '--detailed-exitcode']); // backend from the config: netlink
    expect({ code: drift.code, stdout: drift.stdout }).toEqual({ code: 2, stdout: `-a -t ${VIP}:80 -r ${REAL.rs1}:80 -m -w 1\n` });
  });
});
