// Benchmark: time to apply and read back N real servers (N/10 services x 10) with the netlink backend, with one
// `ipvsadm` run per object, with one `ipvsadm -R`, and with the ipvsadm backend. Needs root and a kernel with
// IPVS (the UML guest). It works in a network namespace of its own, so it never touches another IPVS table:
// the outer process creates the namespace, re-runs itself inside with `ip netns exec`, and deletes it after.
//   tsx bench/ipvs-apply.ts [N ...]         default 100 1000 10000
//   LK_BENCH_PER_CALL_MAX=100               largest N timed with one ipvsadm per object (beyond: estimated)
// Inside UML, through the shared boot helper:
//   node -e "import('./src/lab/uml/uml-run.mjs').then(async m => { const r = await m.runInUml({ argv: [process.execPath, '--import', 'tsx', 'bench/ipvs-apply.ts'], timeoutMs: 1800000 }); console.log(r.output) })"
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { IpvsBackend, IpvsOp } from '../src/ipvs/backend.js';
import type { DesiredService, ServiceKey } from '../src/ipvs/model.js';
import { createNetlinkBackend } from '../src/ipvs/netlink/netlink-backend.js';
import { planChanges } from '../src/ipvs/reconcile.js';

const run = promisify(execFile);
const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SIZES = sizes.length > 0 ? sizes : [100, 1000, 10_000];
const PER_CALL_MAX = Number(process.env.LK_BENCH_PER_CALL_MAX ?? 100);

function outer(): number {
  if (!existsSync('/proc/net/ip_vs')) {
    process.stderr.write('ipvs-apply bench: this kernel has no IPVS (/proc/net/ip_vs missing); run it inside the UML guest\n');
    return 2;
  }
  const ns = `lkbench-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) {
    process.stderr.write(`ipvs-apply bench: ip netns add ${ns} failed: ${add.stderr}\n`);
    return 2;
  }
  try {
    // With loopback down the kernel refuses IPv4 real servers (NEW_DEST: EINVAL): it checks the address type.
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const inner = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1] ?? 'bench/ipvs-apply.ts', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LK_BENCH_INNER: ns },
      timeout: 60 * 60_000,
    });
    return inner.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function table(n: number): DesiredService[] {
  const services: DesiredService[] = [];
  const count = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < count; i++) {
    const key: ServiceKey = { kind: 'addr', family: 4, protocol: 'tcp', address: `203.0.113.${1 + (i % 250)}`, port: 1000 + Math.floor(i / 250) };
    const dests = Array.from({ length: Math.min(10, n - i * 10) }, (_, j) => ({
      family: 4 as const,
      address: `198.51.100.${1 + j}`,
      port: 2000 + i,
      forwarding: 'masq' as const,
      weight: 1 + j,
      upperThreshold: 0,
      lowerThreshold: 0,
    }));
    services.push({ key, scheduler: 'wlc', schedulerFlags: [], onePacket: false, dests });
  }
  return services;
}

function opsOf(services: DesiredService[]): IpvsOp[] {
  return services.flatMap(({ dests, ...spec }): IpvsOp[] => [{ op: 'add-service', service: spec }, ...dests.map((d): IpvsOp => ({ op: 'add-dest', service: spec.key, dest: d }))]);
}

function ipvsadmArgs(op: IpvsOp): string[] {
  if (op.op === 'add-service' && op.service.key.kind === 'addr') return ['-A', '-t', `${op.service.key.address}:${op.service.key.port}`, '-s', op.service.scheduler];
  if (op.op === 'add-dest' && op.service.kind === 'addr') return ['-a', '-t', `${op.service.address}:${op.service.port}`, '-r', `${op.dest.address}:${op.dest.port}`, '-m', '-w', String(op.dest.weight)];
  throw new Error(`bench: no ipvsadm form for ${op.op}`);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

async function ipvsadmRestore(text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ipvsadm', ['-R'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ipvsadm -R exited ${code}: ${err.slice(0, 500)}`))));
    child.stdin.end(text);
  });
}

async function countSaved(): Promise<number> {
  const { stdout } = await run('ipvsadm', ['-Sn'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.startsWith('-a ')).length;
}

const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

async function inner(): Promise<void> {
  const netlink = await createNetlinkBackend({ timeoutMs: 30_000 });
  let ipvsadmBackend: IpvsBackend | undefined;
  try {
    // The other engineer's backend, when present in this checkout.
    const mod = (await import('../src/ipvs/ipvsadm-backend.js')) as { createIpvsadmBackend?: (o: object) => IpvsBackend };
    ipvsadmBackend = mod.createIpvsadmBackend?.({ timeoutMs: 600_000 });
  } catch {
    ipvsadmBackend = undefined;
  }
  const rows: string[][] = [];
  for (const n of SIZES) {
    const services = table(n);
    const ops = opsOf(services);
    const expectDests = (got: number, what: string): void => {
      if (got !== n) throw new Error(`${what}: read back ${got} destinations, expected ${n}`);
    };

    await netlink.flush();
    const [res, nlApply] = await timed(() => netlink.apply(ops));
    if (res.failed.length > 0) throw new Error(`netlink apply: ${res.failed[0]?.error.message}`);
    const [dump, nlDump] = await timed(() => netlink.dump());
    expectDests(dump.reduce((k, s) => k + s.dests.length, 0), 'netlink dump');
    // One reconcile pass over an unchanged table, as the daemon runs it every reconcile_interval: dump + plan.
    // CPU time of this process (user + system), which is what the pass costs the director.
    const cpu0 = process.cpuUsage();
    const plan = planChanges(services, await netlink.dump(), { owned: 'configured' });
    const cpu = process.cpuUsage(cpu0);
    if (plan.length !== 0) throw new Error(`reconcile pass over an unchanged table planned ${plan.length} operations`);
    const passCpuMs = (cpu.user + cpu.system) / 1000;

    let perCall: string;
    await netlink.flush();
    if (n <= PER_CALL_MAX) {
      const [, ms] = await timed(async () => {
        for (const op of ops) await run('ipvsadm', ipvsadmArgs(op));
      });
      expectDests(await countSaved(), 'ipvsadm per call');
      perCall = fmt(ms);
    } else {
      // Time 200 calls and scale: the full run would take many minutes here.
      const sample = ops.slice(0, 200);
      const [, ms] = await timed(async () => {
        for (const op of sample) await run('ipvsadm', ipvsadmArgs(op));
      });
      perCall = `~${fmt((ms / sample.length) * ops.length)} (est.)`;
    }

    await netlink.flush();
    const restoreText = ops.map((op) => ipvsadmArgs(op).join(' ')).join('\n') + '\n';
    const [, restoreMs] = await timed(() => ipvsadmRestore(restoreText));
    const [saved, saveMs] = await timed(countSaved);
    expectDests(saved, 'ipvsadm -R');

    let backendApply: number | undefined;
    let backendDump: number | undefined;
    if (ipvsadmBackend) {
      await netlink.flush();
      const [r, a] = await timed(() => ipvsadmBackend.apply(ops));
      if (r.failed.length > 0) throw new Error(`ipvsadm backend apply: ${r.failed[0]?.error.message}`);
      const [d, b] = await timed(() => ipvsadmBackend.dump());
      expectDests(d.reduce((k, s) => k + s.dests.length, 0), 'ipvsadm backend dump');
      backendApply = a;
      backendDump = b;
    }
    await netlink.flush();
    rows.push([String(n), String(ops.length), fmt(nlApply), fmt(nlDump), fmt(passCpuMs), perCall, fmt(restoreMs), fmt(saveMs), fmt(backendApply), fmt(backendDump)]);
    process.stderr.write(`ipvs-apply bench: N=${n} done\n`);
  }
  await netlink.close();
  await ipvsadmBackend?.close();

  const head = ['dests', 'ops', 'netlink apply', 'netlink dump', 'reconcile pass CPU', 'ipvsadm per op', 'ipvsadm -R', 'ipvsadm -Sn', 'ipvsadm-backend apply', 'ipvsadm-backend dump'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(`${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
}

if (process.env.LK_BENCH_INNER) {
  inner().catch((err: unknown) => {
    process.stderr.write(`ipvs-apply bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  process.exitCode = outer();
}
