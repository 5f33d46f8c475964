/**
 * While a real server drains, read its ActiveConn from the kernel every `intervalMs` so the drain ends when the
 * last connection does (not only at drain_timeout). Idle otherwise: one timer, no kernel reads.
 */
import type { TimerApi } from '../health/scheduler.js';
import type { IpvsBackend } from '../ipvs/backend.js';
import { destId, serviceId } from '../ipvs/model.js';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { checkId } from './ids.js';
import type { PoolSet } from './pools.js';

export interface DrainWatch {
  start(): void;
  stop(): void;
}

export function watchDrains(o: { timers: TimerApi; pools: PoolSet; backend: IpvsBackend; logger: Logger; intervalMs: number }): DrainWatch {
  let timer: unknown;
  let stopped = false;
  let reading = false;
  const arm = (): void => {
    if (stopped || timer !== undefined) return;
    timer = o.timers.setTimeout(() => {
      timer = undefined;
      const waiting = o.pools.draining();
      if (waiting.length === 0 || reading) return arm();
      reading = true;
      void o.backend
        .dump()
        .then((table) => {
          const conns = new Map<string, number>();
          for (const s of table) for (const d of s.dests) conns.set(checkId(serviceId(s.key), destId(d)), d.activeConns);
          for (const w of waiting) {
            const n = conns.get(checkId(w.vs, w.rs));
            if (n !== undefined) o.pools.activeConns(w.vs, w.rs, n);
          }
        })
        .catch((err: unknown) => o.logger.warn({ err: errorMessage(err) }, 'reading ActiveConn of draining real servers failed'))
        .finally(() => {
          reading = false;
          arm();
        });
    }, o.intervalMs);
  };
  return {
    start: arm,
    stop() {
      stopped = true;
      if (timer !== undefined) o.timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
