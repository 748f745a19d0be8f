/**
 * GET /metrics: Prometheus text exposition. Without a configured token it answers anyone (as
 * Prometheus scrapes usually are); with metrics.token it wants `Authorization: Bearer <token>`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { requireSecret } from '../auth.js';
import type { MetricsEndpoint } from '../deps.js';
import { errors } from '../schemas.js';

export function metricsRoutes(metrics: MetricsEndpoint): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', {
      schema: {
        summary: 'Prometheus metrics',
        description:
          'The relay\'s and the signaling service\'s metrics (ferry_* and the Node.js process metrics) in the Prometheus text exposition format, version 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8), for a Prometheus scrape. Needs `Authorization: Bearer <metrics.token>` when metrics.token is set; without it, no credentials.',
        tags: ['metrics'],
        security: [{}, { metricsToken: [] }],
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4.',
            content: { 'text/plain': { schema: z.string().describe('Prometheus text exposition format, version 0.0.4: # HELP / # TYPE lines and samples.') } },
          },
          ...errors(401),
        },
      },
    }, async (request, reply) => {
      const expected = metrics.token;
      if (expected !== undefined) requireSecret(request, expected, 'metrics', 'metrics.token');
      const { contentType, body } = await metrics.render();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
