export { FerryMetrics, LIMIT_EVENTS, type LimitEvent, type MetricsSources, type FerryMetricsOptions, type RateLimitedKind } from './metrics.js';
