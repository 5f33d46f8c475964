// Runs the agents in test/net/*/agents inside a Topology namespace and reads their JSON-lines output.
// Kept local to the VRRP I/O and VIP net tests; the namespaces themselves come from test/harness/netns.ts.
import { join } from 'node:path';
import type { NsProcess, Topology } from '../../harness/netns.js';
import { REPO_ROOT } from '../../harness/uml.js';

export const TRANSPORT_AGENT = join(REPO_ROOT, 'test', 'net', 'vrrp-io', 'agents', 'transport-agent.ts');
export const VIP_AGENT = join(REPO_ROOT, 'test', 'net', 'vip', 'agents', 'vip-agent.ts');
export const ANNOUNCE_AGENT = join(REPO_ROOT, 'test', 'net', 'vip', 'agents', 'announce-agent.ts');

/** argv for `node --import tsx AGENT '<json>'` (tsx resolves from the repository root, our cwd). */
export function agentArgv(agent: string, args: object): string[] {
  return [process.execPath, '--import', 'tsx', agent, JSON.stringify(args)];
}

export function parseLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Run an agent to completion inside namespace `local`; throws with its output when it fails. */
export async function runAgent(topo: Topology, local: string, agent: string, args: object, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
  const r = await topo.exec(local, agentArgv(agent, args), { timeoutMs, check: false });
  if (r.code !== 0) throw new Error(`agent ${agent} in ${local} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return parseLines(r.stdout);
}

/** Start a receiving agent and wait until it has its sockets open. */
export async function startReceiver(topo: Topology, local: string, args: object): Promise<NsProcess> {
  const proc = topo.spawn(local, agentArgv(TRANSPORT_AGENT, args), { cwd: REPO_ROOT, label: `${local} receiver` });
  await proc.waitForOutput(/"event":"(ready|error)"/, 30_000);
  if (/"event":"error"/.test(proc.output())) throw new Error(`receiver in ${local} failed to start:\n${proc.output()}`);
  return proc;
}

/** Wait for a receiver to exit by itself and return its events. */
export async function receiverEvents(proc: NsProcess, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
  const exit = await Promise.race([proc.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs))]);
  if (exit === undefined) throw new Error(`${proc.label} still running after ${timeoutMs} ms:\n${proc.output()}`);
  if (exit.code !== 0) throw new Error(`${proc.label} exited ${JSON.stringify(exit)}:\n${proc.output()}`);
  return parseLines(proc.output());
}

export async function ifindexIn(topo: Topology, local: string, ifname: string): Promise<number> {
  const r = await topo.exec(local, ['ip', '-j', 'link', 'show', 'dev', ifname]);
  const links = JSON.parse(r.stdout) as { ifindex: number }[];
  const index = links[0]?.ifindex;
  if (index === undefined) throw new Error(`no ifindex for ${ifname} in ${local}`);
  return index;
}
