/**
 * A thin stateful holder around the pure policy, for the daemon: it owns the current state and reads time
 * from an injectable clock. Scheduling the tick at `nextChangeAt` stays with the caller.
 */
import { desiredDests, initialPoolState, step, type PoolState, type PoolStep } from './policy.js';
import type { DesiredDest, Health, PoolConfig, PoolInput } from './types.js';

export interface NowClock {
  now(): number;
}

export class Pool {
  private current: PoolState;

  constructor(
    readonly config: PoolConfig,
    initialHealth: Record<string, Health>,
    private readonly clock: NowClock = { now: () => Date.now() },
  ) {
    this.current = initialPoolState(config, initialHealth, clock.now());
  }

  apply(input: PoolInput): PoolStep {
    const result = step(this.config, this.current, input, this.clock.now());
    this.current = result.state;
    return result;
  }

  get state(): PoolState {
    return this.current;
  }

  desired(): DesiredDest[] {
    return desiredDests(this.config, this.current, this.clock.now());
  }
}
