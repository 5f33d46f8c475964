import { createHmac } from 'node:crypto';
import type { LvsEvent } from '../../events/types.js';
import { describeMessage } from '../format.js';
import { postJson } from '../http.js';
import { redactUrl } from '../secrets.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';

export const SIGNATURE_HEADER = 'X-Lvskeep-Signature';

/** `sha256=<hex>` over the exact body bytes, so a receiver verifies before parsing. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The generic webhook document: version for receivers to switch on, the events themselves, and a text. */
export function webhookPayload(m: AlertMessage, host: string): Record<string, unknown> {
  const text = describeMessage(m, host);
  const events: LvsEvent[] = m.kind === 'digest' ? [] : m.events;
  return {
    version: 1,
    source: 'lvskeep',
    host,
    kind: m.kind,
    title: text.title,
    text: text.lines.join('\n'),
    severity: text.severity,
    resolved: text.resolved,
    time: new Date(text.time).toISOString(),
    ...(m.kind === 'reminder' ? { open_since: new Date(m.openSince).toISOString() } : {}),
    ...(m.kind === 'digest' ? { fields: Object.fromEntries(m.fields) } : {}),
    events: events.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
  };
}

export interface WebhookSinkOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  secret?: string;
  host: string;
  now: () => number;
}

export function createWebhookSink(o: WebhookSinkOptions): Sink {
  const target = redactUrl(o.url);
  return {
    name: o.name,
    type: 'webhook',
    acceptsGroups: true,
    describe: () => `webhook ${target}${o.secret ? ' (signed)' : ''}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const body = JSON.stringify(webhookPayload(message, o.host));
      const headers: Record<string, string> = { ...o.headers };
      if (o.secret) headers[SIGNATURE_HEADER] = signBody(body, o.secret);
      return postJson({ url: o.url, body, headers, signal, now: o.now, target });
    },
  };
}
