// Running the realserver/director commands inside a test namespace, and reading back what they did
// (addresses and /proc/sys values as seen from inside that namespace).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult, Topology } from '../../harness/netns.js';
import { REPO_ROOT, SCRATCH_DIR } from '../../harness/uml.js';

export const ENTRY = join(REPO_ROOT, 'test', 'net', 'realserver', 'lvskeep-entry.ts');

/** A fresh state directory under the git-ignored scratch dir (never /tmp: see test/harness/README.md). */
export function scratchStateDir(tag: string): string {
  mkdirSync(SCRATCH_DIR, { recursive: true });
  return mkdtempSync(join(SCRATCH_DIR, `realserver-${tag}-`));
}

/** `lvskeep ARGS...` inside namespace `ns`; never throws on a non-zero exit (tests check the code). */
export function lvskeep(topo: Topology, ns: string, args: readonly string[], prefix: readonly string[] = []): Promise<ExecResult> {
  return topo.exec(ns, [...prefix, process.execPath, '--import', 'tsx', ENTRY, ...args], { check: false, timeoutMs: 60_000 });
}

export async function readSysctl(topo: Topology, ns: string, path: string): Promise<string> {
  return (await topo.exec(ns, ['cat', `/proc/sys/${path}`])).stdout.trim();
}

/** Several /proc/sys values (paths relative to /proc/sys) as one object, for whole-set comparisons. */
export async function readSysctls(topo: Topology, ns: string, paths: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = await readSysctl(topo, ns, p);
  return out;
}

export async function writeSysctls(topo: Topology, ns: string, values: Record<string, string>): Promise<void> {
  for (const [path, value] of Object.entries(values)) await topo.sysctl(ns, path.replaceAll('/', '.'), value);
}

/** `ip -o -4 addr show dev X` lines reduced to "address/prefix label". */
export async function addresses(topo: Topology, ns: string, dev: string): Promise<string[]> {
  const r = await topo.exec(ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', dev]);
  return r.stdout
    .split('\n')
    .map((l) => /inet (\S+) .*?scope \S+ (?:secondary )?(\S+?)\\/.exec(l))
    .flatMap((m) => (m ? [`${m[1]} ${m[2]}`] : []));
}

export const describeResult = (r: ExecResult): string => `exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

export type IpipDecision = { run: true } | { run: false; reason: string; fail: boolean };

/**
 * Whether the TUN tests can run. When the probe (`ip link add ... type ipip` in a namespace) fails: a kernel
 * built without CONFIG_NET_IPIP (its /proc/config.gz says so) cannot run them anywhere, which is a documented
 * skip even under CI; any other cause (module not loadable here) fails under CI=true instead of hiding.
 */
export function ipipDecision(probeOk: boolean, probeError: string, kernelConfig: string | undefined, ci: boolean): IpipDecision {
  if (probeOk) return { run: true };
  if (kernelConfig !== undefined && /^# CONFIG_NET_IPIP is not set$/m.test(kernelConfig)) {
    return { run: false, fail: false, reason: 'this kernel is built without IPIP tunnels (CONFIG_NET_IPIP is not set in /proc/config.gz); TUN mode cannot be tested here (it runs inside the UML guest, whose kernel has ipip.ko)' };
  }
  return { run: false, fail: ci, reason: `the ipip tunnel driver is not available here: ${probeError.trim() || 'ip link add type ipip failed'}` };
}
