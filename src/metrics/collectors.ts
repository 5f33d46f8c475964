/**
 * Scrape-time collectors: gauges and counters read from live components through small interfaces (so this
 * module depends on shapes, not on the components' internals). A source that throws or, for async ones, does
 * not answer within `timeoutMs` leaves its series out of that scrape and counts
 * lvskeep_metrics_collect_errors_total{source}; the scrape itself always succeeds.
 */
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import {
  ALERT_DELIVERY_RESULTS,
  ALERT_DROP_REASONS,
  CHECK_RESULTS,
  healthUpOf,
  REAL_SERVER_STATES,
  realServerStateLabel,
  VRRP_STATES,
  vrrpDropReasonLabel,
  vrrpStateLabel,
  WEIGHT_KINDS,
  type WeightKind,
} from './labels.js';
import { checkTargetKey, setCollect, type Metrics } from './registry.js';
import { CumulativeDeltas, setStateSet } from './series.js';

/** What a VRRP instance reports (src/vrrp/runtime/instance.ts VrrpInstanceStatus satisfies it). */
export interface VrrpStatusLike {
  name: string;
  /** `Initialize`/`Backup`/`Master`/`Fault` or `INIT`/`BACKUP`/`MASTER`/`FAULT`. */
  state: string;
  effectivePriority: number;
  counters: {
    advertsSent: number;
    advertsReceived: number;
    drops: Partial<Record<string, number>>;
  };
}

/** Per-sink counters (src/alerts/dispatcher.ts SinkStats satisfies it). */
export interface SinkStatsLike {
  delivered: number;
  skipped: number;
  retries: number;
  droppedQueueFull: number;
  droppedFailed: number;
  queueDepth: number;
}

export interface AlertStatsSource {
  stats(): Record<string, SinkStatsLike>;
}

export interface RealServerSnapshot {
  virtualServer: string;
  realServer: string;
  /** Pool status (src/pool/types.ts RealServerStatus). */
  state: string;
  /** The health check's verdict; derived from `state` when absent. */
  health?: 'up' | 'down';
  /** A weight that is not known (not in the kernel table, not configured) is left out or undefined. */
  weights?: Partial<Record<WeightKind, number | undefined>>;
}

export interface MetricSources {
  vrrpStatus?: () => readonly VrrpStatusLike[];
  /** The current dispatcher (it is replaced when the alert sinks are reloaded), or undefined. */
  alerts?: () => AlertStatsSource | undefined;
  /** May be async (kernel weights need a dump); bounded by `timeoutMs`. */
  realServers?: () => readonly RealServerSnapshot[] | Promise<readonly RealServerSnapshot[]>;
}

export interface CollectorOptions {
  logger?: Logger;
  /** Longest wait for an async source; default 2000 ms. */
  timeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function attachCollectors(m: Metrics, sources: MetricSources, opts: CollectorOptions = {}): void {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const fail = (source: string, err: unknown): void => {
    m.collectErrors.inc({ source });
    opts.logger?.warn({ source, err: errorMessage(err) }, 'metrics source failed during a scrape');
  };
  /** Runs `fn` with the source's value, or counts the failure; `reset` runs first so a failure leaves no stale series. */
  const guarded = <T>(source: string, read: () => T, fn: (value: T) => void, reset?: () => void): (() => void) => () => {
    reset?.();
    let value: T;
    try {
      value = read();
    } catch (err) {
      fail(source, err);
      return;
    }
    try {
      fn(value);
    } catch (err) {
      fail(source, err);
    }
  };

  if (sources.vrrpStatus) attachVrrp(m, sources.vrrpStatus, guarded);
  if (sources.alerts) attachAlerts(m, sources.alerts, guarded);
  const pending = sources.realServers ? attachRealServers(m, sources.realServers, timeoutMs, fail) : undefined;
  for (const [source, given] of [['vrrp', sources.vrrpStatus], ['alerts', sources.alerts], ['real_servers', sources.realServers]] as const) {
    if (given) m.collectErrors.inc({ source }, 0);
  }
  // The error counter is serialised last; waiting for the async read lets a failure show in the same scrape.
  if (pending) setCollect(m.collectErrors, async () => void (await pending()));
}

type Guard = <T>(source: string, read: () => T, fn: (value: T) => void, reset?: () => void) => () => void;

function attachVrrp(m: Metrics, status: () => readonly VrrpStatusLike[], guarded: Guard): void {
  const sent = new CumulativeDeltas();
  const received = new CumulativeDeltas();
  const dropped = new CumulativeDeltas();
  const v = m.vrrp;
  setCollect(v.state, guarded('vrrp', status, (list) => {
    for (const s of list) {
      const state = vrrpStateLabel(s.state);
      if (state) setStateSet(v.state, { instance: s.name }, VRRP_STATES, state);
    }
  }, () => v.state.reset()));
  setCollect(v.effectivePriority, guarded('vrrp', status, (list) => {
    for (const s of list) if (Number.isFinite(s.effectivePriority)) v.effectivePriority.set({ instance: s.name }, s.effectivePriority);
  }, () => v.effectivePriority.reset()));
  setCollect(v.advertsSent, guarded('vrrp', status, (list) => {
    for (const s of list) v.advertsSent.inc({ instance: s.name }, sent.delta(s.name, s.counters.advertsSent));
  }));
  setCollect(v.advertsReceived, guarded('vrrp', status, (list) => {
    for (const s of list) v.advertsReceived.inc({ instance: s.name }, received.delta(s.name, s.counters.advertsReceived));
  }));
  setCollect(v.advertsDropped, guarded('vrrp', status, (list) => {
    for (const s of list) {
      for (const [reason, count] of Object.entries(s.counters.drops)) {
        // Keyed by the raw reason so that two unknown reasons folded into `other` keep separate baselines.
        const d = dropped.delta(`${s.name}\0${reason}`, count ?? 0);
        v.advertsDropped.inc({ instance: s.name, reason: vrrpDropReasonLabel(reason) }, d);
      }
    }
  }));
}

function attachAlerts(m: Metrics, current: () => AlertStatsSource | undefined, guarded: Guard): void {
  // Baselines per dispatcher object: a reloaded dispatcher starts from zero and is a new source, not a reset.
  const baselines = new WeakMap<AlertStatsSource, CumulativeDeltas>();
  const deltasOf = (d: AlertStatsSource): CumulativeDeltas => {
    let b = baselines.get(d);
    if (!b) baselines.set(d, (b = new CumulativeDeltas()));
    return b;
  };
  const read = (): { deltas: CumulativeDeltas; stats: Record<string, SinkStatsLike> } | undefined => {
    const d = current();
    return d ? { deltas: deltasOf(d), stats: d.stats() } : undefined;
  };
  const a = m.alerts;
  const field: Record<(typeof ALERT_DELIVERY_RESULTS)[number], keyof SinkStatsLike> = {
    delivered: 'delivered', skipped: 'skipped', failed: 'droppedFailed', retried: 'retries',
  };
  const dropField: Record<(typeof ALERT_DROP_REASONS)[number], keyof SinkStatsLike> = { queue_full: 'droppedQueueFull', delivery_failed: 'droppedFailed' };
  // Both counters read the same cumulative fields (droppedFailed), so their baselines are kept apart by prefix.
  setCollect(a.deliveries, guarded('alerts', read, (r) => {
    if (!r) return;
    for (const [sink, s] of Object.entries(r.stats)) {
      for (const result of ALERT_DELIVERY_RESULTS) a.deliveries.inc({ sink, result }, r.deltas.delta(`d\0${sink}\0${result}`, s[field[result]]));
    }
  }));
  setCollect(a.dropped, guarded('alerts', read, (r) => {
    if (!r) return;
    for (const [sink, s] of Object.entries(r.stats)) {
      for (const reason of ALERT_DROP_REASONS) a.dropped.inc({ sink, reason }, r.deltas.delta(`x\0${sink}\0${reason}`, s[dropField[reason]]));
    }
  }));
  setCollect(a.queueLength, guarded('alerts', read, (r) => {
    for (const [sink, s] of Object.entries(r?.stats ?? {})) a.queueLength.set({ sink }, s.queueDepth);
  }, () => a.queueLength.reset()));
}

function attachRealServers(
  m: Metrics,
  source: NonNullable<MetricSources['realServers']>,
  timeoutMs: number,
  fail: (source: string, err: unknown) => void,
): () => Promise<unknown> {
  const r = m.realServers;
  // This source owns the real-server gauges now: event-driven values would be overwritten at every scrape.
  r.eventDriven = false;
  /**
   * What the gauges hold per real server, so that a scrape only touches the series of servers whose state or
   * weights changed (10,000 servers are 120,000 series; most scrapes change a handful).
   */
  interface Row {
    vs: string;
    rs: string;
    up: number;
    state: string;
    weights: (number | undefined)[];
    seen: number;
  }
  const rows = new Map<string, Row>();
  let generation = 0;
  const dropRow = (row: Row): void => {
    r.up.remove({ virtual_server: row.vs, real_server: row.rs });
    for (const state of REAL_SERVER_STATES) r.state.remove({ virtual_server: row.vs, real_server: row.rs, state });
    for (const kind of WEIGHT_KINDS) r.weight.remove({ virtual_server: row.vs, real_server: row.rs, kind });
  };
  /** Brings the three gauges to `list` (undefined: the read failed, no series at all). */
  const apply = (list: readonly RealServerSnapshot[] | undefined): void => {
    if (!list || generation === 0) {
      // A failed read leaves no stale series; the first read replaces whatever events set before it.
      r.up.reset();
      r.state.reset();
      r.weight.reset();
      rows.clear();
      if (!list) return;
    }
    const gen = ++generation;
    for (const s of list) {
      const { virtualServer: vs, realServer: rs } = s;
      const key = checkTargetKey(vs, rs);
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { vs, rs, up: -1, state: '', weights: WEIGHT_KINDS.map(() => undefined), seen: gen }));
      row.seen = gen;
      const up = (s.health !== undefined ? s.health === 'up' : healthUpOf(s.state)) ? 1 : 0;
      if (row.up !== up) {
        r.up.setValues([vs, rs], up);
        row.up = up;
      }
      const current = realServerStateLabel(s.state);
      if (row.state !== current) {
        for (const state of REAL_SERVER_STATES) r.state.setValues([vs, rs, state], state === current ? 1 : 0);
        row.state = current;
      }
      WEIGHT_KINDS.forEach((kind, i) => {
        const given = s.weights?.[kind];
        const w = given !== undefined && Number.isFinite(given) ? given : undefined;
        if (Object.is(row.weights[i], w)) return;
        if (w === undefined) r.weight.remove({ virtual_server: vs, real_server: rs, kind });
        else r.weight.setValues([vs, rs, kind], w);
        row.weights[i] = w;
      });
    }
    for (const [key, row] of rows) {
      if (row.seen === gen) continue;
      rows.delete(key);
      dropRow(row);
    }
  };
  // The gauges are collected concurrently within one scrape (and concurrent scrapes overlap); they share one
  // read of the source, applied once.
  let inFlight: Promise<readonly RealServerSnapshot[] | undefined> | undefined;
  const snapshot = (): Promise<readonly RealServerSnapshot[] | undefined> => {
    inFlight ??= withTimeout(Promise.resolve().then(source), timeoutMs, 'real servers')
      .catch((err: unknown) => {
        fail('real_servers', err);
        return undefined;
      })
      .then((list) => {
        try {
          apply(list);
        } catch (err) {
          fail('real_servers', err);
          apply(undefined);
          return undefined;
        }
        return list;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  setCollect(r.up, async () => void (await snapshot()));
  setCollect(r.state, async () => void (await snapshot()));
  setCollect(r.weight, async () => void (await snapshot()));
  // Check-result counters of real servers that left the configuration are dropped, keeping cardinality bounded.
  setCollect(m.checks.results, async () => {
    const list = await snapshot();
    if (!list) return;
    for (const [key, t] of m.checks.targets) {
      if (rows.has(key)) continue;
      m.checks.targets.delete(key);
      for (const result of CHECK_RESULTS) m.checks.results.remove({ virtual_server: t.virtualServer, real_server: t.realServer, result });
    }
  });
  /** The read of the current scrape, if one is under way (it never rejects). */
  return () => inFlight ?? Promise.resolve();
}
