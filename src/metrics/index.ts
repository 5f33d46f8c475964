/** Prometheus metrics for lvskeep: the registry, its feeds (events, scrape-time collectors, instruments) and the endpoint. */
export { createMetrics, type Metrics, type MetricsOptions } from './registry.js';
export { applyEvent, subscribeMetrics, type EventSource } from './from-events.js';
export { attachCollectors, type MetricSources, type RealServerSnapshot, type VrrpStatusLike, type AlertStatsSource, type SinkStatsLike } from './collectors.js';
export { latenessTimers, meterIpvsBackend, recordCheckResult, recordReconcilePass, recordTimerLateness } from './instruments.js';
export { DEFAULT_METRICS_LISTEN, parseListen, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server.js';
export { startMetricsService, type MetricsService, type MetricsServiceOptions } from './service.js';
