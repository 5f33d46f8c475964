import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startAlerting, type Alerting } from '../../../src/alerts/index.js';
import { SINK_DEFAULTS, type SinkSettings } from '../../../src/alerts/types.js';
import { EventBus } from '../../../src/events/bus.js';
import { createEvent, type LvsEvent } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { Receiver, waitFor } from './receiver.js';

const receivers: Receiver[] = [];
let alerting: Alerting | undefined;

afterEach(async () => {
  await alerting?.stop(500);
  alerting = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(): Promise<[Receiver, string]> {
  const r = new Receiver();
  receivers.push(r);
  return [r, await r.listen()];
}

describe('alerting wired to the event bus', () => {
  it('events on the bus reach the sinks; a failing sink is reported to the others, and its recovery too', async () => {
    const [chat, chatUrl] = await receiver();
    const [pd, pdUrl] = await receiver();
    let pdDown = true;
    pd.answer = () => (pdDown ? { status: 500, body: 'upstream broke' } : { status: 202 });
    const bus = new EventBus<LvsEvent>();
    const sinks: SinkSettings[] = [
      { ...SINK_DEFAULTS, name: 'chat', type: 'webhook', url: `${chatUrl}/chat` },
      { ...SINK_DEFAULTS, name: 'pd', type: 'pagerduty', url: `${pdUrl}/v2/enqueue`, routingKey: 'K'.repeat(32), retries: 0 },
    ];
    alerting = startAlerting({ host: 'lb1', bus, sinks });
    bus.emit(createEvent({ type: 'quorum.lost', virtualServer: 'tcp 203.0.113.1:80', reason: 'healthy weight 0, quorum 1', up: 0, quorum: 1 }, Date.now()));
    await waitFor(() => chat.received.length === 2, 5_000, 'chat to get the event and the failure report');
    const types = chat.received.map((_r, i) => (chat.json(i).events as { type: string }[])[0]?.type);
    expect(types).toEqual(['quorum.lost', 'alert.delivery_failing']);
    expect((chat.json(1).events as { sink: string; error: string }[])[0]).toMatchObject({ sink: 'pd', error: expect.stringContaining('HTTP 500') });
    expect(pd.received).toHaveLength(1); // pd was not sent news about itself
    pdDown = false;
    bus.emit(createEvent({ type: 'quorum.regained', virtualServer: 'tcp 203.0.113.1:80', reason: 'healthy weight 1, quorum 1', up: 1, quorum: 1 }, Date.now()));
    await waitFor(() => chat.received.length === 4, 5_000, 'recovery and delivery recovered');
    expect(chat.received.slice(2).map((_r, i) => (chat.json(i + 2).events as { type: string }[])[0]?.type).sort()).toEqual(['alert.delivery_recovered', 'quorum.regained']);
  });

  it('never writes webhook tokens or keys to the log', async () => {
    const [hook, hookUrl] = await receiver();
    hook.answer = () => ({ status: 503, body: 'nope' });
    let log = '';
    const destination = new Writable({ write(chunk: Buffer, _enc, cb) { log += chunk.toString(); cb(); } });
    const logger = await createLogger({ level: 'debug', destination });
    const bus = new EventBus<LvsEvent>();
    alerting = startAlerting({
      host: 'lb1',
      bus,
      logger,
      env: { OG_KEY: 'og-secret-key-123' },
      sinks: [
        { ...SINK_DEFAULTS, name: 'slack', type: 'slack', url: `${hookUrl}/services/T0001/B0001/slack-token-xyz`, retries: 1 },
        { ...SINK_DEFAULTS, name: 'og', type: 'opsgenie', url: hookUrl, apiKey: '${OG_KEY}', retries: 1 },
      ],
    });
    alerting.dispatcher.publish(createEvent({ type: 'daemon.stopped', reason: 'test' }, Date.now()));
    await waitFor(() => (alerting?.dispatcher.stats().og?.droppedFailed ?? 0) === 1 && (alerting?.dispatcher.stats().slack?.droppedFailed ?? 0) === 1, 10_000, 'both to give up');
    expect(log).toContain('alert dropped: delivery failed');
    expect(log).toContain(hookUrl.replace('http://', '')); // the host is named ...
    expect(log).not.toContain('slack-token-xyz'); // ... the token in the path is not
    expect(log).not.toContain('og-secret-key-123');
    expect(hook.received.some((r) => r.headers.authorization === 'GenieKey og-secret-key-123')).toBe(true);
  });
});
