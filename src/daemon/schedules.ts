/** The operator schedules of the config, with their actions wired to the pools, the alert dispatcher and reload. */
import type { AlertDispatcher } from '../alerts/dispatcher.js';
import { systemClock, type Clock } from '../alerts/clock.js';
import type { LvskeepConfig } from '../config/types.js';
import type { TimerApi } from '../health/scheduler.js';
import type { Logger } from '../log/logger.js';
import type { RealServerStatus } from '../pool/types.js';
import type { CronDriver } from '../schedules/cron-driver.js';
import { digestSender, type PoolSnapshot, type RealServerHealth } from '../schedules/digest.js';
import { scheduleSpecFromConfig } from '../schedules/from-config.js';
import { Scheduler } from '../schedules/scheduler.js';
import type { PoolSet } from './pools.js';

export interface ScheduleDeps {
  logger: Logger;
  /** Fake timers in tests; real ones use the alerting system clock (unref'd timers). */
  timers?: TimerApi;
  pools: PoolSet;
  dispatcher: () => Pick<AlertDispatcher, 'sendMessage'> | undefined;
  host: string;
  vrrpStatus: () => { name: string; state: string; effectivePriority: number }[];
  reload: (schedule: string) => unknown;
  driver?: CronDriver;
}

export interface RunningSchedules {
  start(): void;
  stop(): Promise<void>;
}

const DIGEST_HEALTH: Record<RealServerStatus, RealServerHealth> = {
  up: 'up',
  'slow-start': 'up',
  down: 'down',
  flapping: 'down',
  draining: 'drained',
  drained: 'drained',
  maintenance: 'maintenance',
};

export function poolSnapshot(deps: Pick<ScheduleDeps, 'pools' | 'host' | 'vrrpStatus'>): PoolSnapshot {
  return {
    host: deps.host,
    vrrp: deps.vrrpStatus().map((v) => ({ instance: v.name, state: v.state, priority: v.effectivePriority })),
    virtualServers: deps.pools.statuses().map((p) => ({
      id: p.name === p.id ? p.id : `${p.name} (${p.id})`,
      realServers: p.servers.map((s) => ({ id: s.id, health: DIGEST_HEALTH[s.status], weight: deps.pools.weightOf(p.id, s.id) ?? 0, since: s.since })),
      sorry: p.sorry,
      panic: p.panic,
      quorumLost: !p.quorumUp,
    })),
  };
}

/** Build (validating every schedule; throws ScheduleError) and, unless `start` is false, start. */
export function startSchedules(config: LvskeepConfig, deps: ScheduleDeps, start = true): RunningSchedules {
  const clock: Clock = deps.timers
    ? {
        now: () => deps.timers?.now() ?? Date.now(),
        setTimer: (ms, fn) => {
          const t = deps.timers;
          const h = t?.setTimeout(fn, ms);
          return { cancel: () => t?.clearTimeout(h) };
        },
      }
    : systemClock;
  const manual = (targets: readonly { virtualServer: string; realServer?: string }[], action: 'maintenance' | 'enable', reason: string): void => {
    for (const t of targets) {
      try {
        deps.pools.manual(t.virtualServer, t.realServer, action, reason);
      } catch (err) {
        deps.logger.error({ target: t, action, err: err instanceof Error ? err.message : String(err) }, 'scheduled maintenance target not found');
      }
    }
  };
  const scheduler = new Scheduler({
    schedules: config.schedules.map(scheduleSpecFromConfig),
    sinkNames: config.alerts.sinks.map((s) => s.name),
    clock,
    logger: deps.logger,
    ...(deps.driver ? { driver: deps.driver } : {}),
    callbacks: {
      digest: (sinks, schedule) => {
        const dispatcher = deps.dispatcher();
        if (!dispatcher) throw new Error('alerting is not running');
        return digestSender(() => poolSnapshot(deps), dispatcher, () => clock.now())(sinks, schedule);
      },
      setMaintenance: (targets, schedule, until) => manual(targets, 'maintenance', `maintenance window ${schedule} until ${new Date(until).toISOString()}`),
      clearMaintenance: (targets, schedule) => manual(targets, 'enable', `maintenance window ${schedule} ended`),
      reload: (schedule) => deps.reload(schedule),
    },
  });
  if (start) scheduler.start();
  return { start: () => scheduler.start(), stop: () => scheduler.stop() };
}
