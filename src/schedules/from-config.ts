/** Adapter from the validated configuration (src/config) to the scheduler's own spec type. */
import type { ScheduleConfig } from '../config/types.js';
import type { ScheduleSpec } from './scheduler.js';

export function scheduleSpecFromConfig(c: ScheduleConfig): ScheduleSpec {
  return {
    name: c.name,
    cron: c.cron,
    timezone: c.timezone,
    action: c.action,
    ...(c.sinks !== undefined ? { sinks: [...c.sinks] } : {}),
    ...(c.targets !== undefined
      ? { targets: c.targets.map((t) => ({ virtualServer: t.virtual_server, ...(t.real_server !== undefined ? { realServer: t.real_server } : {}) })) }
      : {}),
    ...(c.duration !== undefined ? { durationMs: c.duration } : {}),
  };
}
