/**
 * GET /healthz: the process answers HTTP (for load balancers and orchestrators). "degraded" (still
 * 200: the node relays its live allocations and must not be restarted for it) names what does not
 * work, e.g. a fleet node that cannot reach Redis: calls that need it answer 503 meanwhile.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** At most this many problems are listed. */
const MAX_PROBLEMS = 20;

export function healthRoutes(problems?: () => readonly string[]): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', {
      schema: {
        summary: 'Liveness check',
        description: '200 while the process answers. status "degraded" with `problems` when part of it does not work (in a fleet: Redis unreachable; calls that need it answer 503, live allocations keep relaying).',
        tags: ['health'],
        response: {
          200: z.union([
            z.object({ status: z.literal('ok') }),
            z.object({ status: z.literal('degraded'), problems: z.array(z.string()).describe('What does not work, for a human.') }),
          ]),
        },
      },
    }, async () => {
      const found = problems?.() ?? [];
      if (found.length === 0) return { status: 'ok' as const };
      return { status: 'degraded' as const, problems: found.slice(0, MAX_PROBLEMS) };
    });
  };
}
