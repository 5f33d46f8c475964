// A VRRP lab for net tests and the failover benchmark: directors and a client on one bridge, lvskeep agents
// (test/net/vrrp/agents/vrrp-agent.ts) or keepalived 2.2.7 per director, and helpers that read who holds the
// VIP (`ip -o addr`) and wait for states. Everything lives in namespaces of one Topology; configs go to a
// scratch directory under .lvskeep-test/; processes are ended by their own PID (Topology.destroy).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Topology, type NsProcess } from '../../harness/netns.js';
import { REPO_ROOT, SCRATCH_DIR } from '../../harness/uml.js';

export const VRRP_AGENT = join(REPO_ROOT, 'test', 'net', 'vrrp', 'agents', 'vrrp-agent.ts');

export interface DirectorSpec {
  name: string;
  address: string;
}

export interface PeerOptions {
  vrid: number;
  vip: string;
  priority: number;
  version?: 2 | 3;
  /** Advert interval in ms. */
  intervalMs?: number;
  preempt?: boolean;
  /** Unicast peers; multicast when absent. */
  unicastPeers?: string[];
  unicastSource?: string;
  transport?: 'vrrp' | 'udp';
  authPass?: string;
  garpRepeat?: number;
  garpIntervalMs?: number;
  /** VIP prefix length; default 24 (IPv4) or 64 (IPv6). */
  prefix?: number;
  /** RFC 5798 Accept_Mode; the config's default when absent. */
  accept?: boolean;
}

function vipCidr(o: PeerOptions): string {
  return `${o.vip}/${o.prefix ?? (o.vip.includes(':') ? 64 : 24)}`;
}

export function lvskeepConfig(name: string, o: PeerOptions): string {
  const lines = [
    'vrrp:',
    '  instances:',
    `    - name: ${name}`,
    '      interface: eth0',
    `      virtual_router_id: ${o.vrid}`,
    `      priority: ${o.priority}`,
    `      advert_interval: ${o.intervalMs ?? 1000}ms`,
    `      version: ${o.version ?? 3}`,
    `      preempt: ${o.preempt ?? true}`,
    `      virtual_ips: ["${vipCidr(o)}"]`,
    `      transport: ${o.transport ?? 'vrrp'}`,
    `      garp: { repeat: ${o.garpRepeat ?? 3}, interval: ${o.garpIntervalMs ?? 100}ms }`,
  ];
  if (o.unicastPeers) lines.push(`      unicast_peers: [${o.unicastPeers.join(', ')}]`);
  if (o.unicastSource) lines.push(`      unicast_source: ${o.unicastSource}`);
  if (o.authPass !== undefined) lines.push(`      auth: { type: pass, secret: ${o.authPass} }`);
  if (o.accept !== undefined) lines.push(`      accept: ${o.accept}`);
  return `${lines.join('\n')}\n`;
}

export function keepalivedConfig(name: string, o: PeerOptions): string {
  const lines = [
    'global_defs {',
    `  router_id ${name}`,
    `  vrrp_version ${o.version ?? 3}`,
    // Like lvskeep's garp settings, so both sides announce alike in the benchmark.
    '  vrrp_garp_master_delay 0',
    `  vrrp_garp_master_repeat ${o.garpRepeat ?? 3}`,
    `  vrrp_garp_interval ${((o.garpIntervalMs ?? 100) / 1000).toFixed(3)}`,
    '}',
    'vrrp_instance VI {',
    `  state ${o.priority >= 150 ? 'MASTER' : 'BACKUP'}`,
    '  interface eth0',
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    `  advert_int ${(o.intervalMs ?? 1000) / 1000}`,
  ];
  if (o.preempt === false) lines.push('  nopreempt');
  if (o.unicastSource) lines.push(`  unicast_src_ip ${o.unicastSource}`);
  if (o.unicastPeers) lines.push('  unicast_peer {', ...o.unicastPeers.map((p) => `    ${p}`), '  }');
  if (o.authPass !== undefined) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${o.authPass}`, '  }');
  lines.push('  virtual_ipaddress {', `    ${vipCidr(o)}`, '  }', '}', '');
  return lines.join('\n');
}

export type Peer = { kind: 'lvskeep' | 'keepalived'; ns: string; proc: NsProcess };

export interface AgentEvent {
  event: string;
  instance?: string;
  from?: string;
  to?: string;
  reason?: string;
  priority?: number;
  peer?: string;
  cleared?: boolean;
  [k: string]: unknown;
}

export function agentEvents(proc: NsProcess): AgentEvent[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as AgentEvent);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class VrrpLab {
  readonly topo = new Topology({ timeoutMs: 30_000 });
  readonly dir: string;
  private seq = 0;

  constructor(readonly directors: readonly DirectorSpec[]) {
    mkdirSync(SCRATCH_DIR, { recursive: true });
    this.dir = mkdtempSync(join(SCRATCH_DIR, 'vrrp-'));
  }

  /** Bridge `lan`, one namespace per director plus `client` (192.0.2.200). */
  async build(): Promise<void> {
    await this.topo.bridge('lan');
    for (const d of this.directors) {
      await this.topo.namespace(d.name);
      await this.topo.plug({ ns: d.name, ifname: 'eth0', addresses: [`${d.address}/24`] }, 'lan');
    }
    await this.topo.namespace('client');
    await this.topo.plug({ ns: 'client', ifname: 'eth0', addresses: ['192.0.2.200/24'] }, 'lan');
  }

  async destroy(): Promise<void> {
    try {
      await this.topo.destroy();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  startLvskeep(ns: string, o: PeerOptions, env: NodeJS.ProcessEnv = {}): Peer {
    const conf = join(this.dir, `${ns}-${++this.seq}.yaml`);
    writeFileSync(conf, lvskeepConfig(`vi${o.vrid}`, o));
    const proc = this.topo.spawn(ns, [process.execPath, '--import', 'tsx', VRRP_AGENT, conf, '300'], { cwd: REPO_ROOT, label: `lvskeep ${ns}`, env: { ...process.env, ...env } });
    return { kind: 'lvskeep', ns, proc };
  }

  startKeepalived(ns: string, o: PeerOptions): Peer {
    const base = join(this.dir, `${ns}-${++this.seq}`);
    writeFileSync(`${base}.conf`, keepalivedConfig(`ka${ns}`, o));
    // -P VRRP only, -n foreground (its PID is the one we signal), -l log to the console.
    const proc = this.topo.spawn(ns, ['keepalived', '-P', '-n', '-l', '-f', `${base}.conf`, '-p', `${base}.pid`, '-r', `${base}.vrrp.pid`], { label: `keepalived ${ns}` });
    return { kind: 'keepalived', ns, proc };
  }

  /** Whether the namespace has `vip` on eth0 right now. */
  async holds(ns: string, vip: string): Promise<boolean> {
    const r = await this.topo.exec(ns, ['ip', '-o', 'addr', 'show', 'dev', 'eth0'], { timeoutMs: 10_000 });
    return r.stdout.split('\n').some((l) => l.includes(` ${vip}/`));
  }

  async holders(vip: string): Promise<string[]> {
    const out: string[] = [];
    for (const d of this.directors) if (await this.holds(d.name, vip)) out.push(d.name);
    return out;
  }

  /** Poll until exactly `expected` hold the VIP (sorted names), bounded. */
  async waitForHolders(vip: string, expected: string[], timeoutMs: number): Promise<void> {
    const want = [...expected].sort().join(',');
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = (await this.holders(vip)).sort().join(',');
      if (last === want) return;
      await sleep(100);
    }
    throw new Error(`VIP ${vip}: holders [${last}] after ${timeoutMs} ms, expected [${want}]`);
  }

  /** Bounded wait for eth0's IPv6 link-local address to leave duplicate address detection (adverts need it). */
  async waitLinkLocal(ns: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.topo.exec(ns, ['ip', '-o', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'], { timeoutMs: 10_000 });
      if (r.stdout.includes('fe80') && !r.stdout.includes('tentative')) return;
      await sleep(100);
    }
    throw new Error(`${ns}: eth0 has no usable IPv6 link-local address after ${timeoutMs} ms`);
  }

  async setLink(ns: string, up: boolean): Promise<void> {
    await this.topo.exec(ns, ['ip', 'link', 'set', 'eth0', up ? 'up' : 'down']);
  }
}

/** Wait until a peer reports `state` (lvskeep JSON line or keepalived's log line), counting from `after` matches. */
export async function waitForState(p: Peer, state: 'MASTER' | 'BACKUP' | 'FAULT', timeoutMs: number, after = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (countStates(p, state) > after) return;
    if (!p.proc.running()) throw new Error(`${p.proc.label} exited before reaching ${state}:\n${p.proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${p.proc.label} not ${state} within ${timeoutMs} ms:\n${p.proc.output().slice(-4000)}`);
    await sleep(50);
  }
}

export function countStates(p: Peer, state: 'MASTER' | 'BACKUP' | 'FAULT'): number {
  if (p.kind === 'lvskeep') return agentEvents(p.proc).filter((e) => e.event === 'vrrp.state' && e.to === state).length;
  return p.proc.output().split('\n').filter((l) => l.includes(`Entering ${state} STATE`)).length;
}

/** Signal one of our own peers by its PID (never a group: a missing PID is an error, not kill(0)). */
export function signal(p: Peer, sig: NodeJS.Signals): void {
  const pid = p.proc.pid;
  if (pid === undefined || pid <= 0) throw new Error(`${p.proc.label} has no PID`);
  process.kill(pid, sig);
}

export async function waitReady(p: Peer, timeoutMs = 30_000): Promise<void> {
  if (p.kind === 'lvskeep') await p.proc.waitForOutput(/"event":"(ready|error)"/, timeoutMs);
  if (/"event":"error"/.test(p.proc.output())) throw new Error(`${p.proc.label} failed to start:\n${p.proc.output()}`);
}
