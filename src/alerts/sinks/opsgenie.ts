import type { LvsEvent, Severity } from '../../events/types.js';
import { describeEvent, truncate } from '../format.js';
import { postJson } from '../http.js';
import { redactText, redactUrl } from '../secrets.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';
import { incidentKey } from './incident-key.js';

/** US instance; EU accounts use https://api.eu.opsgenie.com. The sink's `url` replaces it (tests use loopback). */
export const OPSGENIE_API_URL = 'https://api.opsgenie.com';

// Alert API limits: message 130 characters, alias 512, description 15000.
const MESSAGE_MAX = 130;
const ALIAS_MAX = 512;
const DESCRIPTION_MAX = 15000;

const PRIORITY: Record<Severity, 'P1' | 'P3' | 'P5'> = { critical: 'P1', warning: 'P3', info: 'P5' };

export interface OpsgenieRequest {
  /** Path and query below the API base URL. */
  path: string;
  body: Record<string, unknown>;
}

/** Create (POST /v2/alerts) for problems and notices; close by alias for recoveries. */
export function opsgenieRequest(e: LvsEvent, host: string, reminder = false): OpsgenieRequest {
  const alias = incidentKey(host, e.dedupKey, ALIAS_MAX);
  const text = describeEvent(e);
  if (e.resolves) {
    return {
      path: `/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      body: { source: host, user: 'lvskeep', note: text.summary },
    };
  }
  return {
    path: '/v2/alerts',
    body: {
      message: truncate(`${reminder ? 'Still open: ' : ''}${text.summary}`, MESSAGE_MAX),
      alias,
      description: truncate([text.summary, '', ...text.fields.map(([k, v]) => `${k}: ${v}`)].join('\n'), DESCRIPTION_MAX),
      priority: PRIORITY[e.severity],
      tags: ['lvskeep', e.type, e.severity],
      details: { host, ...Object.fromEntries(text.fields) },
      entity: 'virtualServer' in e ? e.virtualServer : host,
      source: host,
    },
  };
}

export function opsgenieRequests(m: AlertMessage, host: string): OpsgenieRequest[] {
  switch (m.kind) {
    case 'digest':
      return [];
    case 'test': {
      const e = { ...m.events[0], dedupKey: `alert-test:${m.events[0].time}` };
      return [opsgenieRequest(e, host), opsgenieRequest({ ...e, resolves: true }, host)];
    }
    case 'reminder':
      return [opsgenieRequest(m.events[0], host, true)];
    default:
      return m.events.map((e) => opsgenieRequest(e, host));
  }
}

export interface OpsgenieSinkOptions {
  name: string;
  apiKey: string;
  url?: string;
  headers?: Record<string, string>;
  host: string;
  now: () => number;
}

export function createOpsgenieSink(o: OpsgenieSinkOptions): Sink {
  const base = (o.url ?? OPSGENIE_API_URL).replace(/\/+$/, '');
  const target = redactUrl(base);
  return {
    name: o.name,
    type: 'opsgenie',
    acceptsGroups: false,
    describe: () => `opsgenie ${target}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const requests = opsgenieRequests(message, o.host);
      if (requests.length === 0) return { ok: true, skipped: `opsgenie takes alerts, not ${message.kind} messages` };
      for (const req of requests) {
        const out = await postJson({
          url: `${base}${req.path}`,
          body: JSON.stringify(req.body),
          headers: { ...o.headers, authorization: `GenieKey ${o.apiKey}` },
          signal,
          now: o.now,
          target,
        });
        if (!out.ok) return { ...out, error: redactText(out.error, [o.apiKey]) };
      }
      return { ok: true };
    },
  };
}
