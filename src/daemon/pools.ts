/**
 * The daemon's pools: one pool policy (src/pool) per virtual service, fed with health transitions and operator
 * actions, ticked when time alone changes something (slow start, flap hold, drain timeout), and read back as
 * the desired IPVS table. A real server can be pinned to the weight the kernel had when lvskeep started, until
 * its first check result, so that a restart never changes a working pool on assumptions.
 */
import { findRealServer, findVirtualServer } from '../config/cross-check.js';
import type { VirtualServerConfig } from '../config/types.js';
import type { DesiredService } from '../ipvs/model.js';
import { Pool } from '../pool/pool.js';
import type { PoolStep } from '../pool/policy.js';
import type { Health, ManualAction, ManualState, PoolEvent, PoolInput, RealServerStatus } from '../pool/types.js';
import { desiredTable } from './desired-table.js';
import { endpointId, rsId, vsId } from './ids.js';
import { poolConfigOf } from '../pool/from-config.js';

export interface PoolTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface InitialServer {
  health: Health;
  /** Keep this weight until the first check result (the kernel's weight at start). */
  pin?: number;
}

export interface PoolSetOptions {
  timers: PoolTimers;
  /** Events of one step of one pool, in order; `name` is the virtual server's configured name. */
  onEvents(name: string, events: PoolEvent[]): void;
  /** Some desired weight changed. */
  onChange(): void;
}

interface Entry {
  vs: VirtualServerConfig;
  id: string;
  pool: Pool;
  pins: Map<string, number>;
  tick?: unknown;
  tickAt?: number;
  /** Desired weights as last computed, to tell whether a step changed anything. */
  last: string;
}

export interface ReconfigureResult {
  added: string[];
  removed: string[];
  kept: string[];
}

/** An operator named a virtual or real server that is not configured. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class PoolSet {
  private entries = new Map<string, Entry>();
  private order: VirtualServerConfig[] = [];

  constructor(private readonly opts: PoolSetOptions) {}

  /**
   * Apply a (new) list of virtual servers. Pools of services that remain keep every real server's state;
   * `initial` is asked only about real servers that are new.
   */
  configure(virtualServers: readonly VirtualServerConfig[], initial: (vs: string, rs: string) => InitialServer): ReconfigureResult {
    const next = new Map<string, Entry>();
    const result: ReconfigureResult = { added: [], removed: [], kept: [] };
    for (const vs of virtualServers) {
      const id = vsId(vs);
      // Events name services by their IPVS id (`tcp 203.0.113.1:80`), like the reconciler and alerts do.
      const cfg = { ...poolConfigOf(vs), virtualServer: id };
      const old = this.entries.get(id);
      const fresh: Record<string, Health> = {};
      const pins = new Map<string, number>();
      for (const rs of vs.real_servers) {
        const r = rsId(rs);
        const kept = old?.pool.state.servers[r] !== undefined;
        const oldPin = old?.pins.get(r);
        if (kept) {
          if (oldPin !== undefined) pins.set(r, oldPin);
          continue;
        }
        const init = initial(id, r);
        fresh[r] = init.health;
        if (init.pin !== undefined) pins.set(r, init.pin);
      }
      if (old) {
        this.clearTick(old);
        const entry: Entry = { vs, id, pool: old.pool, pins, last: old.last };
        next.set(id, entry);
        result.kept.push(id);
        this.after(entry, old.pool.reconfigure(cfg, fresh));
      } else {
        const entry: Entry = { vs, id, pool: new Pool(cfg, fresh, { now: () => this.opts.timers.now() }), pins, last: '' };
        entry.last = this.weightsText(entry);
        next.set(id, entry);
        result.added.push(id);
      }
    }
    for (const [id, old] of this.entries) {
      if (next.has(id)) continue;
      this.clearTick(old);
      result.removed.push(id);
    }
    this.entries = next;
    this.order = [...virtualServers];
    return result;
  }

  /** A health transition (or the first verdict) of one real server. */
  health(vs: string, rs: string, health: Health, reason: string, weight?: number): void {
    const input: PoolInput = { kind: 'health', realServer: rs, health, reason };
    if (weight !== undefined) input.weight = weight;
    this.input(vs, input);
  }

  /** The first check result arrived: the real server leaves the kernel's weight for the pool's. */
  unpin(vs: string, rs: string): void {
    const e = this.entries.get(vs);
    if (!e || !e.pins.delete(rs)) return;
    this.changed(e);
  }

  /** Operator action on a virtual server (by name or address) and one of its real servers, or all of them. */
  manual(vsRef: string, rsRef: string | undefined, action: ManualAction, reason: string): { virtualServer: string; id: string; realServers: string[] } {
    const vs = findVirtualServer(this.order, vsRef) ?? this.order.find((v) => vsId(v) === vsRef);
    if (!vs) throw new NotFoundError(`no virtual server ${vsRef}`);
    const e = this.entries.get(vsId(vs));
    if (!e) throw new Error(`no pool for virtual server ${vsRef}`);
    let targets: string[];
    if (rsRef === undefined) targets = vs.real_servers.map(rsId);
    else {
      const ep = findRealServer(vs, rsRef);
      if (!ep) throw new NotFoundError(`virtual server ${vs.name} has no real server ${rsRef}`);
      targets = [endpointId(ep)];
    }
    // An operator's word ends the wait for the first check result.
    for (const rs of targets) e.pins.delete(rs);
    for (const rs of targets) this.input(e.id, { kind: 'manual', realServer: rs, action, reason });
    return { virtualServer: vs.name, id: e.id, realServers: targets };
  }

  table(): DesiredService[] {
    // One desired() per pool, not per real server: pools can hold thousands of servers.
    const weights = new Map<string, Map<string, number>>();
    for (const [id, e] of this.entries) weights.set(id, this.weights(e));
    return desiredTable(this.order, {
      weight: (vs, rs) => weights.get(vs)?.get(rs) ?? null,
      sorryOn: (vs) => this.entries.get(vs)?.pool.state.sorryActive ?? false,
    });
  }

  /** The weight a real server should have now, or undefined when it is out of the table. */
  weightOf(vs: string, rs: string): number | undefined {
    const e = this.entries.get(vs);
    return e ? this.weights(e).get(rs) : undefined;
  }

  /** Every weight of one pool (real server id -> weight), computed once: weightOf per server is O(pool) each. */
  weightsOf(vs: string): ReadonlyMap<string, number> | undefined {
    const e = this.entries.get(vs);
    return e ? this.weights(e) : undefined;
  }

  private weights(e: Entry): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of e.pool.desired()) if (!d.sorry) out.set(d.id, d.weight);
    for (const [rs, w] of e.pins) out.set(rs, w);
    return out;
  }

  /** The pool status of each real server of one virtual service (read-only view, no copy), or undefined. */
  statusesOf(vs: string): ReadonlyMap<string, RealServerStatus> | undefined {
    const e = this.entries.get(vs);
    if (!e) return undefined;
    const out = new Map<string, RealServerStatus>();
    for (const id in e.pool.state.servers) {
      const s = e.pool.state.servers[id];
      if (s) out.set(id, s.status);
    }
    return out;
  }

  /** Status of every real server, for digests and status output. */
  statuses(): { id: string; name: string; quorumUp: boolean; panic: boolean; sorry: boolean; servers: { id: string; status: RealServerStatus; since: number; manual: ManualState }[] }[] {
    return [...this.entries.values()].map((e) => ({
      id: e.id,
      name: e.vs.name,
      quorumUp: e.pool.state.quorumUp,
      panic: e.pool.state.panic,
      sorry: e.pool.state.sorryActive,
      servers: Object.entries(e.pool.state.servers).map(([id, s]) => ({ id, status: s.status, since: s.statusSince, manual: s.manual })),
    }));
  }

  /** Real servers waiting for their connections to end, by (virtual service, real server) id. */
  draining(): { vs: string; rs: string }[] {
    const out: { vs: string; rs: string }[] = [];
    for (const e of this.entries.values()) {
      for (const [rs, s] of Object.entries(e.pool.state.servers)) if (s.status === 'draining') out.push({ vs: e.id, rs });
    }
    return out;
  }

  /** ActiveConn of a destination as the kernel reports it (ends a drain at 0). */
  activeConns(vs: string, rs: string, activeConns: number): void {
    this.input(vs, { kind: 'active-conns', realServer: rs, activeConns });
  }

  stop(): void {
    for (const e of this.entries.values()) this.clearTick(e);
  }

  private input(vs: string, input: PoolInput): void {
    const e = this.entries.get(vs);
    if (!e) return;
    this.clearTick(e);
    this.after(e, e.pool.apply(input));
  }

  private after(e: Entry, step: PoolStep): void {
    if (step.events.length > 0) this.opts.onEvents(e.vs.name, step.events);
    if (step.nextChangeAt !== undefined) this.scheduleTick(e, step.nextChangeAt);
    this.changed(e);
  }

  private changed(e: Entry): void {
    const now = this.weightsText(e);
    if (now === e.last) return;
    e.last = now;
    this.opts.onChange();
  }

  private weightsText(e: Entry): string {
    const parts = e.pool.desired().map((d) => `${d.id}=${e.pins.get(d.id) ?? d.weight}${d.sorry ? 's' : ''}`);
    for (const [rs, w] of e.pins) parts.push(`pin ${rs}=${w}`);
    return parts.join(',');
  }

  private scheduleTick(e: Entry, at: number): void {
    const delay = Math.max(0, at - this.opts.timers.now());
    e.tickAt = at;
    e.tick = this.opts.timers.setTimeout(() => {
      e.tick = undefined;
      if (this.entries.get(e.id) === e) this.input(e.id, { kind: 'tick' });
    }, delay);
  }

  private clearTick(e: Entry): void {
    if (e.tick !== undefined) this.opts.timers.clearTimeout(e.tick);
    e.tick = undefined;
  }
}
