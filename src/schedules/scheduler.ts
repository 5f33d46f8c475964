/**
 * Cron-driven operator schedules: a digest of pool state to chosen sinks, a maintenance window for chosen real
 * servers, or a configuration reload. What each action does is supplied by the daemon as callbacks; this module
 * only decides when, and keeps maintenance windows bounded by their duration.
 */
import { systemClock, type Clock, type TimerHandle } from '../alerts/clock.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { nodeCronDriver, type CronDriver, type CronJob } from './cron-driver.js';

export type ScheduleAction = 'digest' | 'maintenance' | 'reload';

/** A virtual server by its configured name, and optionally one of its real servers (else all of them). */
export interface MaintenanceTarget {
  virtualServer: string;
  realServer?: string;
}

export interface ScheduleSpec {
  name: string;
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** IANA zone, e.g. `Europe/Berlin`; the host's zone when absent. */
  timezone?: string;
  action: ScheduleAction;
  /** digest: sinks to send to (all when absent). */
  sinks?: string[];
  /** maintenance: the real servers to put in maintenance. */
  targets?: MaintenanceTarget[];
  /** maintenance: how long the window lasts, ms. */
  durationMs?: number;
}

export interface ScheduleCallbacks {
  digest(sinks: readonly string[] | undefined, schedule: string): unknown;
  setMaintenance(targets: readonly MaintenanceTarget[], schedule: string, untilMs: number): unknown;
  clearMaintenance(targets: readonly MaintenanceTarget[], schedule: string): unknown;
  reload(schedule: string): unknown;
}

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Every problem in the schedule list, each naming the schedule and field; empty when all are usable. */
export function validateSchedules(specs: readonly ScheduleSpec[], driver: CronDriver = nodeCronDriver, sinkNames?: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    const where = `schedules[${s.name}]`;
    if (!s.name) problems.push('schedules[]: a schedule has no name');
    if (seen.has(s.name)) problems.push(`${where}: duplicate schedule name`);
    seen.add(s.name);
    for (const p of driver.validate(s.cron)) problems.push(`${where}.cron "${s.cron}": ${p}`);
    if (s.timezone !== undefined && !isValidTimeZone(s.timezone)) problems.push(`${where}.timezone: unknown time zone "${s.timezone}"`);
    if (s.action === 'maintenance') {
      if (!s.targets || s.targets.length === 0) problems.push(`${where}.targets: maintenance needs at least one target`);
      if (!s.durationMs || s.durationMs <= 0) problems.push(`${where}.duration: maintenance needs a positive duration`);
    }
    if (s.action === 'digest' && sinkNames && s.sinks) {
      for (const sink of s.sinks) if (!sinkNames.includes(sink)) problems.push(`${where}.sinks: no alert sink named ${sink}`);
    }
  }
  return problems;
}

export interface SchedulerOptions {
  schedules: readonly ScheduleSpec[];
  callbacks: ScheduleCallbacks;
  clock?: Clock;
  driver?: CronDriver;
  logger?: Logger;
  /** Known sink names, to reject digests to sinks that do not exist at load time. */
  sinkNames?: readonly string[];
}

interface Window {
  targets: readonly MaintenanceTarget[];
  timer: TimerHandle;
  until: number;
}

export class Scheduler {
  private readonly jobs = new Map<string, CronJob>();
  private readonly windows = new Map<string, Window>();
  private readonly running = new Set<string>();
  private readonly clock: Clock;
  private readonly driver: CronDriver;
  private readonly logger: Logger;
  readonly counters = { runs: 0, failures: 0, skippedOverlap: 0 };

  /** Validates everything first: an invalid schedule throws ScheduleError naming it, and nothing is started. */
  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? systemClock;
    this.driver = o.driver ?? nodeCronDriver;
    this.logger = o.logger ?? silentLogger();
    const problems = validateSchedules(o.schedules, this.driver, o.sinkNames);
    if (problems.length > 0) throw new ScheduleError(problems.join('; '));
  }

  start(): void {
    for (const s of this.o.schedules) {
      if (this.jobs.has(s.name)) continue;
      this.jobs.set(s.name, this.driver.start(s.name, s.cron, s.timezone, () => this.fire(s)));
    }
  }

  /** Run one schedule's action now (cron tick, or `lvskeep schedule run` later). */
  fire(s: ScheduleSpec): void {
    if (this.running.has(s.name)) {
      // Ticks faster than the action (a slow reload): skip rather than pile up.
      this.counters.skippedOverlap++;
      this.logger.warn({ schedule: s.name }, 'schedule still running from its previous tick; tick skipped');
      return;
    }
    this.running.add(s.name);
    this.counters.runs++;
    void this.run(s)
      .catch((err: unknown) => {
        this.counters.failures++;
        this.logger.error({ schedule: s.name, action: s.action, error: errorMessage(err) }, 'scheduled action failed');
      })
      .finally(() => this.running.delete(s.name));
  }

  private async run(s: ScheduleSpec): Promise<void> {
    this.logger.info({ schedule: s.name, action: s.action }, 'schedule fired');
    switch (s.action) {
      case 'digest':
        await this.o.callbacks.digest(s.sinks, s.name);
        return;
      case 'reload':
        await this.o.callbacks.reload(s.name);
        return;
      case 'maintenance':
        await this.openWindow(s);
        return;
    }
  }

  /** Start (or extend, when the previous window is still open) a maintenance window that ends by itself. */
  private async openWindow(s: ScheduleSpec): Promise<void> {
    const targets = s.targets ?? [];
    const duration = s.durationMs ?? 0;
    const until = this.clock.now() + duration;
    const previous = this.windows.get(s.name);
    previous?.timer.cancel();
    const timer = this.clock.setTimer(duration, () => void this.closeWindow(s.name));
    this.windows.set(s.name, { targets, timer, until });
    await this.o.callbacks.setMaintenance(targets, s.name, until);
  }

  private async closeWindow(name: string): Promise<void> {
    const w = this.windows.get(name);
    if (!w) return;
    w.timer.cancel();
    this.windows.delete(name);
    try {
      await this.o.callbacks.clearMaintenance(w.targets, name);
      this.logger.info({ schedule: name }, 'maintenance window ended');
    } catch (err) {
      this.counters.failures++;
      this.logger.error({ schedule: name, error: errorMessage(err) }, 'ending maintenance window failed');
    }
  }

  /** Open maintenance windows: schedule name -> end time (ms). */
  openWindows(): Record<string, number> {
    return Object.fromEntries([...this.windows].map(([k, w]) => [k, w.until]));
  }

  nextRuns(): Record<string, string | null> {
    return Object.fromEntries([...this.jobs].map(([k, j]) => [k, j.nextRun()?.toISOString() ?? null]));
  }

  /**
   * Stop all jobs. Open maintenance windows are ended too: after a reload the new schedule list may not have
   * them any more, and a server must not stay in maintenance with nothing left to take it out.
   */
  async stop(): Promise<void> {
    for (const job of this.jobs.values()) job.stop();
    this.jobs.clear();
    await Promise.all([...this.windows.keys()].map((name) => this.closeWindow(name)));
  }
}
