import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { opsgenieRequest, opsgenieRequests } from '../../../src/alerts/sinks/opsgenie.js';
import { pagerDutyEvent, pagerDutyRequests } from '../../../src/alerts/sinks/pagerduty.js';
import { notifyArgs, notifyEnv } from '../../../src/alerts/sinks/script.js';
import { escapeMrkdwn, slackPayload } from '../../../src/alerts/sinks/slack.js';
import { inspectTeamsBody, teamsAdaptivePayload, teamsMessageCardPayload } from '../../../src/alerts/sinks/teams.js';
import { signBody, webhookPayload } from '../../../src/alerts/sinks/webhook.js';
import { incidentKey } from '../../../src/alerts/sinks/incident-key.js';
import type { AlertMessage } from '../../../src/alerts/types.js';
import { createEvent, type LvsEvent } from '../../../src/events/types.js';

const T = Date.UTC(2026, 10, 21, 12, 0, 0);
const HOST = 'lb1.example.net';
const ref = { virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80' };
const down = createEvent({ type: 'rs.down', ...ref, reason: 'HTTP 503', latencyMs: 12.4 }, T);
const up = createEvent({ type: 'rs.up', ...ref, reason: 'HTTP 200' }, T + 60_000);
const quorum = createEvent({ type: 'quorum.lost', virtualServer: ref.virtualServer, reason: 'healthy weight 0, quorum 2', up: 0, quorum: 2 }, T);
const one = (e: LvsEvent): AlertMessage => ({ kind: 'event', events: [e] });

describe('PagerDuty Events API v2', () => {
  it('triggers with routing_key, event_action, dedup_key and payload summary/source/severity/timestamp', () => {
    const ev = pagerDutyEvent(down, 'R0UTINGKEY', HOST);
    expect(ev.routing_key).toBe('R0UTINGKEY');
    expect(ev.event_action).toBe('trigger');
    expect(ev.dedup_key).toBe('lvskeep:lb1.example.net:rs-down:tcp 203.0.113.1:80:198.51.100.11:80');
    if (ev.event_action !== 'trigger') throw new Error('expected trigger');
    expect(ev.payload.summary).toBe('Real server 198.51.100.11:80 DOWN on tcp 203.0.113.1:80: HTTP 503 (12 ms) (lb1.example.net)');
    expect(ev.payload.source).toBe(HOST);
    expect(ev.payload.severity).toBe('warning');
    expect(ev.payload.timestamp).toBe('2026-11-21T12:00:00.000Z');
    expect(ev.payload.component).toBe('tcp 203.0.113.1:80');
    expect(ev.payload.class).toBe('rs.down');
    expect(ev.payload.custom_details).toMatchObject({ 'real server': '198.51.100.11:80', reason: 'HTTP 503', latency: '12 ms' });
  });

  it('resolves the recovery with the same dedup_key and nothing else', () => {
    const trig = pagerDutyEvent(down, 'K', HOST);
    expect(pagerDutyEvent(up, 'K', HOST)).toEqual({ routing_key: 'K', event_action: 'resolve', dedup_key: trig.dedup_key });
  });

  it('keeps dedup_key within 255 and summary within 1024 characters', () => {
    const long = createEvent({ type: 'ipvs.error', operation: 'NEW_DEST', object: 'x'.repeat(2000), error: 'EEXIST' }, T);
    const ev = pagerDutyEvent(long, 'K', HOST);
    expect(ev.dedup_key.length).toBeLessThanOrEqual(255);
    expect(ev.event_action === 'trigger' && ev.payload.summary.length).toBe(1024);
    expect(ev.dedup_key).toBe(pagerDutyEvent({ ...long, time: T + 1 }, 'K', HOST).dedup_key); // stable
    expect(incidentKey(HOST, 'a'.repeat(300), 255)).not.toBe(incidentKey(HOST, `${'a'.repeat(299)}b`, 255));
  });

  it('sends one request per event, trigger+resolve for a test, none for a digest', () => {
    expect(pagerDutyRequests({ kind: 'group', events: [down, quorum] }, 'K', HOST).map((r) => r.event_action)).toEqual(['trigger', 'trigger']);
    const test = createEvent({ type: 'alert.test', note: 'n' }, T);
    const reqs = pagerDutyRequests({ kind: 'test', events: [test] }, 'K', HOST);
    expect(reqs.map((r) => r.event_action)).toEqual(['trigger', 'resolve']);
    expect(reqs[0]?.dedup_key).toBe(reqs[1]?.dedup_key);
    expect(pagerDutyRequests({ kind: 'digest', title: 't', text: 'x', fields: [], time: T }, 'K', HOST)).toEqual([]);
    expect(quorum.severity).toBe('critical');
    expect(pagerDutyEvent(quorum, 'K', HOST)).toMatchObject({ payload: { severity: 'critical' } });
  });
});

describe('Opsgenie Alert API', () => {
  it('creates with message, alias, priority, description and tags', () => {
    const r = opsgenieRequest(quorum, HOST);
    expect(r.path).toBe('/v2/alerts');
    expect(r.body).toMatchObject({
      message: 'Quorum lost on tcp 203.0.113.1:80: healthy weight 0, quorum 2',
      alias: 'lvskeep:lb1.example.net:quorum:tcp 203.0.113.1:80',
      priority: 'P1',
      tags: ['lvskeep', 'quorum.lost', 'critical'],
      source: HOST,
      entity: 'tcp 203.0.113.1:80',
    });
    expect(r.body.description).toContain('quorum: 2');
    expect(opsgenieRequest(down, HOST).body.priority).toBe('P3');
  });

  it('closes by alias on recovery', () => {
    const alias = opsgenieRequest(down, HOST).body.alias as string;
    const r = opsgenieRequest(up, HOST);
    expect(r.path).toBe(`/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`);
    expect(r.path).toContain('lvskeep%3Alb1.example.net%3Ars-down%3Atcp%20203.0.113.1%3A80%3A198.51.100.11%3A80');
    expect(r.body).toMatchObject({ source: HOST });
  });

  it('keeps message within 130 characters', () => {
    const long = createEvent({ type: 'daemon.reload_failed', source: '/etc/lvskeep.yaml', error: 'e'.repeat(500) }, T);
    expect((opsgenieRequest(long, HOST).body.message as string).length).toBe(130);
    expect(opsgenieRequests({ kind: 'test', events: [createEvent({ type: 'alert.test', note: 'n' }, T)] }, HOST).map((r) => r.path.split('?')[0]?.endsWith('/close'))).toEqual([false, true]);
  });
});

describe('Slack / Mattermost', () => {
  it('has a fallback text with the whole message and Block Kit blocks', () => {
    const p = slackPayload(one(down), HOST);
    expect(p.text).toBe('[WARNING] Real server 198.51.100.11:80 DOWN on tcp 203.0.113.1:80: HTTP 503 (12 ms)');
    expect(p.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: p.text, emoji: true } });
    expect(p.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(p.blocks.at(-1)).toMatchObject({ type: 'context', elements: [{ type: 'mrkdwn', text: `lvskeep on ${HOST} · 2026-11-21T12:00:00.000Z` }] });
  });

  it('escapes mrkdwn control characters and lists a group', () => {
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    const evil = createEvent({ type: 'rs.down', ...ref, reason: '<!channel> & more' }, T);
    const e = slackPayload(one(evil), HOST);
    // plain_text (the header) is never parsed for mentions; text and mrkdwn blocks are, so they are escaped.
    expect(JSON.stringify([e.text, ...e.blocks.slice(1)])).not.toContain('<!channel>');
    expect(e.text).toContain('&lt;!channel&gt; &amp; more');
    const g = slackPayload({ kind: 'group', events: [down, { ...down, realServer: '198.51.100.12:80' }] }, HOST);
    expect(g.text.split('\n')).toHaveLength(3);
    expect(g.text).toContain('2 × rs.down');
  });

  it('marks a recovery resolved', () => {
    expect(slackPayload(one(up), HOST).text.startsWith('[RESOLVED]')).toBe(true);
  });
});

describe('Teams', () => {
  it('wraps an Adaptive Card in a message attachment', () => {
    const p = teamsAdaptivePayload(one(quorum), HOST) as { type: string; attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[] };
    expect(p.type).toBe('message');
    expect(p.attachments).toHaveLength(1);
    const a = p.attachments[0];
    expect(a?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(a?.contentUrl).toBeNull();
    expect(a?.content).toMatchObject({ type: 'AdaptiveCard', version: '1.2', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    const body = a?.content.body as { type: string; facts?: { title: string; value: string }[]; color?: string }[];
    expect(body.map((b) => b.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet']);
    expect(body[0]?.color).toBe('Attention');
    expect(body[2]?.facts).toContainEqual({ title: 'quorum', value: '2' });
  });

  it('builds a legacy MessageCard with summary and facts', () => {
    const p = teamsMessageCardPayload(one(up), HOST) as Record<string, unknown>;
    expect(p['@type']).toBe('MessageCard');
    expect(p['@context']).toBe('http://schema.org/extensions');
    expect(p.summary).toMatch(/^\[RESOLVED\] Real server/);
    expect(p.themeColor).toBe('2E7D32');
    expect((p.sections as { facts: unknown[] }[])[0]?.facts).toContainEqual({ name: 'host', value: HOST });
  });

  it('treats a 200 carrying "HTTP error 429" as throttling', () => {
    expect(inspectTeamsBody('Microsoft Teams endpoint returned HTTP error 429 with ContextId ...')).toMatchObject({ ok: false, retryable: true });
    expect(inspectTeamsBody('1')).toBeUndefined();
  });
});

describe('generic webhook', () => {
  it('signs the exact body with HMAC-SHA256', () => {
    const body = JSON.stringify(webhookPayload(one(down), HOST));
    const expected = createHmac('sha256', 'k3y').update(body).digest('hex');
    expect(signBody(body, 'k3y')).toBe(`sha256=${expected}`);
    expect(signBody(`${body} `, 'k3y')).not.toBe(`sha256=${expected}`);
  });

  it('carries the events with ISO times', () => {
    const p = webhookPayload({ kind: 'reminder', events: [down], openSince: T }, HOST);
    expect(p).toMatchObject({ version: 1, kind: 'reminder', host: HOST, severity: 'warning', resolved: false, open_since: '2026-11-21T12:00:00.000Z' });
    expect((p.events as { dedupKey: string; time: string }[])[0]).toMatchObject({ dedupKey: down.dedupKey, time: '2026-11-21T12:00:00.000Z', type: 'rs.down' });
  });
});

describe('script notify arguments (keepalived convention)', () => {
  it('VRRP: INSTANCE name STATE priority', () => {
    const e = createEvent({ type: 'vrrp.state', instance: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master down', priority: 100 }, T);
    expect(notifyArgs(e)).toEqual(['INSTANCE', 'VI_1', 'MASTER', '100']);
  });

  it('real servers: RS addr:port VS addr:port UP|DOWN', () => {
    expect(notifyArgs(down)).toEqual(['RS', '198.51.100.11:80', 'VS', '203.0.113.1:80', 'DOWN']);
    expect(notifyArgs(up)).toEqual(['RS', '198.51.100.11:80', 'VS', '203.0.113.1:80', 'UP']);
  });

  it('other events: EVENT type key SEVERITY, with the event as JSON in the environment', () => {
    expect(notifyArgs(quorum)).toEqual(['EVENT', 'quorum.lost', 'quorum:tcp 203.0.113.1:80', 'CRITICAL']);
    const env = notifyEnv(quorum, HOST);
    expect(JSON.parse(env.LVSKEEP_EVENT ?? '{}')).toMatchObject({ type: 'quorum.lost', up: 0 });
    expect(env).toMatchObject({ LVSKEEP_SEVERITY: 'critical', LVSKEEP_RESOLVES: '0', LVSKEEP_HOST: HOST, LVSKEEP_VIRTUAL_SERVER: 'tcp 203.0.113.1:80' });
  });
});
