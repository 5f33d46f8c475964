import type { LvsEvent, Severity } from '../events/types.js';

export type SinkType = 'webhook' | 'slack' | 'teams' | 'pagerduty' | 'opsgenie' | 'script';

/**
 * One alert sink as the alerting code needs it (durations in ms). The config module's `alerts.sinks[]` maps onto
 * this in an adapter; secrets are still unresolved here (`${ENV}` references or file paths).
 */
export interface SinkSettings {
  name: string;
  type: SinkType;
  url?: string;
  headers?: Record<string, string>;
  /** Webhook HMAC secret: a literal, or `${ENV_NAME}`. */
  secret?: string;
  secretFile?: string;
  /** PagerDuty Events API v2 integration key (literal or `${ENV_NAME}`). */
  routingKey?: string;
  routingKeyFile?: string;
  /** Opsgenie API integration key (literal or `${ENV_NAME}`). */
  apiKey?: string;
  apiKeyFile?: string;
  /** Script sink argv; the notify arguments are appended. */
  command?: string[];
  /** Script sink: numeric ids of the user to run as. */
  user?: { uid: number; gid: number };
  /** Teams card flavour: Adaptive Card for Workflows (default) or the legacy connector MessageCard. */
  teamsFormat?: 'adaptive' | 'messagecard';
  /** Event type filter: exact types, `rs.*` prefixes or `*`; empty = all. */
  events?: string[];
  minSeverity?: Severity;
  timeoutMs: number;
  queueSize: number;
  retries: number;
  /** Collect related events this long into one message; 0 sends each at once. */
  groupWindowMs: number;
  /** Drop an event whose dedup key (and open/resolve direction) was sent this recently; 0 disables. */
  dedupWindowMs: number;
  /** Re-send open problems this often until resolved; 0 disables. */
  repeatMs: number;
}

export const SINK_DEFAULTS = {
  timeoutMs: 10_000,
  queueSize: 100,
  retries: 5,
  groupWindowMs: 0,
  dedupWindowMs: 0,
  repeatMs: 0,
} as const satisfies Partial<SinkSettings>;

/**
 * What a sink delivers. `event` and `reminder` carry one event, `group` several of the same kind, `test` the
 * event of `lvskeep alert test`, and `digest` free text built by a schedule.
 */
export type AlertMessage =
  | { kind: 'event'; events: [LvsEvent] }
  | { kind: 'reminder'; events: [LvsEvent]; openSince: number }
  | { kind: 'group'; events: LvsEvent[] }
  | { kind: 'test'; events: [LvsEvent] }
  | { kind: 'digest'; title: string; text: string; fields: [string, string][]; time: number };

export type DeliveryOutcome =
  | { ok: true; skipped?: string }
  | { ok: false; retryable: boolean; retryAfterMs?: number; error: string };

export interface Sink {
  readonly name: string;
  readonly type: SinkType;
  /** Whether one message may carry several events; incident APIs need one request per dedup key. */
  readonly acceptsGroups: boolean;
  /** Must settle promptly once `signal` aborts (the dispatcher aborts on its timeout). Must not throw. */
  deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** Where it sends, with secrets (URL tokens, keys) redacted: safe to log. */
  describe(): string;
}
