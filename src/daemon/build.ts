/**
 * The daemon assembled from its parts: event bus (every event logged), alerting, IPVS backend + reconciler,
 * health checks -> pool policy -> desired weights, schedules and VRRP. Everything with time in it takes the
 * injected timers, so unit tests drive the whole wiring with a fake clock and the memory backend.
 */
import { hostname } from 'node:os';
import { startAlerting, type Alerting } from '../alerts/index.js';
import { sinkSettingsFromConfig } from '../alerts/from-config.js';
import { systemClock, type Clock } from '../alerts/clock.js';
import type { LvskeepConfig } from '../config/types.js';
import { EventBus } from '../events/bus.js';
import { eventFromPool } from '../events/from-pool.js';
import { createEvent, type EventBody, type LvsEvent } from '../events/types.js';
import type { MonitorOptions } from '../health/monitor.js';
import { realTimers, type TimerApi } from '../health/scheduler.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import type { ServiceState } from '../ipvs/model.js';
import { createReconciler, type PassResult, type Reconciler } from '../ipvs/reconciler.js';
import { commandName, opObject } from '../ipvs/op-errors.js';
import type { Logger } from '../log/logger.js';
import type { CronDriver } from '../schedules/cron-driver.js';
import { VERSION } from '../version.js';
import type { VrrpControl } from '../vrrp/runtime/manager.js';
import type { LogFormat } from '../log/logger.js';
import { openVrrp, type VrrpProcessMode } from './vrrp-process.js';
import type { SpawnChild } from '../vrrp/process/supervisor.js';
import { errorMessage } from '../util/errors.js';
import type { ConfigLookups } from '../health/from-config.js';
import { logEvents } from './event-log.js';
import { HealthWiring, type SyncResult } from './health-wiring.js';
import { lateBoundBackend, observeBackend } from './ipvs-backend.js';
import { watchDrains } from './drain-watch.js';
import { kernelWeights, startingPointOf, startingPoints } from './initial-state.js';
import { checkId, rsId, vsId } from './ids.js';
import { PoolSet } from './pools.js';
import { startSchedules, type RunningSchedules } from './schedules.js';
import { trackedChecks } from './vrrp-tracking.js';
import { removedServiceOps, reloadSummary, summaryLine } from './reload.js';
import { controlHandlers, type ReloadOutcome } from './control.js';
import { createControlServer, type ControlServer } from '../control/server.js';
import { meterIpvsBackend, recordCheckResult, recordReconcilePass, startMetricsService, type MetricsService } from '../metrics/index.js';
import { realServerSnapshot } from './metrics-sources.js';
import { startStatePersistence, type StatePersistence } from '../state/index.js';

const DRAIN_POLL_MS = 2_000;

export interface DaemonDeps {
  logger: Logger;
  backend: IpvsBackend;
  /** Log the whole table after each change (dry runs). */
  traceTable?: boolean;
  timers?: TimerApi;
  /** Health checkers (tests inject fakes). */
  proberFactory?: MonitorOptions['proberFactory'];
  random?: () => number;
  checkLookups?: ConfigLookups;
  cronDriver?: CronDriver;
  host?: string;
  /** Build the VRRP manager (tests inject fakes; without VRRP they pass () => undefined); default: vrrpProcess. */
  vrrpFactory?: (config: LvskeepConfig, deps: { logger: Logger; bus: EventBus<LvsEvent> }) => VrrpControl | undefined;
  /** Where VRRP runs without a vrrpFactory: `child` (default), a supervised process of its own, or `inline`. */
  vrrpProcess?: VrrpProcessMode;
  /** The log format the VRRP child uses (it writes its own lines to the same stdout/stderr). */
  logFormat?: LogFormat;
  /** Tests: a fake VRRP child process. */
  spawnVrrpChild?: SpawnChild;
  /** Longest wait for alerts to be delivered on stop. */
  alertGraceMs?: number;
  /** A `reload` schedule fired or `lvskeep reload` asked: the lifecycle re-reads the file and calls reload(). */
  requestReload?: (source: string) => Promise<ReloadOutcome>;
  /** Serve the control socket (control.socket of the config). Off unless asked: unit tests have no /run. */
  control?: boolean;
  /** Serve Prometheus metrics (the config's metrics section). Off unless asked, like the control socket. */
  metrics?: boolean;
  /** Keep operator states and health in global.state_dir across restarts. Off unless asked. */
  state?: boolean;
}

export interface Daemon {
  readonly bus: EventBus<LvsEvent>;
  readonly pools: PoolSet;
  readonly health: HealthWiring;
  config(): LvskeepConfig;
  start(): Promise<void>;
  /**
   * Apply a validated configuration as a diff; throws (having changed nothing) when a part cannot be built.
   * Resolves with a one-line summary of what changed.
   */
  reload(next: LvskeepConfig, source: string): Promise<string>;
  stop(reason: string): Promise<void>;
  /** Resolves once the reconciler has applied the current desired table (tests, `apply`). */
  settle(): Promise<void>;
}

export function buildDaemon(initialConfig: LvskeepConfig, deps: DaemonDeps): Daemon {
  const { logger } = deps;
  const timers = deps.timers ?? realTimers;
  const host = deps.host ?? initialConfig.global.router_id ?? hostname();
  let config = initialConfig;
  const bus = new EventBus<LvsEvent>({ onListenerError: (err) => logger.error({ err: errorMessage(err) }, 'event listener failed') });
  const emit = (body: EventBody): void => bus.emit(createEvent(body, timers.now()));
  logEvents(bus, logger);

  // The metered backend exists only once metrics start; every user goes through this late-bound view.
  const kernel = lateBoundBackend(deps.backend);
  const backend = observeBackend(kernel.backend, {
    onFailed: (failed) => {
      for (const f of failed) emit({ type: 'ipvs.error', operation: commandName(f.op), object: opObject(f.op), error: f.error.message });
    },
    ...(deps.traceTable ? { traceTable: logger } : {}),
  });

  let alerting: Alerting | undefined;
  let schedules: RunningSchedules | undefined;
  let vrrp: VrrpControl | undefined;
  let reconciler: Reconciler | undefined;
  let tracked = trackedChecks(config);
  let desiredTimer: unknown;
  let stopped = false;
  let control: ControlServer | undefined;
  let metrics: MetricsService | undefined;
  let state: StatePersistence | undefined;
  const startedAt = timers.now();

  const pushDesired = (): void => {
    desiredTimer = undefined;
    reconciler?.setDesired(pools.table());
  };
  const pools: PoolSet = new PoolSet({
    timers,
    onEvents: (_name, events) => {
      for (const e of events) {
        const body = eventFromPool(e);
        if (body) emit(body);
      }
      reportTracking();
    },
    // Bursts of pool changes (a switch port dying takes many servers at once) coalesce into one table.
    onChange: () => {
      if (desiredTimer === undefined && reconciler) desiredTimer = timers.setTimeout(pushDesired, 0);
    },
  });

  const health = new HealthWiring({
    monitor: {
      timers,
      ...(deps.proberFactory ? { proberFactory: deps.proberFactory } : {}),
      ...(deps.random ? { random: deps.random } : {}),
    },
    ...(deps.checkLookups ? { lookups: deps.checkLookups } : {}),
    logger,
    onFirstResult: (vs, rs) => pools.unpin(vs, rs),
    onCheckResult: (vs, rs, type, result) => {
      if (metrics) recordCheckResult(metrics.metrics, { virtualServer: vs, realServer: rs, type }, result);
    },
    onHealth: (vs, rs, status, reason, weight) => {
      logger.info({ virtualServer: vs, realServer: rs, health: status, reason, ...(weight !== undefined ? { weight } : {}) }, 'real server health changed');
      pools.health(vs, rs, status, reason, weight);
    },
  });

  /** Tell VRRP about every tracked pool object (cheap: a handful of entries). */
  function reportTracking(): void {
    if (!vrrp || tracked.length === 0) return;
    const byId = new Map(pools.statuses().map((s) => [s.id, s]));
    for (const t of tracked) {
      const p = byId.get(t.vs);
      if (!p) continue;
      const up = t.rs === undefined ? p.quorumUp : ['up', 'slow-start'].includes(p.servers.find((s) => s.id === t.rs)?.status ?? 'down');
      vrrp.setCheckState(t.virtualServer, t.realServer, up);
    }
  }

  function openAlerting(c: LvskeepConfig): Alerting {
    // Real alert timers must not keep a stopping process alive: systemClock unrefs them.
    const clock: Clock = deps.timers
      ? {
          now: () => timers.now(),
          setTimer: (ms, fn) => {
            const h = timers.setTimeout(fn, ms);
            return { cancel: () => timers.clearTimeout(h) };
          },
        }
      : systemClock;
    return startAlerting({ sinks: c.alerts.sinks.map(sinkSettingsFromConfig), host, bus, logger, clock });
  }

  function scheduleDeps() {
    return {
      logger,
      pools,
      dispatcher: () => alerting?.dispatcher,
      host,
      vrrpStatus: () => vrrp?.status() ?? [],
      reload: (schedule: string) => deps.requestReload?.(`schedule ${schedule}`),
      ...(deps.cronDriver ? { driver: deps.cronDriver } : {}),
      ...(deps.timers ? { timers: deps.timers } : {}),
    };
  }

  function openReconciler(c: LvskeepConfig): Reconciler {
    // Metrics start before the first reconciler and live until stop, so the registry seen here stays valid.
    const m = metrics?.metrics;
    return createReconciler({
      backend,
      logger,
      interval: c.ipvs.reconcile_interval,
      owned: c.ipvs.owned,
      ...(deps.timers ? { timers: deps.timers, now: () => timers.now() } : {}),
      onDrift: (e) => emit({ type: 'ipvs.drift_repaired', changes: e.done.length, detail: e.found.slice(0, 20).join('; ') }),
      ...(m ? { onPass: (r: PassResult) => recordReconcilePass(m, r) } : {}),
    });
  }

  const drains = watchDrains({ timers, pools, backend, logger, intervalMs: DRAIN_POLL_MS });

  async function readKernel(): Promise<ServiceState[]> {
    try {
      return await backend.dump();
    } catch (err) {
      logger.error({ err: errorMessage(err), backend: backend.name }, 'cannot read the IPVS table at start; assuming it is empty');
      return [];
    }
  }

  const daemon: Daemon = {
    bus,
    pools,
    health,
    config: () => config,

    async start() {
      // First, before anything touches the kernel: a live socket means another lvskeep runs here.
      if (deps.control) {
        control = await createControlServer({
          path: config.control.socket,
          mode: config.control.mode,
          logger,
          handlers: controlHandlers({
            config: () => config,
            pools,
            health,
            backend,
            vrrp: () => vrrp,
            alerting: () => alerting,
            reload: (source) => deps.requestReload?.(source) ?? Promise.resolve({ ok: false, error: 'reload is not available' }),
            onManual: (vs, rss, action, reason) => state?.recordManual(vs, rss, action, reason),
            startedAt,
            now: () => timers.now(),
          }),
        });
      }
      if (deps.metrics) {
        metrics = await startMetricsService({
          config: config.metrics,
          bus,
          logger,
          sources: {
            vrrpStatus: () => vrrp?.status() ?? [],
            alerts: () => alerting?.dispatcher,
            realServers: () => realServerSnapshot(config, pools, backend),
          },
        });
        if (metrics) kernel.replace(meterIpvsBackend(deps.backend, metrics.metrics));
      }
      if (deps.state) state = await startStatePersistence({ dir: config.global.state_dir, bus, logger });
      alerting = openAlerting(config);
      const start = startingPointOf(startingPoints(config, kernelWeights(await readKernel())));
      await health.sync(config.virtual_servers, (vs, rs) => start(vs, rs).assume);
      pools.configure(config.virtual_servers, start);
      // A server drained or in maintenance before the restart stays so until an operator enables it.
      for (const m of state?.manualToRestore ?? []) {
        try {
          pools.manual(m.virtualServer, m.realServer, m.action, m.reason);
          logger.info({ virtualServer: m.virtualServer, realServer: m.realServer, action: m.action }, 'operator state restored from the state file');
        } catch (err) {
          logger.warn({ virtualServer: m.virtualServer, realServer: m.realServer, err: errorMessage(err) }, 'saved operator state is for an object no longer configured; dropped');
        }
      }
      reconciler = openReconciler(config);
      reconciler.setDesired(pools.table());
      reconciler.start();
      health.start();
      schedules = startSchedules(config, scheduleDeps());
      vrrp = deps.vrrpFactory
        ? deps.vrrpFactory(config, { logger, bus })
        : openVrrp(config, {
            logger,
            bus,
            metrics: metrics?.metrics,
            mode: deps.vrrpProcess ?? 'child',
            logFormat: deps.logFormat ?? 'json',
            ...(deps.spawnVrrpChild ? { spawn: deps.spawnVrrpChild } : {}),
          });
      if (vrrp) {
        try {
          await vrrp.start();
        } catch (err) {
          logger.error({ err: errorMessage(err) }, 'VRRP did not start completely; health checks and IPVS keep running');
        }
        reportTracking();
      }
      drains.start();
      emit({ type: 'daemon.started', version: VERSION });
    },

    async reload(next, source) {
      const old = config;
      // Parts that can fail are built first; until they all exist nothing running is touched.
      const sinksChanged = JSON.stringify(old.alerts) !== JSON.stringify(next.alerts);
      const nextAlerting = sinksChanged ? openAlerting(next) : undefined;
      let sync: SyncResult;
      let nextSchedules: RunningSchedules;
      const start = startingPointOf(startingPoints(next, new Map())); // new servers: their check's assumption
      try {
        nextSchedules = startSchedules(next, scheduleDeps(), false);
        const before = new Map(pools.statuses().map((p) => [p.id, new Map(p.servers.map((s) => [s.id, s.status]))]));
        // Builds every check spec before it changes anything; throws naming the real server.
        sync = await health.sync(next.virtual_servers, (vs, rs) => {
          const status = before.get(vs)?.get(rs);
          if (status === undefined) return start(vs, rs).assume;
          return ['up', 'slow-start'].includes(status) ? 'up' : 'down';
        });
      } catch (err) {
        if (nextAlerting) void nextAlerting.stop(0);
        throw err;
      }

      // Past this point the new configuration is the running one; failures are logged, not thrown.
      config = next;
      tracked = trackedChecks(next);
      const poolChange = pools.configure(next.virtual_servers, start);
      state?.prune(
        Object.fromEntries(next.virtual_servers.map((vs) => [vsId(vs), vs.real_servers.map(rsId)])),
        next.vrrp.instances.map((i) => i.name),
      );
      // A real server whose check was removed is healthy by definition from now on.
      const uncheckedNow = new Set(sync.removed);
      for (const vs of next.virtual_servers) {
        for (const rs of vs.real_servers) {
          if (!rs.check && uncheckedNow.has(checkId(vsId(vs), rsId(rs)))) pools.health(vsId(vs), rsId(rs), 'up', 'health check removed from the configuration');
        }
      }
      if (nextAlerting) {
        const previous = alerting;
        alerting = nextAlerting;
        void previous?.stop(deps.alertGraceMs ?? 5_000);
      }
      await schedules?.stop();
      schedules = nextSchedules;
      schedules.start();
      if (next.backend.ipvs !== old.backend.ipvs) logger.warn({ running: old.backend.ipvs, configured: next.backend.ipvs }, 'backend.ipvs changes take effect at the next start');
      if (reconciler && JSON.stringify(old.ipvs) !== JSON.stringify(next.ipvs)) {
        await reconciler.stop();
        reconciler = openReconciler(next);
        reconciler.start();
      }
      if (reconciler) {
        reconciler.setDesired(pools.table());
        await reconciler.reconcileNow();
        const removed = removedServiceOps(old, next);
        if (removed.length > 0) await backend.apply(removed).catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'removing dropped virtual services failed'));
      }
      if (vrrp) {
        try {
          logger.info(await vrrp.reload(next.vrrp), 'VRRP reloaded');
        } catch (err) {
          logger.error({ err: errorMessage(err) }, 'VRRP reload failed');
        }
        reportTracking();
      }
      if (next.control.socket !== old.control.socket) logger.warn({ running: old.control.socket, configured: next.control.socket }, 'control.socket changes take effect at the next start');
      const summary = reloadSummary(sync, poolChange);
      logger.info(summary, 'configuration reloaded');
      emit({ type: 'daemon.reloaded', source });
      return summaryLine(summary);
    },

    async stop(reason) {
      if (stopped) return;
      stopped = true;
      if (desiredTimer !== undefined) timers.clearTimeout(desiredTimer);
      drains.stop();
      await control?.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the control socket failed'));
      await health.stop();
      await schedules?.stop();
      pools.stop();
      if (vrrp) await vrrp.stop().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'VRRP stop failed'));
      await reconciler?.stop();
      if (config.ipvs.flush_on_stop) {
        const ops = removedServiceOps(config, { ...config, virtual_servers: [] });
        const r = await backend.apply(ops).catch((err: unknown) => {
          logger.error({ err: errorMessage(err) }, 'flush_on_stop: removing the services failed');
          return undefined;
        });
        if (r) logger.info({ removed: r.applied.length, failed: r.failed.length }, 'flush_on_stop: configured virtual services removed');
      }
      emit({ type: 'daemon.stopped', reason });
      const left = (await alerting?.stop(deps.alertGraceMs ?? 5_000)) ?? 0;
      if (left > 0) logger.warn({ undelivered: left }, 'alerts left undelivered at stop');
      await state?.stop().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'writing the state file at stop failed'));
      await metrics?.stop().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'stopping the metrics endpoint failed'));
      await backend.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the IPVS backend failed'));
    },

    async settle() {
      if (desiredTimer !== undefined) {
        timers.clearTimeout(desiredTimer);
        pushDesired();
      }
      await reconciler?.reconcileNow();
    },
  };
  return daemon;
}
