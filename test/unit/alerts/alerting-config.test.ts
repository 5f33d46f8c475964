import { describe, expect, it } from 'vitest';
import { AlertingConfigError, startAlerting } from '../../../src/alerts/index.js';
import { SINK_DEFAULTS, type SinkSettings } from '../../../src/alerts/types.js';
import { EventBus } from '../../../src/events/bus.js';
import type { LvsEvent } from '../../../src/events/types.js';

const s = (over: Partial<SinkSettings> & Pick<SinkSettings, 'name' | 'type'>): SinkSettings => ({ ...SINK_DEFAULTS, ...over });

describe('startAlerting configuration errors', () => {
  it('reports every broken sink by name and field, and subscribes nothing', () => {
    const bus = new EventBus<LvsEvent>();
    let err: unknown;
    try {
      startAlerting({
        host: 'lb1',
        bus,
        env: {},
        sinks: [
          s({ name: 'pd', type: 'pagerduty', routingKey: '${PD_KEY}' }),
          s({ name: 'og', type: 'opsgenie' }),
          s({ name: 'chat', type: 'slack', url: 'ftp://example.net/x' }),
          s({ name: 'hook', type: 'webhook' }),
          s({ name: 'notify', type: 'script', command: [] }),
          s({ name: 'ok', type: 'webhook', url: 'http://127.0.0.1:9/' }),
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlertingConfigError);
    expect((err as AlertingConfigError).problems).toEqual([
      'alerts.sinks[pd].routing_key: environment variable PD_KEY is not set',
      'alerts.sinks[og].api_key: required for opsgenie sinks',
      'alerts.sinks[chat].url: must be http(s), got ftp:',
      'alerts.sinks[hook].url: required for webhook sinks',
      'alerts.sinks[notify].command: required (argv list) for script sinks',
    ]);
    expect(bus.listenerCount).toBe(0);
  });

  it('subscribes to the bus and unsubscribes on stop', async () => {
    const bus = new EventBus<LvsEvent>();
    const a = startAlerting({ host: 'lb1', bus, sinks: [s({ name: 'ok', type: 'webhook', url: 'http://127.0.0.1:9/' })] });
    expect(bus.listenerCount).toBe(1);
    await expect(a.stop(100)).resolves.toBe(0);
    expect(bus.listenerCount).toBe(0);
  });
});
