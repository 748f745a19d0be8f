export { FerryMetrics, LIMIT_EVENTS, type LimitEvent, type MetricsSources, type FerryMetricsOptions, type MetricsSnapshot, type RateLimitedKind } from './metrics.js';
