/**
 * Prometheus metrics: counters fed by the relay's events and the limiter, gauges read at scrape
 * time from the sources the other components register (FerryMetrics.sources). Served by
 * signaling at GET /metrics. `metrics` (its token) needs a restart.
 */
import { FerryMetrics } from '../../src/metrics/index.js';
import type { Component } from './component.js';

export class MetricsComponent implements Component {
  readonly name = 'metrics';
  readonly metrics = new FerryMetrics();

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
