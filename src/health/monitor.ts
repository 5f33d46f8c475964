/**
 * Health monitor: the glue between checkers, retries, the rise/fall state and the scheduler. One entry per
 * (virtual service, real server); it reports every check result and every up/down transition through
 * callbacks (the pool policy and metrics listen there).
 */
import { createProber } from './probers.js';
import { probeWithRetries, type Sleep } from './retry.js';
import { CheckScheduler, realTimers, type SchedulerOptions, type TimerApi } from './scheduler.js';
import { applyResult, initialHealthState, type HealthState, type HealthTransition } from './state.js';
import type { CheckSpec, CheckTarget, Prober, ProbeResult } from './types.js';

export interface MonitoredCheck {
  /** Stable id, e.g. `tcp 203.0.113.1:80 -> 198.51.100.11:80`. */
  id: string;
  spec: CheckSpec;
  target: CheckTarget;
}

export interface MonitorOptions extends SchedulerOptions {
  onResult?: (id: string, result: ProbeResult, state: HealthState) => void;
  onTransition?: (id: string, transition: HealthTransition, state: HealthState) => void;
  /** Injectable for tests; defaults to the real checkers. */
  proberFactory?: (spec: CheckSpec, target: CheckTarget) => Prober;
}

/** A sleep on the given timers, so retry delays follow a fake clock in tests. */
export function sleepOn(timers: TimerApi): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const done = (): void => {
        timers.clearTimeout(handle);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const handle = timers.setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
}

export class HealthMonitor {
  private readonly scheduler: CheckScheduler;
  private readonly timers: TimerApi;
  private readonly states = new Map<string, HealthState>();

  constructor(private readonly opts: MonitorOptions = {}) {
    this.timers = opts.timers ?? realTimers;
    this.scheduler = new CheckScheduler(opts);
  }

  add(check: MonitoredCheck): void {
    const { id, spec, target } = check;
    const prober = (this.opts.proberFactory ?? createProber)(spec, target);
    const sleep = sleepOn(this.timers);
    this.states.set(id, initialHealthState(spec.assume, this.timers.now()));
    try {
      this.scheduler.add({
        id,
        intervalMs: spec.intervalMs,
        jitterPercent: spec.jitterPercent,
        run: (signal) => probeWithRetries(prober, spec, signal, sleep),
        onResult: (result, at) => this.record(id, spec, result, at),
        close: () => prober.close(),
      });
    } catch (err) {
      this.states.delete(id);
      void prober.close();
      throw err;
    }
  }

  private record(id: string, spec: CheckSpec, result: ProbeResult, at: number): void {
    const prev = this.states.get(id);
    if (!prev) return;
    const step = applyResult(prev, result, spec, at);
    this.states.set(id, step.state);
    this.opts.onResult?.(id, result, step.state);
    if (step.transition) this.opts.onTransition?.(id, step.transition, step.state);
  }

  state(id: string): HealthState | undefined {
    return this.states.get(id);
  }

  start(): void {
    this.scheduler.start();
  }

  async remove(id: string): Promise<void> {
    await this.scheduler.remove(id);
    this.states.delete(id);
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  stats(): ReturnType<CheckScheduler['stats']> {
    return this.scheduler.stats();
  }
}
