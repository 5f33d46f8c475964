/** Alert sinks (where events go) and the events they can subscribe to. */
import { z } from 'zod';
import { absPath, argv, duration, int, name, oneOf, ruleIssue, stringMap, text } from './fields.js';

/** Every event lvskeep emits; a sink's `events` filters on these. */
export const ALERT_EVENTS = [
  'agent.started',
  'agent.stopping',
  'config.reloaded',
  'config.reload_failed',
  'vrrp.state_changed',
  'real_server.up',
  'real_server.down',
  'real_server.flapping',
  'virtual_server.quorum_lost',
  'virtual_server.quorum_restored',
  'ipvs.drift_corrected',
  'ipvs.apply_failed',
  'schedule.digest',
  'schedule.maintenance_started',
  'schedule.maintenance_ended',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];
export const SINK_TYPES = ['webhook', 'slack', 'teams', 'pagerduty', 'opsgenie', 'script'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;

const url = text('a URL').superRefine((s, ctx) => {
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  // The value may hold a secret token (Slack/Teams URLs do): never echo it.
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
});

const sinkInput = z.strictObject({
  name: name(),
  type: oneOf(SINK_TYPES),
  url: url.optional(),
  headers: stringMap().optional(),
  secret: text('a secret').optional(),
  secret_file: absPath().optional(),
  routing_key: text('a PagerDuty routing key').optional(),
  api_key: text('an Opsgenie API key').optional(),
  command: argv().optional(),
  events: z.array(oneOf(ALERT_EVENTS)).min(1, { error: 'list at least one event, or omit events for all' }).optional(),
  min_severity: oneOf(SEVERITIES).default('info'),
  timeout: duration({ min: 100, max: 300_000 }).default(5000),
  queue_size: int(1, 1_000_000).default(1000),
  retries: int(0, 100).default(5),
  group_window: duration({ max: 3_600_000 }).default(2000),
  dedup_window: duration({ max: 86_400_000 }).default(300_000),
  repeat: duration({ min: 60_000 }).optional(),
});

type Key = keyof z.output<typeof sinkInput>;
/** Keys each sink type requires and accepts beyond the common ones. */
const TYPE_KEYS: Record<(typeof SINK_TYPES)[number], { required: Key[]; allowed: Key[] }> = {
  webhook: { required: ['url'], allowed: ['url', 'headers', 'secret', 'secret_file'] },
  slack: { required: ['url'], allowed: ['url'] },
  teams: { required: ['url'], allowed: ['url'] },
  pagerduty: { required: ['routing_key'], allowed: ['routing_key', 'url'] },
  opsgenie: { required: ['api_key'], allowed: ['api_key', 'url'] },
  script: { required: ['command'], allowed: ['command'] },
};
const TYPE_SPECIFIC: Key[] = ['url', 'headers', 'secret', 'secret_file', 'routing_key', 'api_key', 'command'];

export const alertSinkSchema = sinkInput
  .superRefine((s, ctx) => {
    const spec = TYPE_KEYS[s.type];
    for (const k of spec.required) {
      if (s[k] === undefined) ruleIssue(ctx, [], `a ${s.type} sink needs ${k}`);
    }
    for (const k of TYPE_SPECIFIC) {
      if (s[k] !== undefined && !spec.allowed.includes(k)) {
        const users = SINK_TYPES.filter((t) => TYPE_KEYS[t].allowed.includes(k));
        ruleIssue(ctx, [k], `${k} is not used by ${s.type} sinks (only by ${users.join(', ')})`);
      }
    }
    if (s.secret !== undefined && s.secret_file !== undefined) ruleIssue(ctx, ['secret_file'], 'use either secret or secret_file, not both');
  })
  .transform((s) => ({ ...s, events: s.events ?? [...ALERT_EVENTS] }));

export const alertsSchema = z.strictObject({ sinks: z.array(alertSinkSchema).default([]) }).prefault({});
