import { describeMessage, truncate } from '../format.js';
import { postJson } from '../http.js';
import { redactUrl } from '../secrets.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';

const COLOR = { critical: 'D32F2F', warning: 'F9A825', info: '1976D2', resolved: '2E7D32' } as const;
// Adaptive Card TextBlock colours are named, not hex.
const AC_COLOR = { critical: 'Attention', warning: 'Warning', info: 'Accent', resolved: 'Good' } as const;

/**
 * Adaptive Card as a `message` with one attachment of contentType `application/vnd.microsoft.card.adaptive`:
 * the body a Teams Workflows "when a webhook request is received" flow (and incoming webhooks) accepts.
 */
export function teamsAdaptivePayload(m: AlertMessage, host: string): Record<string, unknown> {
  const t = describeMessage(m, host);
  const tone = t.resolved ? 'resolved' : t.severity;
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.2',
          body: [
            { type: 'TextBlock', text: truncate(t.title, 400), weight: 'Bolder', size: 'Medium', color: AC_COLOR[tone], wrap: true },
            { type: 'TextBlock', text: t.lines.join('\n\n'), wrap: true },
            { type: 'FactSet', facts: t.fields.map(([title, value]) => ({ title, value })) },
          ],
        },
      },
    ],
  };
}

/** Legacy Office 365 connector card: `summary` is required by Teams when there is no `text`. */
export function teamsMessageCardPayload(m: AlertMessage, host: string): Record<string, unknown> {
  const t = describeMessage(m, host);
  const tone = t.resolved ? 'resolved' : t.severity;
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: COLOR[tone],
    summary: truncate(t.title, 200),
    title: t.title,
    sections: [{ activityTitle: t.lines.join('\n\n'), facts: t.fields.map(([name, value]) => ({ name, value })), markdown: false }],
  };
}

/**
 * Teams connectors answer throttling with HTTP 200 and this text in the body instead of a 429, so a 2xx is only
 * success when the body does not say otherwise.
 */
export function inspectTeamsBody(body: string): DeliveryOutcome | undefined {
  if (/HTTP error 429/i.test(body)) return { ok: false, retryable: true, error: 'Teams throttled the webhook (HTTP 200 with error 429 in body)' };
  return undefined;
}

export interface TeamsSinkOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  format: 'adaptive' | 'messagecard';
  host: string;
  now: () => number;
}

export function createTeamsSink(o: TeamsSinkOptions): Sink {
  const target = redactUrl(o.url);
  const build = o.format === 'messagecard' ? teamsMessageCardPayload : teamsAdaptivePayload;
  return {
    name: o.name,
    type: 'teams',
    acceptsGroups: true,
    describe: () => `teams (${o.format}) ${target}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const body = JSON.stringify(build(message, o.host));
      return postJson({ url: o.url, body, headers: { ...o.headers }, signal, now: o.now, target, inspectOkBody: inspectTeamsBody });
    },
  };
}
