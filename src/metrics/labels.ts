/**
 * Label values that come from free text or from other modules' enums, mapped onto fixed sets. A Prometheus
 * series exists per label combination, so an unbounded value (an error message, a peer address) would grow the
 * scrape and the TSDB without limit; everything that is not a config-defined name goes through here.
 */

export const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;
export type VrrpStateLabel = (typeof VRRP_STATES)[number];

/** The runtime's state names (Initialize, Backup, ...) and the event stream's (INIT, BACKUP, ...) both map here. */
const VRRP_STATE_ALIASES: Record<string, VrrpStateLabel> = {
  INIT: 'INIT', INITIALIZE: 'INIT', BACKUP: 'BACKUP', MASTER: 'MASTER', FAULT: 'FAULT',
};

export function vrrpStateLabel(state: string): VrrpStateLabel | undefined {
  return VRRP_STATE_ALIASES[state.toUpperCase()];
}

/** The codec's drop reasons plus the runtime's own `queue-full`; anything else is `other`. */
export const VRRP_DROP_REASONS = [
  'bad-length', 'bad-ip-version', 'bad-ip-header', 'bad-protocol', 'bad-ttl', 'bad-version', 'bad-type', 'bad-vrid',
  'bad-count', 'bad-interval', 'bad-checksum', 'bad-address', 'bad-source', 'bad-destination', 'unknown-peer',
  'addresses-mismatch', 'interval-mismatch', 'bad-auth-type', 'auth-mismatch', 'hmac-missing', 'hmac-unexpected',
  'hmac-bad-key-id', 'hmac-forged', 'hmac-replay', 'queue-full', 'other',
] as const;
const DROP_REASON_SET: ReadonlySet<string> = new Set(VRRP_DROP_REASONS);

export function vrrpDropReasonLabel(reason: string): string {
  return DROP_REASON_SET.has(reason) ? reason : 'other';
}

/** The pool's real-server statuses (src/pool/types.ts RealServerStatus); anything else is `unknown`. */
export const REAL_SERVER_STATES = ['up', 'slow-start', 'down', 'flapping', 'draining', 'drained', 'maintenance', 'unknown'] as const;
export type RealServerStateLabel = (typeof REAL_SERVER_STATES)[number];
const RS_STATE_SET: ReadonlySet<string> = new Set(REAL_SERVER_STATES);

export function realServerStateLabel(state: string): RealServerStateLabel {
  return RS_STATE_SET.has(state) ? (state as RealServerStateLabel) : 'unknown';
}

/** Statuses in which the health check says the server is failing. */
const HEALTH_DOWN: ReadonlySet<string> = new Set(['down', 'flapping']);

export function healthUpOf(state: string): boolean {
  return !HEALTH_DOWN.has(state);
}

/**
 * One check's outcome. The probers' reasons are human text (`connect timeout after 1000 ms`, `connection refused`,
 * `HTTP 503`, `TLS: ...`); the classes below are the distinctions an operator graphs, the rest is `failure`.
 */
export const CHECK_RESULTS = ['success', 'timeout', 'refused', 'unreachable', 'tls', 'failure'] as const;
export type CheckResultLabel = (typeof CHECK_RESULTS)[number];

export function checkResultLabel(ok: boolean, reason: string): CheckResultLabel {
  if (ok) return 'success';
  const r = reason.toLowerCase();
  if (/time[sd]? ?out|timeout/.test(r)) return 'timeout';
  if (r.includes('refused')) return 'refused';
  if (/unreachable|host down|no route/.test(r)) return 'unreachable';
  if (r.startsWith('tls')) return 'tls';
  return 'failure';
}

export const CHECK_TYPES = ['http', 'https', 'tcp', 'script', 'dns', 'other'] as const;
const CHECK_TYPE_SET: ReadonlySet<string> = new Set(CHECK_TYPES);

export function checkTypeLabel(type: string): string {
  return CHECK_TYPE_SET.has(type) ? type : 'other';
}

/** Backend operations, in the IpvsOp spelling with underscores (Prometheus label values are conventionally snake case). */
export const IPVS_OPS = ['add_service', 'edit_service', 'del_service', 'add_dest', 'edit_dest', 'del_dest', 'dump', 'flush', 'zero', 'info', 'other'] as const;
const IPVS_OP_SET: ReadonlySet<string> = new Set(IPVS_OPS);

export function ipvsOpLabel(op: string): string {
  const label = op.replace(/-/g, '_');
  return IPVS_OP_SET.has(label) ? label : 'other';
}

export const WEIGHT_KINDS = ['configured', 'desired', 'kernel'] as const;
export type WeightKind = (typeof WEIGHT_KINDS)[number];

export const ALERT_DELIVERY_RESULTS = ['delivered', 'skipped', 'failed', 'retried'] as const;
export const ALERT_DROP_REASONS = ['queue_full', 'delivery_failed'] as const;
export const RELOAD_RESULTS = ['success', 'failure'] as const;

/** Event-loop delay statistics exported as one gauge with a `stat` label. */
export const LOOP_DELAY_STATS = ['p50', 'p99', 'max'] as const;
