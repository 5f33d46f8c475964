/**
 * A thin stateful holder around the pure policy, for the daemon: it owns the current state and reads time
 * from an injectable clock. Scheduling the tick at `nextChangeAt` stays with the caller.
 */
import { carryOver, desiredDests, initialPoolState, step, type PoolState, type PoolStep } from './policy.js';
import type { DesiredDest, Health, PoolConfig, PoolInput } from './types.js';

export interface NowClock {
  now(): number;
}

export class Pool {
  private current: PoolState;

  constructor(
    private cfg: PoolConfig,
    initialHealth: Record<string, Health>,
    private readonly clock: NowClock = { now: () => Date.now() },
  ) {
    this.current = initialPoolState(cfg, initialHealth, clock.now());
  }

  get config(): PoolConfig {
    return this.cfg;
  }

  /** Apply a reloaded configuration, keeping what is known about servers that remain. */
  reconfigure(config: PoolConfig, healthOfNew: Record<string, Health> = {}): PoolStep {
    this.current = carryOver(config, this.current, healthOfNew, this.clock.now());
    this.cfg = config;
    return this.apply({ kind: 'tick' });
  }

  apply(input: PoolInput): PoolStep {
    const result = step(this.cfg, this.current, input, this.clock.now());
    this.current = result.state;
    return result;
  }

  get state(): PoolState {
    return this.current;
  }

  desired(): DesiredDest[] {
    return desiredDests(this.cfg, this.current, this.clock.now());
  }
}
