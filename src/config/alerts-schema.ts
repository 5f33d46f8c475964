/** Alert sinks (where events go) and the events they can subscribe to. */
import { z } from 'zod';
import { EVENT_TYPES } from '../events/types.js';
import { absPath, argv, duration, int, name, oneOf, ruleIssue, runAs, stringMap, text } from './fields.js';
import { didYouMean } from './suggest.js';

export { EVENT_TYPES };

/**
 * Event filter entries: an exact event type (`rs.down`), a family (`rs.*`) or `*`. The event types are the
 * daemon's own list (src/events/types.ts), so a typo is caught here rather than silently matching nothing.
 */
const eventFilter = text('an event type such as rs.down, a family such as rs.*, or *').superRefine((f, ctx) => {
  if (f === '*' || (EVENT_TYPES as readonly string[]).includes(f)) return;
  if (f.endsWith('.*') && EVENT_TYPES.some((t) => t.startsWith(f.slice(0, -1)))) return;
  const families = [...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0] ?? t}.*`))];
  const hint = didYouMean(f, [...EVENT_TYPES, ...families]);
  ctx.addIssue({ code: 'custom', message: `unknown event "${f}"${hint ? `; did you mean "${hint}"?` : ''} (see docs/configuration.md for the list)` });
});

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
  routing_key_file: absPath().optional(),
  api_key: text('an Opsgenie API key').optional(),
  api_key_file: absPath().optional(),
  teams_format: oneOf(['adaptive', 'messagecard'] as const).optional(),
  command: argv().optional(),
  user: runAs().optional(),
  events: z.array(eventFilter).min(1, { error: 'list at least one event, or omit events for all' }).default(['*']),
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
const TYPE_KEYS: Record<(typeof SINK_TYPES)[number], { required: Key[][]; allowed: Key[] }> = {
  webhook: { required: [['url']], allowed: ['url', 'headers', 'secret', 'secret_file'] },
  slack: { required: [['url']], allowed: ['url', 'headers'] },
  teams: { required: [['url']], allowed: ['url', 'headers', 'teams_format'] },
  pagerduty: { required: [['routing_key', 'routing_key_file']], allowed: ['routing_key', 'routing_key_file', 'url', 'headers'] },
  opsgenie: { required: [['api_key', 'api_key_file']], allowed: ['api_key', 'api_key_file', 'url', 'headers'] },
  script: { required: [['command']], allowed: ['command', 'user'] },
};
const TYPE_SPECIFIC: Key[] = ['url', 'headers', 'secret', 'secret_file', 'routing_key', 'routing_key_file', 'api_key', 'api_key_file', 'command', 'user', 'teams_format'];
/** A value and the file alternative to it: only one may be set. */
const EITHER: [Key, Key][] = [
  ['secret', 'secret_file'],
  ['routing_key', 'routing_key_file'],
  ['api_key', 'api_key_file'],
];

export const alertSinkSchema = sinkInput
  .superRefine((s, ctx) => {
    const spec = TYPE_KEYS[s.type];
    for (const alternatives of spec.required) {
      if (alternatives.every((k) => s[k] === undefined)) ruleIssue(ctx, [], `${s.type} sinks need ${alternatives.join(' or ')}`);
    }
    for (const k of TYPE_SPECIFIC) {
      if (s[k] !== undefined && !spec.allowed.includes(k)) {
        const users = SINK_TYPES.filter((t) => TYPE_KEYS[t].allowed.includes(k));
        ruleIssue(ctx, [k], `${k} is not used by ${s.type} sinks (only by ${users.join(', ')})`);
      }
    }
    for (const [a, b] of EITHER) {
      if (s[a] !== undefined && s[b] !== undefined) ruleIssue(ctx, [b], `use either ${a} or ${b}, not both`);
    }
  });

export const alertsSchema = z.strictObject({ sinks: z.array(alertSinkSchema).default([]) }).prefault({});
