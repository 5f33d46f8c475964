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
