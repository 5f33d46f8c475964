import type { LvsEvent } from '../../events/types.js';
import { describeEvent, truncate } from '../format.js';
import { postJson } from '../http.js';
import { redactText, redactUrl } from '../secrets.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';
import { incidentKey } from './incident-key.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

// Events API v2 limits: dedup_key 255 characters, payload.summary 1024.
const DEDUP_MAX = 255;
const SUMMARY_MAX = 1024;

export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: 'critical' | 'error' | 'warning' | 'info';
        timestamp: string;
        component?: string;
        group: string;
        class: string;
        custom_details: Record<string, unknown>;
      };
      client: string;
    }
  | { routing_key: string; event_action: 'resolve'; dedup_key: string };

function component(e: LvsEvent): string | undefined {
  if ('virtualServer' in e) return e.virtualServer;
  if ('instance' in e) return e.instance;
  return undefined;
}

/** Recoveries resolve the alert their problem triggered (same dedup_key); everything else triggers. */
export function pagerDutyEvent(e: LvsEvent, routingKey: string, host: string, reminder = false): PagerDutyEvent {
  const dedupKey = incidentKey(host, e.dedupKey, DEDUP_MAX);
  if (e.resolves) return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const text = describeEvent(e);
  const comp = component(e);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncate(`${reminder ? 'Still open: ' : ''}${text.summary} (${host})`, SUMMARY_MAX),
      source: host,
      severity: e.severity,
      timestamp: new Date(e.time).toISOString(),
      ...(comp !== undefined ? { component: comp } : {}),
      group: 'lvskeep',
      class: e.type,
      custom_details: Object.fromEntries(text.fields),
    },
    client: 'lvskeep',
  };
}

/** The requests one message becomes: a test triggers and at once resolves, so nobody stays paged by it. */
export function pagerDutyRequests(m: AlertMessage, routingKey: string, host: string): PagerDutyEvent[] {
  switch (m.kind) {
    case 'digest':
      return [];
    case 'test': {
      const e = m.events[0];
      const key = { ...e, dedupKey: `alert-test:${e.time}` };
      return [pagerDutyEvent(key, routingKey, host), pagerDutyEvent({ ...key, resolves: true }, routingKey, host)];
    }
    case 'reminder':
      return [pagerDutyEvent(m.events[0], routingKey, host, true)];
    default:
      return m.events.map((e) => pagerDutyEvent(e, routingKey, host));
  }
}

export interface PagerDutySinkOptions {
  name: string;
  routingKey: string;
  url?: string;
  headers?: Record<string, string>;
  host: string;
  now: () => number;
}

export function createPagerDutySink(o: PagerDutySinkOptions): Sink {
  const url = o.url ?? PAGERDUTY_EVENTS_URL;
  const target = redactUrl(url);
  return {
    name: o.name,
    type: 'pagerduty',
    acceptsGroups: false,
    describe: () => `pagerduty ${target}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const requests = pagerDutyRequests(message, o.routingKey, o.host);
      if (requests.length === 0) return { ok: true, skipped: `pagerduty takes incidents, not ${message.kind} messages` };
      for (const req of requests) {
        const out = await postJson({ url, body: JSON.stringify(req), headers: { ...o.headers }, signal, now: o.now, target });
        if (!out.ok) return { ...out, error: redactText(out.error, [o.routingKey]) };
      }
      return { ok: true };
    },
  };
}
