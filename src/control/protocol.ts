/**
 * The control protocol between `lvskeep <command>` and the running daemon: one JSON request per line, one JSON
 * response per line, over a Unix socket.
 *
 *   request:  { "id": 1, "cmd": "drain", "args": { "vs": "web", "rs": "198.51.100.11:80" } }
 *   response: { "id": 1, "ok": true, "result": { ... } }
 *           | { "id": 1, "ok": false, "error": { "code": "not-found", "message": "..." } }
 *
 * Arguments are validated here (zod) before a handler sees them, so the daemon implements typed functions.
 * Results have schemas too: the client checks the daemon's answer, so a mismatched version is a clear error
 * instead of a crash while printing. Result objects are not strict: a newer daemon may add fields.
 */
import { z } from 'zod';

/** Longest request line the server reads; a longer one is answered with `line-too-long` and the connection closed. */
export const MAX_REQUEST_LINE = 1024 * 1024;
/** Longest response line the client reads (a status of a large table is bigger than any request). */
export const MAX_RESPONSE_LINE = 64 * 1024 * 1024;

export const ERROR_CODES = [
  'bad-json', // the line is not JSON
  'bad-request', // JSON, but not { id, cmd, args }
  'unknown-command',
  'invalid-args',
  'not-found', // a named object (instance, virtual server, real server, sink) does not exist
  'not-supported', // the daemon has no handler for this command (yet)
  'failed', // the handler ran and failed
  'timeout', // the handler did not finish within the server's per-request timeout
  'line-too-long',
  'busy', // too many connections or too many queued requests on one connection
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Thrown by a handler to choose the error code of its response (anything else thrown becomes `failed`). */
export class ControlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

export const requestIdSchema = z.union([z.string().max(200), z.number().int().safe()]);
export type RequestId = z.infer<typeof requestIdSchema>;

export const requestSchema = z.strictObject({
  id: requestIdSchema,
  cmd: z.string().min(1).max(100),
  args: z.record(z.string(), z.unknown()).optional(),
});
export type ControlRequest = z.infer<typeof requestSchema>;

export type ControlResponse<R = unknown> =
  | { id: RequestId | null; ok: true; result: R }
  | { id: RequestId | null; ok: false; error: { code: ErrorCode; message: string } };

// ---- arguments -------------------------------------------------------------------------------------------------

const ref = z.string().min(1).max(300);
/** A virtual server (configured name or id such as `tcp 203.0.113.1:80`) and one of its real servers. */
const realServerArgs = z.strictObject({ vs: ref, rs: ref });

export const argsSchemas = {
  status: z.strictObject({ stats: z.boolean().optional() }),
  'step-down': z.strictObject({ instance: ref.optional() }),
  drain: realServerArgs,
  maintenance: realServerArgs,
  enable: realServerArgs,
  reload: z.strictObject({}),
  'alert-test': z.strictObject({ sink: ref.optional() }),
};

export type CommandName = keyof typeof argsSchemas;
export const COMMAND_NAMES = Object.keys(argsSchemas) as CommandName[];

export function isCommandName(cmd: string): cmd is CommandName {
  return Object.hasOwn(argsSchemas, cmd);
}

// ---- results ---------------------------------------------------------------------------------------------------

export const statsSchema = z.object({
  conns: z.number(),
  inPackets: z.number(),
  outPackets: z.number(),
  inBytes: z.number(),
  outBytes: z.number(),
  cps: z.number(),
  inPps: z.number(),
  outPps: z.number(),
  inBps: z.number(),
  outBps: z.number(),
});

export const vrrpInstanceStatusSchema = z.object({
  name: z.string(),
  /** The text form lvskeep uses in events and logs. */
  state: z.enum(['INIT', 'BACKUP', 'MASTER', 'FAULT']),
  basePriority: z.number(),
  effectivePriority: z.number(),
  /** Our address while master, else the master last heard; null when none. */
  masterAddress: z.string().nullable(),
  lastChange: z.object({ at: z.number(), reason: z.string() }),
  faultReasons: z.array(z.string()).default([]),
  /** The IPVS connection-sync daemon following this instance (lvs_sync); absent when not configured. */
  lvsSync: z
    .object({
      /** What the VRRP state asks for; `applied` is what the kernel last ran (absent before the first success). */
      wanted: z.enum(['master', 'backup', 'none']),
      applied: z.enum(['master', 'backup', 'none']).optional(),
      interface: z.string(),
      syncId: z.number(),
      /** Failed attempts in a row at reaching `wanted`. */
      failures: z.number(),
      lastError: z.string().optional(),
    })
    .optional(),
});

export const vipStatusSchema = z.object({
  instance: z.string(),
  address: z.string(),
  interface: z.string(),
  /** Whether this director currently holds the address. */
  held: z.boolean(),
});

export const lastCheckSchema = z.object({
  ok: z.boolean(),
  at: z.number(),
  latencyMs: z.number().nullable(),
  message: z.string(),
});

export const realServerStatusSchema = z.object({
  /** `198.51.100.11:80` */
  id: z.string(),
  forwarding: z.string().optional(),
  configuredWeight: z.number(),
  /** Weight in the kernel table; null when the destination is not there. */
  kernelWeight: z.number().nullable(),
  /** The pool's status: up, slow-start, down, flapping, draining, drained, maintenance. */
  status: z.string(),
  statusSince: z.number(),
  manual: z.enum(['none', 'drain', 'maintenance']),
  lastCheck: lastCheckSchema.nullable(),
  activeConns: z.number().nullable(),
  inactiveConns: z.number().nullable(),
  stats: statsSchema.optional(),
});

export const virtualServerStatusSchema = z.object({
  name: z.string(),
  /** `tcp 203.0.113.1:80`, `fwmark 7` */
  id: z.string(),
  scheduler: z.string(),
  quorumUp: z.boolean(),
  panic: z.boolean(),
  sorryActive: z.boolean(),
  realServers: z.array(realServerStatusSchema),
  stats: statsSchema.optional(),
});

export const statusResultSchema = z.object({
  version: z.string(),
  pid: z.number(),
  /** Milliseconds since the epoch. */
  startedAt: z.number(),
  now: z.number(),
  vrrp: z.array(vrrpInstanceStatusSchema),
  vips: z.array(vipStatusSchema),
  virtualServers: z.array(virtualServerStatusSchema),
  alerts: z.object({
    /** Alerts waiting for delivery (all sinks). */
    pending: z.number(),
    sinks: z.array(z.object({ name: z.string(), pending: z.number(), failing: z.boolean() })).default([]),
  }),
});

export const resultSchemas = {
  status: statusResultSchema,
  /** Instances that were master and now step down (empty when none was master). */
  'step-down': z.object({ steppedDown: z.array(z.string()) }),
  drain: z.object({ virtualServer: z.string(), realServers: z.array(z.string()) }),
  maintenance: z.object({ virtualServer: z.string(), realServers: z.array(z.string()) }),
  enable: z.object({ virtualServer: z.string(), realServers: z.array(z.string()) }),
  /** One line saying what changed (added/removed/kept), as the daemon logs it. */
  reload: z.object({ summary: z.string() }),
  'alert-test': z.object({ sinks: z.array(z.object({ name: z.string(), ok: z.boolean(), error: z.string().optional() })) }),
} satisfies Record<CommandName, z.ZodType>;

export type ArgsOf<C extends CommandName> = z.output<(typeof argsSchemas)[C]>;
export type ResultOf<C extends CommandName> = z.input<(typeof resultSchemas)[C]>;
export type StatusResult = z.output<typeof statusResultSchema>;
export type VrrpInstanceStatusInfo = z.output<typeof vrrpInstanceStatusSchema>;
export type VirtualServerStatusInfo = z.output<typeof virtualServerStatusSchema>;
export type RealServerStatusInfo = z.output<typeof realServerStatusSchema>;
export type StatsInfo = z.output<typeof statsSchema>;

/** What the daemon implements. A missing handler answers `not-supported`. */
export type ControlHandlers = { [C in CommandName]?: (args: ArgsOf<C>) => Promise<ResultOf<C>> };

/** `field.path: message; ...` of a zod error, short enough for one response line. */
export function describeIssues(error: z.ZodError, limit = 5): string {
  const parts = error.issues.slice(0, limit).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`);
  if (error.issues.length > limit) parts.push(`and ${error.issues.length - limit} more`);
  return parts.join('; ');
}
