/**
 * The whole lvskeep configuration as a zod schema. Every default lives here (and in the per-section schema
 * files it imports); docs/configuration.md documents each one. Durations come out as milliseconds, addresses
 * as canonical { address, family[, port|prefix] } objects.
 */
import { z } from 'zod';
import { absPath, bool, duration, endpoint, int, name, oneOf } from './fields.js';
import { vrrpSchema } from './vrrp-schema.js';
import { virtualServerSchema } from './virtual-server-schema.js';
import { alertsSchema } from './alerts-schema.js';
import { scheduleSchema } from './schedule-schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/lvskeep/lvskeep.yaml';

const globalSchema = z
  .strictObject({
    router_id: name().optional(),
    startup_delay: duration({ max: 3_600_000 }).default(0),
    state_dir: absPath().default('/var/lib/lvskeep'),
    watch_config: bool().default(false),
    /** Nice of the VRRP child process (keepalived's vrrp_priority); lowering it needs CAP_SYS_NICE. */
    vrrp_nice: int(-20, 19).default(-10),
    /**
     * SCHED_RR priority of the VRRP child's main thread (keepalived's vrrp_rt_priority); 0 = off. On by default:
     * nice alone left adverts waiting behind the checks for a CPU (issue #7). Needs CAP_SYS_NICE, else one warning.
     */
    vrrp_rt_priority: int(0, 99).default(10),
    /** RLIMIT_RTTIME of the VRRP child in µs (keepalived's vrrp_rlimit_rttime): a runaway RT thread gets SIGXCPU. */
    vrrp_rlimit_rttime: int(10_000, 10_000_000).default(100_000),
  })
  .prefault({});

const directorSchema = z.strictObject({ sysctls: oneOf(['auto', 'manual'] as const).default('manual') }).prefault({});

const ipvsSchema = z
  .strictObject({
    reconcile_interval: duration({ min: 1000, max: 3_600_000 }).default(10_000),
    owned: oneOf(['configured', 'all'] as const).default('configured'),
    flush_on_stop: bool().default(false),
  })
  .prefault({});

const backendSchema = z
  .strictObject({
    ipvs: oneOf(['netlink', 'ipvsadm', 'memory'] as const).default('netlink'),
    vip: oneOf(['netlink', 'iproute2'] as const).default('netlink'),
  })
  .prefault({});

/** File mode as an octal string; an unquoted 0600 would be read by YAML as the decimal number 600. */
const fileMode = z.unknown().transform((v, ctx): number => {
  if (typeof v !== 'string' || !/^0?[0-7]{3}$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: typeof v === 'number' ? "write the mode as a quoted octal string: mode: '0600'" : "expected an octal mode such as '0600'" });
    return z.NEVER;
  }
  return parseInt(v, 8);
});

const controlSchema = z
  .strictObject({
    socket: absPath().default('/run/lvskeep/lvskeep.sock'),
    mode: fileMode.default(0o600),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    enabled: bool().default(true),
    listen: endpoint().default({ address: '127.0.0.1', port: 9595, family: 4 }),
  })
  .prefault({});

const logSchema = z
  .strictObject({
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const).default('info'),
    format: oneOf(['json', 'pretty'] as const).default('json'),
  })
  .prefault({});

export const sectionSchemas = {
  global: globalSchema,
  director: directorSchema,
  vrrp: vrrpSchema,
  virtual_servers: z.array(virtualServerSchema).default([]),
  ipvs: ipvsSchema,
  backend: backendSchema,
  alerts: alertsSchema,
  schedules: z.array(scheduleSchema).default([]),
  control: controlSchema,
  metrics: metricsSchema,
  log: logSchema,
};

export const configSchema = z.strictObject(sectionSchemas);

// Re-exported so that callers needing one part (tests, `lvskeep check`) do not reach into the section files.
export { checkSchema } from './check-schema.js';
export { virtualServerSchema } from './virtual-server-schema.js';
export { vrrpInstanceSchema, syncGroupSchema } from './vrrp-schema.js';
export { alertSinkSchema, EVENT_TYPES } from './alerts-schema.js';
export { scheduleSchema } from './schedule-schema.js';
