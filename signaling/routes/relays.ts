/**
 * Admin: GET /v1/relays, the relays of the fleet that are alive now (their registry entry has not
 * expired), with their state, load, region and transports, read from the registry when asked
 * (503 when its storage is unreachable). With one node (SQLite storage) the node is the fleet:
 * it lists itself alone, so the route answers the same question everywhere. Registered when the
 * app has a relay registry (`relays` in its deps).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RelayEntry } from '../../src/cluster/types.js';
import type { RelayFleet } from '../deps.js';
import { ApiError } from '../errors.js';
import { errors } from '../schemas.js';

const Port = z.int().min(1).max(65535);

export const RelaySchema = z
  .object({
    node_id: z.string().describe('The node\'s id (cluster.node_id).'),
    public_host: z.string().describe('Host put in the TURN URLs that point at this relay.'),
    region: z.string().nullable().describe('cluster.region; null: none.'),
    state: z.enum(['active', 'draining']).describe('draining: stopping; no new allocations are sent its way.'),
    transports: z.array(z.enum(['udp', 'tcp', 'tls'])).describe('Transports the relay listens on.'),
    ports: z.object({ udp: Port.optional(), tcp: Port.optional(), tls: Port.optional() }).describe('Listening port per transport.'),
    load: z.object({
      allocations: z.int().nonnegative().describe('Live TURN allocations at its last heartbeat.'),
      bps: z.number().nonnegative().describe('Relayed payload bytes per second (both ways) over its last heartbeat.'),
    }),
    started_at: z.string().describe('When the node started (ISO 8601, UTC; the node\'s clock).'),
    version: z.string().describe('Ferry version the node runs.'),
    self: z.boolean().describe('True for the node that answered.'),
  })
  .describe('Relay');

export function relayDto(e: RelayEntry, self: string): z.infer<typeof RelaySchema> {
  return {
    node_id: e.nodeId,
    public_host: e.publicHost,
    region: e.region ?? null,
    state: e.state,
    transports: [...e.transports],
    ports: { ...e.ports },
    load: { allocations: e.load.allocations, bps: e.load.bps },
    started_at: new Date(e.startedAt).toISOString(),
    version: e.version,
    self: e.nodeId === self,
  };
}

export function relayRoutes(fleet: RelayFleet): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/relays', {
      schema: {
        summary: 'List the live relays of the fleet',
        description: 'Every node whose registry entry is alive (refreshed every cluster.heartbeat, gone within cluster.ttl of its last one), sorted by node id; at most 1000. With SQLite storage the node is the fleet and lists itself. 503 (code storage_unavailable) while Redis is unreachable.',
        tags: ['admin: relays'],
        response: { 200: z.object({ relays: z.array(RelaySchema) }), ...errors(503) },
      },
    }, async () => {
      const entries = await fleet.read();
      if (entries === null) throw new ApiError(503, 'storage_unavailable', 'the relay registry is unavailable: Redis is not reachable');
      entries.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
      return { relays: entries.map((e) => relayDto(e, fleet.nodeId)) };
    });
  };
}
