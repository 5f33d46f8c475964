/**
 * `npm run bench`: runs every benchmark and rewrites docs/benchmarks.md with what they printed, the machine and
 * the date. Each benchmark prints its own table (and keepalived's figures from the same run where it has them);
 * this script only runs them where they must run and collects their output.
 *
 *   npm run bench [-- --only health,health-detect,health-keepalived,vrrp,ipvs] [-- --no-write]
 *
 * Where each runs: health checks and detection delay in a private network namespace on the host (loopback load);
 * VRRP failover on the host (it makes its own sandbox); IPVS apply and keepalived's checker beside lvskeep's
 * inside the user-mode-linux guest (the host kernel has no IPVS).
 * Every benchmark is bounded in time by itself; this script adds an outer limit per benchmark.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInUml, REPO_ROOT } from '../scripts/uml-run.mjs';

interface Bench {
  id: string;
  title: string;
  what: string;
  run: () => Promise<{ code: number; output: string }>;
}

const TSX = [process.execPath, '--import', 'tsx'];

function runHost(argv: string[], limitMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file ?? 'false', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (b: Buffer): void => {
      process.stdout.write(b);
      output += b.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', (err) => {
      output += `\ncannot start ${file}: ${err.message}\n`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

const BENCHES: Bench[] = [
  {
    id: 'health',
    title: 'Health checks: throughput, CPU and event-loop lag',
    what: 'HTTP and TCP checks through the real scheduler and checkers against local servers on loopback (issue: health checks).',
    run: () =>
      runHost(['unshare', '--net', '--', 'sh', '-c', `ip link set lo up && exec ${TSX.join(' ')} bench/health-checks.ts --seconds 5 --rates 1000,4000 --servers 10000`], 10 * 60_000),
  },
  {
    id: 'health-detect',
    title: 'Health checks: detection delay (server dies -> weight 0)',
    what: 'The daemon chain health -> pool -> reconciler (buildDaemon, memory backend) against 100 loopback real servers per check type in a private network namespace; 25 die at once; time until each has weight 0, against interval x fall + timeout.',
    run: () => runHost([...TSX, 'bench/health-detect.ts'], 3 * 60_000),
  },
  {
    id: 'health-keepalived',
    title: "Health checks: keepalived's checker CPU beside lvskeep (inside the user-mode-linux guest)",
    what: 'keepalived -C (checker process only) and lvskeep (buildDaemon, netlink backend) checking the same real servers every second with TCP and HTTP, one after the other in one guest run; CPU from /proc/<pid>/stat.',
    run: async () => {
      const r = await runInUml({ argv: [...TSX, 'bench/keepalived-checker.ts', '250', '1000'], timeoutMs: 30 * 60_000 });
      return { code: r.exitCode, output: r.output };
    },
  },
  {
    id: 'vrrp',
    title: 'VRRP failover: longest client gap and failed requests, lvskeep beside keepalived',
    what: 'A client probes the VIP every 10 ms while the master loses its link or is stopped (planned switchover).',
    run: () => runHost([...TSX, 'bench/vrrp-failover.ts'], 20 * 60_000),
  },
  {
    id: 'ipvs',
    title: 'IPVS apply and read-back (inside the user-mode-linux guest)',
    what: 'Time to apply and read back N destinations: netlink backend, ipvsadm backend, one ipvsadm per destination, one ipvsadm -R.',
    run: async () => {
      const r = await runInUml({ argv: [...TSX, 'bench/ipvs-apply.ts'], timeoutMs: 40 * 60_000 });
      return { code: r.exitCode, output: r.output };
    },
  },
];

function machine(): string {
  const cpu = cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- cpu: ${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`,
    `- memory: ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- kernel: ${release()} (IPVS figures come from the user-mode-linux 6.1 guest: compare ratios, not absolute times)`,
    `- node: ${process.version}`,
    `- load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const onlyIdx = process.argv.indexOf('--only');
  const only = onlyIdx >= 0 ? new Set((process.argv[onlyIdx + 1] ?? '').split(',')) : undefined;
  const write = !process.argv.includes('--no-write');
  const header = machine();
  const sections: string[] = [];
  let failures = 0;
  for (const b of BENCHES) {
    if (only && !only.has(b.id)) continue;
    process.stdout.write(`\n===== bench ${b.id}: ${b.title} =====\n`);
    const started = Date.now();
    const { code, output } = await b.run();
    if (code !== 0) failures += 1;
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    sections.push(
      `## ${b.title}\n\n${b.what}\n\nCommand exit status ${code}, ${secs} s.\n\n\`\`\`text\n${output.trim()}\n\`\`\`\n`,
    );
  }
  if (write && sections.length > 0) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    const intro = readIntro(path);
    writeFileSync(path, `${intro}\n## Machine and run\n\n${header}\n\n${sections.join('\n')}`);
    process.stdout.write(`\nwrote ${path}\n`);
  }
  return failures === 0 ? 0 : 1;
}

/** Keeps the hand-written part of docs/benchmarks.md (everything before the first generated heading). */
function readIntro(path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    const cut = text.indexOf('\n## Machine and run');
    return cut >= 0 ? text.slice(0, cut) : text.trimEnd();
  } catch {
    return '# Benchmarks\n\nWritten by `npm run bench` (bench/run-all.ts): the figures below were printed by the benchmark scripts in one run.';
  }
}

process.exitCode = await main();
