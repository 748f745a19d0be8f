/**
 * GET /metrics: Prometheus text exposition. Without a configured token it answers anyone (as
 * Prometheus scrapes usually are); with metrics.token it wants `Authorization: Bearer <token>`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { requireSecret } from '../auth.js';
import type { MetricsEndpoint } from '../deps.js';

export function metricsRoutes(metrics: MetricsEndpoint): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const expected = metrics.token;
      if (expected !== undefined) requireSecret(request, expected, 'metrics', 'metrics.token');
      const { contentType, body } = await metrics.render();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
