/**
 * Every lvskeep metric, on a registry of its own (never prom-client's global one, so two daemons in one test
 * process, or a library user's own metrics, never collide). Names carry the `lvskeep_` prefix and their unit
 * (`_seconds`, `_total`); label values that are not config-defined names go through labels.ts first.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../version.js';
import { LOOP_DELAY_STATS } from './labels.js';
import { LvskeepRegistry, SeriesTable } from './table.js';

export interface MetricsOptions {
  /** Reported in lvskeep_build_info; defaults to the package version. */
  version?: string;
  /** Node's process metrics (CPU, memory, fds, GC, event loop), prefixed `lvskeep_`; default on. */
  defaultMetrics?: boolean;
  /** Sampling resolution of the event-loop delay monitor (ms); default 10. */
  eventLoopResolutionMs?: number;
}

/** Health checks answer in milliseconds to seconds; a timeout is at most tens of seconds. */
const CHECK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** VRRP adverts are 1 s apart by default: lateness that matters starts at tens of ms, a failover at ~3 s. */
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** A pass is one dump plus a few operations; thousands of real servers take seconds. */
const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function createHandles(registry: Registry) {
  const registers = [registry];
  return {
    vrrp: {
      /** 1 for the instance's current state, 0 for the other three (one series per state, the idiomatic enum). */
      state: new Gauge({ name: 'lvskeep_vrrp_state', help: 'VRRP instance state: 1 for the current state, 0 for the others.', labelNames: ['instance', 'state'] as const, registers }),
      transitions: new Counter({ name: 'lvskeep_vrrp_transitions_total', help: 'VRRP state transitions.', labelNames: ['instance', 'from', 'to'] as const, registers }),
      advertsSent: new Counter({ name: 'lvskeep_vrrp_adverts_sent_total', help: 'VRRP advertisements sent.', labelNames: ['instance'] as const, registers }),
      advertsReceived: new Counter({ name: 'lvskeep_vrrp_adverts_received_total', help: 'Valid VRRP advertisements received.', labelNames: ['instance'] as const, registers }),
      advertsDropped: new Counter({ name: 'lvskeep_vrrp_adverts_dropped_total', help: 'VRRP advertisements dropped, by reason.', labelNames: ['instance', 'reason'] as const, registers }),
      timerLateness: new Histogram({ name: 'lvskeep_vrrp_timer_lateness_seconds', help: 'How late VRRP runtime timers fired after their deadline.', buckets: LATENESS_BUCKETS, registers }),
      effectivePriority: new Gauge({ name: 'lvskeep_vrrp_effective_priority', help: 'VRRP priority after tracking adjustments (0..255).', labelNames: ['instance'] as const, registers }),
    },
    checks: {
      // One series per real server and result: a SeriesTable (table.ts), not a prom-client Counter.
      results: new SeriesTable({ name: 'lvskeep_check_results_total', help: 'Health check results (after retries), by outcome class.', type: 'counter', labelNames: ['virtual_server', 'real_server', 'result'] as const, registers }),
      duration: new Histogram({ name: 'lvskeep_check_duration_seconds', help: 'Health check duration (after retries).', labelNames: ['virtual_server', 'type'] as const, buckets: CHECK_BUCKETS, registers }),
      /** The (virtual server, real server) pairs that have result series, so that removed ones can be dropped. */
      targets: new Map<string, { virtualServer: string; realServer: string }>(),
    },
    /** Series per real server (thousands): SeriesTables (table.ts), not prom-client Gauges. */
    realServers: {
      up: new SeriesTable({ name: 'lvskeep_real_server_up', help: 'Health check verdict of a real server: 1 up, 0 down.', type: 'gauge', labelNames: ['virtual_server', 'real_server'] as const, registers }),
      state: new SeriesTable({ name: 'lvskeep_real_server_state', help: 'Pool state of a real server: 1 for the current state, 0 for the others.', type: 'gauge', labelNames: ['virtual_server', 'real_server', 'state'] as const, registers }),
      weight: new SeriesTable({ name: 'lvskeep_real_server_weight', help: 'Real server weight: configured, desired by lvskeep, and in the kernel table.', type: 'gauge', labelNames: ['virtual_server', 'real_server', 'kind'] as const, registers }),
      /** False once a scrape-time source owns these series (collectors.ts): the event stream then leaves them alone. */
      eventDriven: true as boolean,
    },
    ipvs: {
      operations: new Counter({ name: 'lvskeep_ipvs_operations_total', help: 'IPVS backend operations, by operation and result.', labelNames: ['op', 'result'] as const, registers }),
      driftRepairs: new Counter({ name: 'lvskeep_ipvs_drift_repairs_total', help: 'Reconcile passes that repaired a table changed behind lvskeep.', registers }),
      errors: new Counter({ name: 'lvskeep_ipvs_errors_total', help: 'IPVS operations the kernel refused.', registers }),
      reconcileDuration: new Histogram({ name: 'lvskeep_ipvs_reconcile_duration_seconds', help: 'Duration of one reconcile pass (dump, diff, apply).', buckets: RECONCILE_BUCKETS, registers }),
    },
    alerts: {
      deliveries: new Counter({ name: 'lvskeep_alert_deliveries_total', help: 'Alert delivery outcomes per sink (retried counts each retry).', labelNames: ['sink', 'result'] as const, registers }),
      dropped: new Counter({ name: 'lvskeep_alerts_dropped_total', help: 'Alerts dropped per sink, by reason.', labelNames: ['sink', 'reason'] as const, registers }),
      queueLength: new Gauge({ name: 'lvskeep_alert_queue_length', help: 'Alert messages waiting in a sink queue.', labelNames: ['sink'] as const, registers }),
    },
    daemon: {
      buildInfo: new Gauge({ name: 'lvskeep_build_info', help: 'Always 1; the version is in the label.', labelNames: ['version'] as const, registers }),
      configReloads: new Counter({ name: 'lvskeep_config_reloads_total', help: 'Configuration reloads, by result.', labelNames: ['result'] as const, registers }),
      eventLoopDelay: new Gauge({ name: 'lvskeep_event_loop_delay_seconds', help: 'Event-loop delay since the previous scrape (p50, p99, max).', labelNames: ['stat'] as const, registers }),
    },
    /** Pull-style sources that failed or timed out during a scrape (their series are left out, not stale). */
    collectErrors: new Counter({ name: 'lvskeep_metrics_collect_errors_total', help: 'Metric sources that failed during a scrape.', labelNames: ['source'] as const, registers }),
  };
}

export type MetricHandles = ReturnType<typeof createHandles>;

export interface Metrics extends MetricHandles {
  readonly registry: Registry;
  /** Stops the event-loop delay monitor. Idempotent. */
  close(): void;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry: Registry = new LvskeepRegistry();
  const handles = createHandles(registry);
  handles.daemon.buildInfo.set({ version: opts.version ?? VERSION }, 1);
  for (const result of ['success', 'failure'] as const) handles.daemon.configReloads.inc({ result }, 0);
  handles.ipvs.driftRepairs.inc(0);
  handles.ipvs.errors.inc(0);

  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'lvskeep_' });

  let loop: IntervalHistogram | undefined = monitorEventLoopDelay({ resolution: opts.eventLoopResolutionMs ?? 10 });
  loop.enable();
  const delay = handles.daemon.eventLoopDelay;
  // Read at scrape time and then reset, so each scrape shows the stalls since the previous one.
  const readLoop = (): void => {
    if (!loop) return;
    // An idle or just-started loop has no samples yet; the histogram then reports NaN/huge sentinels.
    const has = loop.count > 0;
    const values: Record<(typeof LOOP_DELAY_STATS)[number], number> = {
      p50: has ? loop.percentile(50) / 1e9 : 0,
      p99: has ? loop.percentile(99) / 1e9 : 0,
      max: has ? loop.max / 1e9 : 0,
    };
    for (const stat of LOOP_DELAY_STATS) delay.set({ stat }, values[stat]);
    loop.reset();
  };
  setCollect(delay, readLoop);

  return {
    ...handles,
    registry,
    close() {
      loop?.disable();
      loop = undefined;
    },
  };
}

export function checkTargetKey(virtualServer: string, realServer: string): string {
  return `${virtualServer}\0${realServer}`;
}

/**
 * prom-client calls a metric's `collect` at scrape time. It is a constructor option, but several of ours are
 * only known after construction (sources are attached later), so this sets it on the instance.
 */
export function setCollect(metric: Counter<string> | Gauge<string> | Histogram<string> | SeriesTable<string>, collect: () => void | Promise<void>): void {
  // `collect` is public in prom-client's implementation but not in its typings for instances.
  (metric as unknown as { collect?: () => void | Promise<void> }).collect = collect;
}
