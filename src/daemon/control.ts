/**
 * The daemon's answers on the control socket (src/control): status, step-down, drain/maintenance/enable, reload
 * and alert-test, each built from the running parts. Handlers throw ControlError to pick the error code.
 */
import type { Alerting } from '../alerts/index.js';
import type { LvskeepConfig } from '../config/types.js';
import { ControlError, type ControlHandlers, type StatusResult } from '../control/protocol.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import { destId, serviceId, type DestState, type ServiceState } from '../ipvs/model.js';
import type { ManualAction } from '../pool/types.js';
import { errorMessage } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { VrrpControl } from '../vrrp/runtime/manager.js';
import type { VrrpStateName } from '../vrrp/state-machine.js';
import type { HealthWiring } from './health-wiring.js';
import { rsId, vsId } from './ids.js';
import { NotFoundError, type PoolSet } from './pools.js';

export type ReloadOutcome = { ok: true; summary: string } | { ok: false; error: string };

export interface ControlContext {
  config(): LvskeepConfig;
  pools: PoolSet;
  health: HealthWiring;
  backend: IpvsBackend;
  vrrp(): VrrpControl | undefined;
  alerting(): Alerting | undefined;
  reload(source: string): Promise<ReloadOutcome>;
  /** An operator action was applied (state persistence records it). */
  onManual?(vs: string, realServers: readonly string[], action: ManualAction, reason: string): void;
  startedAt: number;
  now(): number;
}

const STATE_TEXT: Record<VrrpStateName, 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT'> = { Initialize: 'INIT', Backup: 'BACKUP', Master: 'MASTER', Fault: 'FAULT' };

function manual(ctx: ControlContext, action: ManualAction) {
  return (args: { vs: string; rs: string }): Promise<{ virtualServer: string; realServers: string[] }> => {
    const reason = `${action} by operator (control socket)`;
    try {
      const done = ctx.pools.manual(args.vs, args.rs, action, reason);
      ctx.onManual?.(done.id, done.realServers, action, reason);
      return Promise.resolve({ virtualServer: done.virtualServer, realServers: done.realServers });
    } catch (err) {
      throw new ControlError(err instanceof NotFoundError ? 'not-found' : 'failed', errorMessage(err));
    }
  };
}

async function status(ctx: ControlContext, withStats: boolean): Promise<StatusResult> {
  const config = ctx.config();
  let kernel: ServiceState[] = [];
  try {
    kernel = await ctx.backend.dump({ stats: withStats });
  } catch {
    kernel = []; // kernelWeight null says "not readable / not there"; status must answer even then
  }
  const services = new Map(kernel.map((s) => [serviceId(s.key), { service: s, dests: new Map<string, DestState>(s.dests.map((d) => [destId(d), d])) }]));
  const pools = new Map(ctx.pools.statuses().map((p) => [p.id, p]));
  const vrrp = ctx.vrrp()?.status() ?? [];
  const held = new Map(vrrp.map((v) => [v.name, v.holdingVips]));
  const sinks = Object.entries(ctx.alerting()?.dispatcher.stats() ?? {}).map(([name, s]) => ({ name, pending: s.queueDepth, failing: s.failing }));
  return {
    version: VERSION,
    pid: process.pid,
    startedAt: ctx.startedAt,
    now: ctx.now(),
    vrrp: vrrp.map((v) => ({
      name: v.name,
      state: STATE_TEXT[v.state],
      basePriority: v.basePriority,
      effectivePriority: v.effectivePriority,
      masterAddress: v.masterAddress ?? null,
      lastChange: v.lastChange,
      faultReasons: v.faultReasons,
      ...(v.lvsSync ? { lvsSync: v.lvsSync } : {}),
    })),
    vips: config.vrrp.instances.flatMap((i) =>
      i.virtual_ips.map((vip) => ({ instance: i.name, address: `${vip.address.address}/${vip.address.prefix}`, interface: vip.dev ?? i.interface, held: held.get(i.name) ?? false })),
    ),
    virtualServers: config.virtual_servers.map((vs) => {
      const id = vsId(vs);
      const pool = pools.get(id);
      const k = services.get(id);
      return {
        name: vs.name,
        id,
        scheduler: vs.scheduler,
        quorumUp: pool?.quorumUp ?? true,
        panic: pool?.panic ?? false,
        sorryActive: pool?.sorry ?? false,
        ...(withStats && k?.service.stats ? { stats: k.service.stats } : {}),
        realServers: vs.real_servers.map((rs) => {
          const r = rsId(rs);
          const p = pool?.servers.find((s) => s.id === r);
          const d = k?.dests.get(r);
          const last = ctx.health.lastResult(id, r);
          return {
            id: r,
            forwarding: rs.forwarding,
            configuredWeight: rs.weight,
            kernelWeight: d ? d.weight : null,
            status: p?.status ?? 'unknown',
            statusSince: p?.since ?? ctx.startedAt,
            manual: p?.manual ?? 'none',
            lastCheck: last ? { ok: last.ok, at: last.at, latencyMs: last.latencyMs, message: last.reason } : null,
            activeConns: d ? d.activeConns : null,
            inactiveConns: d ? d.inactiveConns : null,
            ...(withStats && d?.stats ? { stats: d.stats } : {}),
          };
        }),
      };
    }),
    alerts: { pending: sinks.reduce((n, s) => n + s.pending, 0), sinks },
  };
}

export function controlHandlers(ctx: ControlContext): ControlHandlers {
  return {
    status: (args) => status(ctx, args.stats === true),
    'step-down': (args) => {
      const vrrp = ctx.vrrp();
      const masters = (vrrp?.status() ?? []).filter((s) => s.state === 'Master' && (args.instance === undefined || s.name === args.instance)).map((s) => s.name);
      if (args.instance !== undefined && !(vrrp?.status() ?? []).some((s) => s.name === args.instance)) {
        throw new ControlError('not-found', `no VRRP instance ${args.instance}`);
      }
      vrrp?.stepDown(args.instance, 'operator request (control socket)');
      return Promise.resolve({ steppedDown: masters });
    },
    drain: manual(ctx, 'drain'),
    maintenance: manual(ctx, 'maintenance'),
    enable: manual(ctx, 'enable'),
    reload: async () => {
      const r = await ctx.reload('control socket');
      if (!r.ok) throw new ControlError('failed', r.error);
      return { summary: r.summary };
    },
    'alert-test': async (args) => {
      const alerting = ctx.alerting();
      if (!alerting) throw new ControlError('failed', 'alerting is not running');
      if (args.sink !== undefined && !alerting.dispatcher.sinkNames.includes(args.sink)) {
        throw new ControlError('not-found', `no alert sink named ${args.sink} (configured: ${alerting.dispatcher.sinkNames.join(', ') || 'none'})`);
      }
      const results = await alerting.dispatcher.sendTest(args.sink, 'sent by lvskeep alert test through the daemon');
      return { sinks: results.map((r) => (r.outcome.ok ? { name: r.sink, ok: true } : { name: r.sink, ok: false, error: r.outcome.error })) };
    },
  };
}
