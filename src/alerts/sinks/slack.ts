import { describeMessage, truncate } from '../format.js';
import { postJson } from '../http.js';
import { redactUrl } from '../secrets.js';
import type { AlertMessage, DeliveryOutcome, Sink } from '../types.js';

/** Slack mrkdwn treats &, < and > as control characters; everything else is literal enough. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Block Kit limits: header text 150 chars (plain_text), section text 3000, context element text 2000.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

const ICON = { critical: ':red_circle:', warning: ':large_yellow_circle:', info: ':large_blue_circle:' } as const;

/**
 * Incoming-webhook body: `text` is the notification fallback (and all Mattermost shows, since Mattermost ignores
 * `blocks`, so it carries the full message), `blocks` the Block Kit layout Slack renders.
 */
export function slackPayload(m: AlertMessage, host: string): { text: string; blocks: unknown[] } {
  const t = describeMessage(m, host);
  const icon = t.resolved ? ':large_green_circle:' : ICON[t.severity];
  const body = t.lines.map(escapeMrkdwn).join('\n');
  const facts = t.fields.map(([k, v]) => `*${escapeMrkdwn(k)}:* ${escapeMrkdwn(v)}`).join('\n');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(t.title, HEADER_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`${icon} ${body}`, SECTION_MAX) } },
  ];
  if (facts) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(facts, SECTION_MAX) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `lvskeep on ${escapeMrkdwn(host)} · ${new Date(t.time).toISOString()}` }] });
  const text = [t.title, ...t.lines.filter((l) => l !== t.title && !t.title.endsWith(l))].join('\n');
  return { text: escapeMrkdwn(text), blocks };
}

export interface SlackSinkOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  host: string;
  now: () => number;
}

export function createSlackSink(o: SlackSinkOptions): Sink {
  const target = redactUrl(o.url);
  return {
    name: o.name,
    type: 'slack',
    acceptsGroups: true,
    describe: () => `slack ${target}`,
    async deliver(message: AlertMessage, signal: AbortSignal): Promise<DeliveryOutcome> {
      const body = JSON.stringify(slackPayload(message, o.host));
      return postJson({ url: o.url, body, headers: { ...o.headers }, signal, now: o.now, target });
    },
  };
}
