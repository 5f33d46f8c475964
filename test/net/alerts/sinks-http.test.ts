import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { createSink } from '../../../src/alerts/sinks/index.js';
import { SINK_DEFAULTS, type SinkSettings } from '../../../src/alerts/types.js';
import { createEvent } from '../../../src/events/types.js';
import { Receiver, waitFor } from './receiver.js';

const HOST = 'lb1.test';
const ref = { virtualServer: 'tcp 203.0.113.1:80', realServer: '198.51.100.11:80' };
const down = () => createEvent({ type: 'rs.down', ...ref, reason: 'HTTP 503', latencyMs: 4 }, Date.now());
const up = () => createEvent({ type: 'rs.up', ...ref, reason: 'HTTP 200' }, Date.now());

let rx: Receiver;
let base: string;
let dispatcher: AlertDispatcher | undefined;

beforeEach(async () => {
  rx = new Receiver();
  base = await rx.listen();
});

afterEach(async () => {
  await dispatcher?.close(500);
  dispatcher = undefined;
  await rx.close();
});

function start(s: Partial<SinkSettings> & Pick<SinkSettings, 'name' | 'type'>, env: NodeJS.ProcessEnv = {}) {
  const settings: SinkSettings = { ...SINK_DEFAULTS, timeoutMs: 2_000, retries: 2, ...s };
  const sink = createSink(settings, { host: HOST, now: Date.now, env });
  dispatcher = new AlertDispatcher({ sinks: [{ settings, sink }], backoff: { baseMs: 50, maxMs: 400 } });
  return dispatcher;
}

describe('sinks against a real HTTP receiver on 127.0.0.1', () => {
  it('webhook: JSON POST with custom headers and a verifiable X-Lvskeep-Signature', async () => {
    const d = start({ name: 'hook', type: 'webhook', url: `${base}/hook`, headers: { 'X-Team': 'netops' }, secret: '${HOOK_SECRET}' }, { HOOK_SECRET: 'k3y-from-env' });
    d.publish(down());
    await waitFor(() => rx.received.length === 1, 5_000, 'webhook POST');
    const r = rx.received[0];
    expect(r?.method).toBe('POST');
    expect(r?.url).toBe('/hook');
    expect(r?.headers['content-type']).toBe('application/json');
    expect(r?.headers['x-team']).toBe('netops');
    expect(r?.headers['user-agent']).toMatch(/^lvskeep\/\d/);
    const expected = `sha256=${createHmac('sha256', 'k3y-from-env').update(r?.body ?? '').digest('hex')}`;
    expect(r?.headers['x-lvskeep-signature']).toBe(expected);
    expect(rx.json(0)).toMatchObject({ version: 1, kind: 'event', host: HOST, events: [{ type: 'rs.down', dedupKey: 'rs-down:tcp 203.0.113.1:80:198.51.100.11:80' }] });
  });

  it('pagerduty: trigger then resolve with the same dedup_key to the configured URL', async () => {
    rx.answer = () => ({ status: 202, body: '{"status":"success","message":"Event processed"}' });
    const d = start({ name: 'pd', type: 'pagerduty', url: `${base}/v2/enqueue`, routingKey: 'R'.repeat(32) });
    d.publish(down());
    d.publish(up());
    await waitFor(() => rx.received.length === 2, 5_000, 'two PagerDuty events');
    expect(rx.received.map((r) => r.url)).toEqual(['/v2/enqueue', '/v2/enqueue']);
    const [t, r] = [rx.json(0), rx.json(1)];
    expect(t).toMatchObject({ routing_key: 'R'.repeat(32), event_action: 'trigger', payload: { source: HOST, severity: 'warning' } });
    expect(r).toEqual({ routing_key: 'R'.repeat(32), event_action: 'resolve', dedup_key: t.dedup_key });
  });

  it('opsgenie: create with GenieKey, close by alias', async () => {
    rx.answer = () => ({ status: 202, body: '{"result":"Request will be processed"}' });
    const d = start({ name: 'og', type: 'opsgenie', url: base, apiKey: 'og-api-key' });
    d.publish(down());
    d.publish(up());
    await waitFor(() => rx.received.length === 2, 5_000, 'two Opsgenie requests');
    expect(rx.received[0]?.url).toBe('/v2/alerts');
    expect(rx.received[0]?.headers.authorization).toBe('GenieKey og-api-key');
    const alias = rx.json(0).alias as string;
    expect(rx.received[1]?.url).toBe(`/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`);
    expect(rx.received[1]?.headers.authorization).toBe('GenieKey og-api-key');
  });

  it('slack and teams post their documented bodies', async () => {
    const slackRx = rx;
    const teamsRx = new Receiver();
    const teamsBase = await teamsRx.listen();
    try {
      const sinks = (['slack', 'teams'] as const).map((type) => {
        const settings: SinkSettings = { ...SINK_DEFAULTS, name: type, type, url: type === 'slack' ? `${base}/services/T/B/x` : `${teamsBase}/workflows/x` };
        return { settings, sink: createSink(settings, { host: HOST, now: Date.now }) };
      });
      dispatcher = new AlertDispatcher({ sinks });
      dispatcher.publish(down());
      await waitFor(() => slackRx.received.length === 1 && teamsRx.received.length === 1, 5_000, 'slack and teams posts');
      expect(slackRx.json(0)).toMatchObject({ text: expect.stringContaining('DOWN'), blocks: expect.arrayContaining([expect.objectContaining({ type: 'header' })]) });
      expect(teamsRx.json(0)).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
    } finally {
      await dispatcher?.close(500);
      dispatcher = undefined;
      await teamsRx.close();
    }
  });

  it('alert test reports a rejected key as a final failure without retrying', async () => {
    rx.answer = () => ({ status: 401, body: '{"message":"Invalid API key"}' });
    const d = start({ name: 'og', type: 'opsgenie', url: base, apiKey: 'wrong-key-123' });
    const [result] = await d.sendTest('og');
    expect(result?.outcome).toMatchObject({ ok: false, retryable: false });
    expect(result?.outcome.ok === false && result.outcome.error).toContain('HTTP 401');
    expect(result?.outcome.ok === false && result.outcome.error).not.toContain('wrong-key-123');
    expect(rx.received).toHaveLength(1);
  });
});

describe('failure handling against real receivers', () => {
  it('teams: a 200 whose body reports throttling is retried', async () => {
    rx.answer = (_r, i) => (i === 0 ? { status: 200, body: 'Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0' } : { status: 200, body: '1' });
    const d = start({ name: 'teams', type: 'teams', url: `${base}/webhookb2/x`, teamsFormat: 'messagecard' });
    d.publish(down());
    await waitFor(() => d.stats().teams?.delivered === 1, 5_000, 'teams delivery after throttling');
    expect(rx.received).toHaveLength(2);
    expect(rx.json(1)['@type']).toBe('MessageCard');
    expect(d.stats().teams?.retries).toBe(1);
  });

  it('retries on 500 and keeps order', async () => {
    rx.answer = (_r, i) => (i < 2 ? { status: 500, body: 'oops' } : { status: 200 });
    const d = start({ name: 'hook', type: 'webhook', url: base, retries: 4 });
    for (let n = 1; n <= 3; n++) d.publish(createEvent({ type: 'rs.down', virtualServer: ref.virtualServer, realServer: `198.51.100.${n}:80`, reason: 'x' }, Date.now()));
    await waitFor(() => d.stats().hook?.delivered === 3, 10_000, 'three deliveries');
    expect(rx.received).toHaveLength(5);
    const order = rx.received.map((_r, i) => ((rx.json(i).events as { realServer: string }[])[0]?.realServer));
    expect(order).toEqual(['198.51.100.1:80', '198.51.100.1:80', '198.51.100.1:80', '198.51.100.2:80', '198.51.100.3:80']);
    expect(d.stats().hook).toMatchObject({ delivered: 3, retries: 2, droppedFailed: 0 });
  });

  it('honours 429 Retry-After in seconds and as an HTTP date', async () => {
    let first = 0;
    rx.answer = (r, i) => {
      if (i === 0) {
        first = r.at;
        return { status: 429, headers: { 'Retry-After': '1' } };
      }
      if (i === 2) return { status: 429, headers: { 'Retry-After': new Date(Date.now() + 2_000).toUTCString() } };
      return { status: 200 };
    };
    const d = start({ name: 'hook', type: 'webhook', url: base, retries: 3 });
    d.publish(down());
    await waitFor(() => rx.received.length === 2, 5_000, 'retry after 429');
    expect((rx.received[1]?.at ?? 0) - first).toBeGreaterThanOrEqual(950);
    d.publish(up());
    await waitFor(() => d.stats().hook?.delivered === 2, 6_000, 'retry after dated 429');
    // HTTP dates have one-second resolution: at least one second of the two was waited
    expect((rx.received[3]?.at ?? 0) - (rx.received[2]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(d.stats().hook).toMatchObject({ delivered: 2, retries: 2 });
  });

  it('a hanging receiver: each attempt times out, memory stays bounded, connections are not leaked', async () => {
    rx.answer = () => 'hang';
    const d = start({ name: 'hook', type: 'webhook', url: base, timeoutMs: 200, retries: 1, queueSize: 20 });
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20_000; i++) d.publish(createEvent({ type: 'rs.down', virtualServer: ref.virtualServer, realServer: `198.51.100.${i % 250}:${1000 + i}`, reason: 'x' }, Date.now()));
    const s = d.stats().hook;
    expect(s?.queueDepth).toBeLessThanOrEqual(20);
    expect(s?.droppedQueueFull).toBeGreaterThanOrEqual(20_000 - 21);
    await waitFor(() => (d.stats().hook?.droppedFailed ?? 0) >= 2, 5_000, 'two messages to time out twice');
    expect(rx.openConnections).toBeLessThanOrEqual(2);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('a hanging sink does not delay a 10 ms timer loop (stand-in for VRRP adverts)', async () => {
    rx.answer = () => 'hang';
    const failing = new Receiver();
    const failingBase = await failing.listen();
    failing.answer = () => ({ status: 503, headers: { 'Retry-After': '0' } });
    try {
      // The hanging sink's timeout (1 s) is far above the lateness bound: if delivery ever ran on the
      // caller's path, the loop would be late by a whole timeout.
      const mk = (name: string, url: string): { settings: SinkSettings; sink: ReturnType<typeof createSink> } => {
        const settings: SinkSettings = { ...SINK_DEFAULTS, name, type: 'webhook', url, timeoutMs: 1_000, retries: 3, queueSize: 100 };
        return { settings, sink: createSink(settings, { host: HOST, now: Date.now }) };
      };
      dispatcher = new AlertDispatcher({ sinks: [mk('hang', base), mk('fail', failingBase)], backoff: { baseMs: 20, maxMs: 100 } });
      const d = dispatcher;
      const lateness: number[] = [];
      const publishMs: number[] = [];
      let expected = performance.now() + 10;
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const loop = (): void => {
          lateness.push(performance.now() - expected);
          ticks++;
          // every tick publishes a burst, as a health-check storm would
          const t0 = performance.now();
          for (let i = 0; i < 20; i++) d.publish(createEvent({ type: 'rs.down', virtualServer: ref.virtualServer, realServer: `198.51.100.${i}:${ticks}`, reason: 'x' }, Date.now()));
          publishMs.push(performance.now() - t0);
          if (ticks >= 300) return resolve();
          expected += 10;
          setTimeout(loop, Math.max(0, expected - performance.now()));
        };
        setTimeout(loop, 10);
      });
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const late = sorted(lateness);
      const median = late[Math.floor(late.length / 2)] ?? Infinity;
      // Bounds leave room for a loaded CI machine (other processes steal the CPU) but not for a blocked loop.
      expect(median).toBeLessThan(5);
      expect(late.at(-1)).toBeLessThan(250);
      expect(publishMs.reduce((a, b) => a + b, 0)).toBeLessThan(150); // 6000 publishes
      expect(sorted(publishMs)[Math.floor(publishMs.length / 2)]).toBeLessThan(1);
      expect(failing.received.length).toBeGreaterThan(0); // the failing sink was really being retried meanwhile
      expect(rx.received.length).toBeGreaterThan(0); // and the hanging one really hung
      expect(d.stats().hang?.queueDepth).toBeLessThanOrEqual(100);
    } finally {
      await dispatcher?.close(200);
      dispatcher = undefined;
      await failing.close();
    }
  });
});
