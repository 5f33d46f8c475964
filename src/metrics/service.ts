/**
 * The one call the daemon makes: build the registry, follow the event bus, attach the scrape-time sources and
 * open the endpoint. A metrics endpoint that cannot listen (port taken) is logged and skipped by default: the
 * director must still take over its VIPs when a monitoring port is misconfigured.
 */
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { attachCollectors, type MetricSources } from './collectors.js';
import { subscribeMetrics, type EventSource } from './from-events.js';
import { createMetrics, type Metrics, type MetricsOptions } from './registry.js';
import { startMetricsServer, type ListenAddress, type MetricsServer } from './server.js';

export interface MetricsServiceOptions extends MetricsOptions {
  /** The config's `metrics` section. */
  config: { enabled: boolean; listen: string | ListenAddress };
  bus: EventSource;
  sources?: MetricSources;
  logger: Logger;
  /** Throw when the endpoint cannot listen instead of running without it; default false. */
  failOnListenError?: boolean;
  /** Longest wait for an async source during a scrape; default 2000 ms. */
  sourceTimeoutMs?: number;
}

export interface MetricsService {
  readonly metrics: Metrics;
  /** Undefined when the endpoint could not listen. */
  readonly server: MetricsServer | undefined;
  /** Unsubscribe, close the endpoint, stop the loop monitor. Idempotent. */
  stop(): Promise<void>;
}

/** Undefined when `config.enabled` is false. */
export async function startMetricsService(opts: MetricsServiceOptions): Promise<MetricsService | undefined> {
  if (!opts.config.enabled) return undefined;
  const { logger } = opts;
  const metrics = createMetrics(opts);
  const unsubscribe = subscribeMetrics(opts.bus, metrics);
  attachCollectors(metrics, opts.sources ?? {}, { logger, ...(opts.sourceTimeoutMs !== undefined ? { timeoutMs: opts.sourceTimeoutMs } : {}) });
  let server: MetricsServer | undefined;
  try {
    server = await startMetricsServer({ listen: opts.config.listen, registry: metrics.registry, logger });
  } catch (err) {
    if (opts.failOnListenError) {
      unsubscribe();
      metrics.close();
      throw err;
    }
    logger.error({ err: errorMessage(err) }, 'metrics endpoint disabled: it could not listen; lvskeep keeps running');
  }
  let stopping: Promise<void> | undefined;
  return {
    metrics,
    server,
    stop() {
      stopping ??= (async () => {
        unsubscribe();
        await server?.close();
        metrics.close();
      })();
      return stopping;
    },
  };
}
