/**
 * `lvskeep status` for people: VRRP lines, then the pools laid out like `ipvsadm -Ln` (same columns in the same
 * places, so eyes and scripts used to ipvsadm find them) with lvskeep's own columns appended on the right.
 * Pure: the daemon's status result in, text out.
 */
import type { RealServerStatusInfo, StatsInfo, StatusResult, VirtualServerStatusInfo, VrrpInstanceStatusInfo } from './protocol.js';

export type StatusKind = 'plain' | 'stats' | 'rate';

/** `12s`, `5m03s`, `3h12m`, `2d04h`: short and exact enough for "how long ago". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** `tcp 203.0.113.1:80` -> `TCP  203.0.113.1:80`, `fwmark 7 inet6` -> `FWM  7 IPv6`, as ipvsadm writes them. */
export function serviceColumn(id: string): string {
  const space = id.indexOf(' ');
  if (space < 0) return id;
  const proto = id.slice(0, space);
  const rest = id.slice(space + 1);
  if (proto === 'fwmark') return `FWM  ${rest.replace(/ inet6$/, ' IPv6')}`;
  return `${proto.toUpperCase().padEnd(4)} ${rest}`;
}

const FORWARD: Record<string, string> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local', nat: 'Masq', dr: 'Route', tun: 'Tunnel' };

type LvsSyncInfo = NonNullable<VrrpInstanceStatusInfo['lvsSync']>;

/**
 * `sync: master on eth1 id 51`: the connection-sync daemon this instance wants; `pending` until the kernel runs
 * it, `FAILING` once an attempt failed (the error goes on its own line).
 */
export function lvsSyncText(s: LvsSyncInfo): string {
  const want = s.wanted === 'none' ? 'none' : `${s.wanted} on ${s.interface} id ${s.syncId}`;
  if (s.applied === s.wanted) return `sync: ${want}`;
  if (s.failures > 0) return `sync: ${want}, FAILING (${s.failures} ${s.failures === 1 ? 'attempt' : 'attempts'})`;
  return `sync: ${want}, pending`;
}

function orDash(v: number | null): string {
  return v === null ? '-' : String(v);
}

function checkText(rs: RealServerStatusInfo, now: number): string {
  const c = rs.lastCheck;
  if (!c) return 'no check result';
  const latency = c.latencyMs === null ? '' : ` ${Math.round(c.latencyMs)} ms`;
  return `${c.ok ? 'ok' : 'FAIL'}${latency} ${formatDuration(now - c.at)} ago${c.message ? `: ${c.message}` : ''}`;
}

function lvskeepColumns(rs: RealServerStatusInfo, now: number): string {
  const status = rs.manual !== 'none' && !rs.status.startsWith('drain') && rs.status !== 'maintenance' ? `${rs.status}(${rs.manual})` : rs.status;
  return ` ${String(rs.configuredWeight).padEnd(6)} ${status.padEnd(11)} ${formatDuration(now - rs.statusSince).padEnd(7)} ${checkText(rs, now)}`;
}

function counters(kind: 'stats' | 'rate', st: StatsInfo | undefined): string {
  if (!st) return ` ${'-'.padStart(8)}`.repeat(5);
  const values = kind === 'stats' ? [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes] : [st.cps, st.inPps, st.outPps, st.inBps, st.outBps];
  return values.map((v) => ` ${String(v).padStart(8)}`).join('');
}

function serviceHead(vs: VirtualServerStatusInfo, kind: StatusKind): string {
  const flags = [vs.quorumUp ? 'quorum up' : 'QUORUM LOST', ...(vs.panic ? ['PANIC'] : []), ...(vs.sorryActive ? ['SORRY SERVER'] : [])].join(', ');
  const tail = `  [${vs.name}] ${flags}`;
  if (kind === 'plain') return `${serviceColumn(vs.id)} ${vs.scheduler}${tail}`;
  return `${serviceColumn(vs.id).padEnd(33)}${counters(kind, vs.stats)}${tail}`;
}

function destLine(rs: RealServerStatusInfo, kind: StatusKind, now: number): string {
  const head = `  -> ${rs.id.padEnd(28)}`;
  if (kind !== 'plain') return `${head}${counters(kind, rs.stats)}${lvskeepColumns(rs, now)}`;
  const fwd = FORWARD[rs.forwarding ?? ''] ?? rs.forwarding ?? '-';
  return `${head} ${fwd.padEnd(7)} ${orDash(rs.kernelWeight).padEnd(6)} ${orDash(rs.activeConns).padEnd(10)} ${orDash(rs.inactiveConns).padEnd(10)}${lvskeepColumns(rs, now)}`;
}

export function formatStatus(s: StatusResult, kind: StatusKind = 'plain'): string {
  const now = s.now;
  const lines = [`lvskeep ${s.version}, pid ${s.pid}, up ${formatDuration(now - s.startedAt)}`];

  lines.push('', 'VRRP');
  if (s.vrrp.length === 0) lines.push('  (no instances)');
  for (const v of s.vrrp) {
    const prio = v.basePriority === v.effectivePriority ? `${v.effectivePriority}` : `${v.effectivePriority} (base ${v.basePriority})`;
    const master = v.state === 'MASTER' ? 'this node' : (v.masterAddress ?? 'none heard');
    const sync = v.lvsSync ? `  [${lvsSyncText(v.lvsSync)}]` : '';
    lines.push(`  ${v.name.padEnd(16)} ${v.state.padEnd(7)} priority ${prio}, master ${master}, since ${formatDuration(now - v.lastChange.at)}: ${v.lastChange.reason}${sync}`);
    if (v.faultReasons.length > 0) lines.push(`  ${''.padEnd(16)} fault: ${v.faultReasons.join('; ')}`);
    if (v.lvsSync?.lastError !== undefined && v.lvsSync.applied !== v.lvsSync.wanted) lines.push(`  ${''.padEnd(16)} sync error: ${v.lvsSync.lastError}`);
    const vips = s.vips.filter((x) => x.instance === v.name);
    if (vips.length > 0) lines.push(`  ${''.padEnd(16)} VIPs: ${vips.map((x) => `${x.address} on ${x.interface}${x.held ? ' (held)' : ''}`).join(', ')}`);
  }

  lines.push('');
  if (kind === 'plain') {
    lines.push('Prot LocalAddress:Port Scheduler Flags');
    lines.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn  Conf   Status      Since   Last check');
  } else {
    const names = kind === 'stats' ? ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'] : ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];
    lines.push(`${'Prot LocalAddress:Port'.padEnd(33)}${names.map((n) => ` ${n.padStart(8)}`).join('')}`);
    lines.push(`${'  -> RemoteAddress:Port'.padEnd(33)}${' '.repeat(45)} Conf   Status      Since   Last check`);
  }
  for (const vs of s.virtualServers) {
    lines.push(serviceHead(vs, kind));
    for (const rs of vs.realServers) lines.push(destLine(rs, kind, now));
  }
  if (s.virtualServers.length === 0) lines.push('  (no virtual servers)');

  const failing = s.alerts.sinks.filter((x) => x.failing).map((x) => x.name);
  lines.push('', `Alerts pending: ${s.alerts.pending}${failing.length > 0 ? ` (delivery failing: ${failing.join(', ')})` : ''}`);
  return `${lines.join('\n')}\n`;
}
