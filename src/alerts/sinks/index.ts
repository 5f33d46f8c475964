import { resolveSecret } from '../secrets.js';
import type { Sink, SinkSettings } from '../types.js';
import { createOpsgenieSink } from './opsgenie.js';
import { createPagerDutySink } from './pagerduty.js';
import { createScriptSink } from './script.js';
import { createSlackSink } from './slack.js';
import { createTeamsSink } from './teams.js';
import { createWebhookSink } from './webhook.js';

export class SinkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkConfigError';
  }
}

export interface SinkContext {
  /** Shown in messages and used as PagerDuty source / incident key prefix. */
  host: string;
  now: () => number;
  env?: NodeJS.ProcessEnv;
}

function requireUrl(s: SinkSettings, where: string): string {
  if (!s.url) throw new SinkConfigError(`${where}.url: required for ${s.type} sinks`);
  let u: URL;
  try {
    u = new URL(s.url);
  } catch {
    throw new SinkConfigError(`${where}.url: not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SinkConfigError(`${where}.url: must be http(s), got ${u.protocol}`);
  return s.url;
}

/** Build the sink for one settings entry, resolving its secrets now so a bad reference fails at load time. */
export function createSink(s: SinkSettings, ctx: SinkContext): Sink {
  const where = `alerts.sinks[${s.name}]`;
  const base = { name: s.name, host: ctx.host, now: ctx.now, ...(s.headers ? { headers: s.headers } : {}) };
  switch (s.type) {
    case 'webhook': {
      const secret = resolveSecret(`${where}.secret`, s.secret, s.secretFile, ctx.env);
      return createWebhookSink({ ...base, url: requireUrl(s, where), ...(secret ? { secret } : {}) });
    }
    case 'slack':
      return createSlackSink({ ...base, url: requireUrl(s, where) });
    case 'teams':
      return createTeamsSink({ ...base, url: requireUrl(s, where), format: s.teamsFormat ?? 'adaptive' });
    case 'pagerduty': {
      const routingKey = resolveSecret(`${where}.routing_key`, s.routingKey, s.routingKeyFile, ctx.env);
      if (!routingKey) throw new SinkConfigError(`${where}.routing_key: required for pagerduty sinks`);
      return createPagerDutySink({ ...base, routingKey, ...(s.url ? { url: requireUrl(s, where) } : {}) });
    }
    case 'opsgenie': {
      const apiKey = resolveSecret(`${where}.api_key`, s.apiKey, s.apiKeyFile, ctx.env);
      if (!apiKey) throw new SinkConfigError(`${where}.api_key: required for opsgenie sinks`);
      return createOpsgenieSink({ ...base, apiKey, ...(s.url ? { url: requireUrl(s, where) } : {}) });
    }
    case 'script':
      if (!s.command || s.command.length === 0 || !s.command[0]) throw new SinkConfigError(`${where}.command: required (argv list) for script sinks`);
      return createScriptSink({ name: s.name, command: s.command, host: ctx.host, ...(s.user ? { user: s.user } : {}) });
  }
}
