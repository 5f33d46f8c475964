/**
 * One health check per configured real server that has one, on a single HealthMonitor, reporting first
 * results and up/down transitions by (virtual service, real server) id. `sync` applies a configuration as a
 * diff: unchanged checks keep running with their state; a changed check restarts from the status it had.
 */
import type { CheckConfig, RealServerConfig, VirtualServerConfig } from '../config/types.js';
import { HealthMonitor, type MonitorOptions } from '../health/monitor.js';
import type { HealthState } from '../health/state.js';
import type { HealthStatus, ProbeResult } from '../health/types.js';
import { realTimers } from '../health/scheduler.js';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { checkSpecOf, checkTargetOf, type ConfigLookups } from '../health/from-config.js';
import { checkId, rsId, vsId } from './ids.js';

export interface HealthWiringOptions {
  monitor: Omit<MonitorOptions, 'onResult' | 'onTransition' | 'onError'>;
  lookups?: ConfigLookups;
  logger: Logger;
  /** The first result of a check since it was added (the end of its assumption). */
  onFirstResult(vs: string, rs: string, state: HealthState): void;
  /** Every check result (metrics). */
  onCheckResult?(vs: string, rs: string, type: string, result: ProbeResult): void;
  /** The real server's health changed (also for a dynamic weight change, with the same status). */
  onHealth(vs: string, rs: string, health: HealthStatus, reason: string, weight?: number): void;
}

interface Running {
  vs: string;
  rs: string;
  /** The effective check as configured, serialized: equal text = unchanged check. */
  key: string;
  type: string;
  seen: boolean;
  weight?: number;
  last?: LastResult;
}

/** The latest check result of one real server, for status output. */
export interface LastResult {
  ok: boolean;
  at: number;
  latencyMs: number;
  reason: string;
}

export interface SyncResult {
  added: string[];
  removed: string[];
  restarted: string[];
  kept: string[];
}

export class HealthWiring {
  private readonly monitor: HealthMonitor;
  private readonly running = new Map<string, Running>();

  constructor(private readonly opts: HealthWiringOptions) {
    this.monitor = new HealthMonitor({
      ...opts.monitor,
      onResult: (id, result, state) => this.onResult(id, result, state),
      onTransition: (id, t, state) => {
        const r = this.running.get(id);
        if (r) this.opts.onHealth(r.vs, r.rs, t.to, t.reason, state.weight);
      },
      onError: (id, where, err) => opts.logger.error({ check: id, where, err: errorMessage(err) }, 'health check callback failed'),
    });
  }

  /**
   * Make the running checks match `virtualServers`. `assume(vs, rs)` gives the starting status of a check that is
   * new (else the check's own `assume`); a restarted check starts from the status it had. Throws (naming the
   * real server) only while building specs, before anything is changed.
   */
  async sync(virtualServers: readonly VirtualServerConfig[], assume: (vs: string, rs: string) => HealthStatus | undefined): Promise<SyncResult> {
    const wanted = new Map<string, { vs: string; rs: string; vsConfig: VirtualServerConfig; rsConfig: RealServerConfig; check: CheckConfig; key: string }>();
    for (const vs of virtualServers) {
      const v = vsId(vs);
      for (const rs of vs.real_servers) {
        if (!rs.check) continue;
        const r = rsId(rs);
        wanted.set(checkId(v, r), { vs: v, rs: r, vsConfig: vs, rsConfig: rs, check: rs.check, key: JSON.stringify(rs.check) });
      }
    }
    const result: SyncResult = { added: [], removed: [], restarted: [], kept: [] };
    const starts: { id: string; w: NonNullable<ReturnType<typeof wanted.get>>; from?: HealthStatus }[] = [];
    for (const [id, w] of wanted) {
      const current = this.running.get(id);
      if (current && current.key === w.key) {
        result.kept.push(id);
        continue;
      }
      if (current) {
        result.restarted.push(id);
        starts.push({ id, w, from: this.monitor.state(id)?.status });
      } else {
        result.added.push(id);
        starts.push({ id, w });
      }
    }
    // Build every spec first so that a bad one (unreadable CA file, no port) changes nothing.
    const specs = starts.map((s) => {
      const spec = checkSpecOf(s.w.vsConfig, s.w.rsConfig, s.w.check, this.opts.lookups);
      return { ...s, spec: { ...spec, assume: s.from ?? assume(s.w.vs, s.w.rs) ?? spec.assume } };
    });

    for (const id of [...this.running.keys()]) {
      if (wanted.has(id)) continue;
      result.removed.push(id);
      this.running.delete(id);
      await this.monitor.remove(id);
    }
    for (const s of specs) {
      if (this.running.has(s.id)) {
        this.running.delete(s.id);
        await this.monitor.remove(s.id);
      }
      this.running.set(s.id, { vs: s.w.vs, rs: s.w.rs, key: s.w.key, type: s.w.check.type, seen: false });
      this.monitor.add({ id: s.id, spec: s.spec, target: checkTargetOf(s.w.vsConfig, s.w.rsConfig) });
    }
    return result;
  }

  /** Whether a real server has a running check. */
  has(vs: string, rs: string): boolean {
    return this.running.has(checkId(vs, rs));
  }

  lastResult(vs: string, rs: string): LastResult | undefined {
    return this.running.get(checkId(vs, rs))?.last;
  }

  state(vs: string, rs: string): HealthState | undefined {
    return this.monitor.state(checkId(vs, rs));
  }

  start(): void {
    this.monitor.start();
  }

  async stop(): Promise<void> {
    await this.monitor.stop();
  }

  stats(): ReturnType<HealthMonitor['stats']> {
    return this.monitor.stats();
  }

  private onResult(id: string, result: ProbeResult, state: HealthState): void {
    const r = this.running.get(id);
    if (!r) return;
    r.last = { ok: result.ok, at: (this.opts.monitor.timers ?? realTimers).now(), latencyMs: result.latencyMs, reason: result.reason };
    this.opts.onCheckResult?.(r.vs, r.rs, r.type, result);
    if (!r.seen) {
      r.seen = true;
      this.opts.onFirstResult(r.vs, r.rs, state);
    }
    // A dynamic weight (script check) can change while the status stays the same.
    if (state.weight !== undefined && state.weight !== r.weight) {
      r.weight = state.weight;
      this.opts.onHealth(r.vs, r.rs, state.status, state.lastReason, state.weight);
    }
  }
}
