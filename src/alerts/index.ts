/**
 * Wiring for the daemon: build the sinks, connect the dispatcher to the event bus, and feed the dispatcher's
 * own delivery trouble back onto the bus (so Slack hears that PagerDuty is unreachable).
 */
import type { EventBus } from '../events/bus.js';
import { createEvent, type LvsEvent } from '../events/types.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { systemClock, type Clock } from './clock.js';
import { AlertDispatcher } from './dispatcher.js';
import { createSink } from './sinks/index.js';
import type { Sink, SinkSettings } from './types.js';

export interface AlertingOptions {
  sinks: readonly SinkSettings[];
  /** This director's name in messages and incident keys (os.hostname() by default in the daemon). */
  host: string;
  bus: EventBus<LvsEvent>;
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export interface Alerting {
  dispatcher: AlertDispatcher;
  /** Unsubscribe from the bus and drain queues for up to `graceMs`; returns messages left undelivered. */
  stop(graceMs?: number): Promise<number>;
}

export class AlertingConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'AlertingConfigError';
  }
}

/** Build every sink first and report all configuration problems at once; nothing is subscribed on failure. */
export function startAlerting(o: AlertingOptions): Alerting {
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger();
  const problems: string[] = [];
  const built: { settings: SinkSettings; sink: Sink }[] = [];
  for (const settings of o.sinks) {
    try {
      built.push({ settings, sink: createSink(settings, { host: o.host, now: () => clock.now(), ...(o.env ? { env: o.env } : {}) }) });
    } catch (err) {
      problems.push(errorMessage(err));
    }
  }
  if (problems.length > 0) throw new AlertingConfigError(problems);
  const dispatcher = new AlertDispatcher({
    sinks: built,
    clock,
    logger,
    onDeliveryHealth: (body) => o.bus.emit(createEvent(body, clock.now())),
  });
  for (const { sink } of built) logger.info({ sink: sink.name, target: sink.describe() }, 'alert sink ready');
  const off = o.bus.on((e) => dispatcher.publish(e));
  return {
    dispatcher,
    async stop(graceMs = 5_000) {
      off();
      return dispatcher.close(graceMs);
    },
  };
}
