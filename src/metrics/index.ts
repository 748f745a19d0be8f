export { FerryMetrics, LIMIT_EVENTS, type LimitEvent, type MetricsSources, type FerryMetricsOptions } from './metrics.js';
