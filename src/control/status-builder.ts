/**
 * The `status` result assembled from what the daemon's parts already report (VRRP manager, pools, health
 * checks, the kernel table, alerting). Pure, and typed structurally against small shapes, so the daemon's
 * handler is a few lines and this mapping is tested without a daemon.
 */
import type { VrrpState } from '../events/types.js';
import { destId, serviceId, type ServiceState } from '../ipvs/model.js';
import type { RealServerStatusInfo, StatsInfo, StatusResult, VirtualServerStatusInfo } from './protocol.js';

/** What VrrpManager.status() returns per instance (src/vrrp/runtime/instance.ts), the fields used here. */
export interface VrrpInstanceView {
  name: string;
  state: 'Initialize' | 'Backup' | 'Master' | 'Fault';
  basePriority: number;
  effectivePriority: number;
  masterAddress?: string;
  holdingVips: boolean;
  faultReasons: string[];
  lastChange: { at: number; reason: string };
}

/** A configured virtual server, with ids as the daemon keys them (vsId / rsId of src/daemon/ids.ts). */
export interface VirtualServerView {
  name: string;
  id: string;
  scheduler: string;
  realServers: readonly { id: string; weight: number; forwarding?: string }[];
}

/** What PoolSet.statuses() returns per virtual server (src/daemon/pools.ts). */
export interface PoolView {
  id: string;
  quorumUp: boolean;
  panic: boolean;
  sorry: boolean;
  servers: readonly { id: string; status: string; since: number }[];
}

export interface LastCheckView {
  ok: boolean;
  at: number;
  latencyMs: number;
  reason: string;
}

export interface StatusInputs {
  version: string;
  pid: number;
  startedAt: number;
  now: number;
  vrrp: readonly VrrpInstanceView[];
  /** Configured VIPs per instance (address without prefix or with, as the operator wrote it). */
  vips: readonly { instance: string; address: string; interface: string }[];
  virtualServers: readonly VirtualServerView[];
  pools: readonly PoolView[];
  /** The kernel table as last dumped; undefined when it could not be read (weights and counters show as unknown). */
  kernel?: readonly ServiceState[];
  /** Include packet/byte counters and rates (the kernel dump must have been made with stats). */
  withStats: boolean;
  lastCheck(virtualServerId: string, realServerId: string): LastCheckView | undefined;
  alerts: { pending: number; sinks?: readonly { name: string; pending: number; failing: boolean }[] };
}

const VRRP_STATE: Record<VrrpInstanceView['state'], VrrpState> = { Initialize: 'INIT', Backup: 'BACKUP', Master: 'MASTER', Fault: 'FAULT' };

/** The operator state a pool status implies. */
function manualOf(status: string): RealServerStatusInfo['manual'] {
  if (status === 'draining' || status === 'drained') return 'drain';
  if (status === 'maintenance') return 'maintenance';
  return 'none';
}

function statsOf(s: StatsInfo | undefined, want: boolean): { stats?: StatsInfo } {
  return want && s ? { stats: { ...s } } : {};
}

export function buildStatus(inp: StatusInputs): StatusResult {
  const kernel = new Map((inp.kernel ?? []).map((s) => [serviceId(s.key), s]));
  const pools = new Map(inp.pools.map((p) => [p.id, p]));
  const holding = new Map(inp.vrrp.map((v) => [v.name, v.holdingVips]));

  const virtualServers: VirtualServerStatusInfo[] = inp.virtualServers.map((vs) => {
    const k = kernel.get(vs.id);
    const dests = new Map((k?.dests ?? []).map((d) => [destId(d), d]));
    const pool = pools.get(vs.id);
    const poolServers = new Map((pool?.servers ?? []).map((s) => [s.id, s]));
    const realServers: RealServerStatusInfo[] = vs.realServers.map((rs) => {
      const d = dests.get(rs.id);
      const p = poolServers.get(rs.id);
      const last = inp.lastCheck(vs.id, rs.id);
      const status = p?.status ?? 'unknown';
      const forwarding = d?.forwarding ?? rs.forwarding;
      return {
        id: rs.id,
        ...(forwarding !== undefined ? { forwarding } : {}),
        configuredWeight: rs.weight,
        kernelWeight: d ? d.weight : null,
        status,
        statusSince: p?.since ?? inp.startedAt,
        manual: manualOf(status),
        lastCheck: last ? { ok: last.ok, at: last.at, latencyMs: last.latencyMs, message: last.reason } : null,
        activeConns: d ? d.activeConns : null,
        inactiveConns: d ? d.inactiveConns : null,
        ...statsOf(d?.stats, inp.withStats),
      };
    });
    return {
      name: vs.name,
      id: vs.id,
      scheduler: k?.scheduler ?? vs.scheduler,
      quorumUp: pool?.quorumUp ?? false,
      panic: pool?.panic ?? false,
      sorryActive: pool?.sorry ?? false,
      realServers,
      ...statsOf(k?.stats, inp.withStats),
    };
  });

  return {
    version: inp.version,
    pid: inp.pid,
    startedAt: inp.startedAt,
    now: inp.now,
    vrrp: inp.vrrp.map((v) => ({
      name: v.name,
      state: VRRP_STATE[v.state],
      basePriority: v.basePriority,
      effectivePriority: v.effectivePriority,
      masterAddress: v.masterAddress ?? null,
      lastChange: { ...v.lastChange },
      faultReasons: [...v.faultReasons],
    })),
    vips: inp.vips.map((x) => ({ ...x, held: holding.get(x.instance) ?? false })),
    virtualServers,
    alerts: { pending: inp.alerts.pending, sinks: (inp.alerts.sinks ?? []).map((s) => ({ ...s })) },
  };
}
