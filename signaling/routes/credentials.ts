/**
 * Account API: TURN credentials as an RTCConfiguration.iceServers list, and short-lived signaling
 * tokens for browsers. Authenticated by the account auth hook (API key or signaling token).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { describeTtlRange, formatSeconds, ICE_TTL, parseTtl, SIGNAL_TOKEN_TTL, TtlError, type TtlRange } from '../../src/credentials/ttl.js';
import { accountOf } from '../auth.js';
import type { SignalingDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { ACCOUNT_SECURITY, OPTIONAL_BODY } from '../openapi.js';
import { errors } from '../schemas.js';

/**
 * A ttl as `ferry credentials --ttl` takes it too (src/credentials/ttl.ts): whole seconds, as a
 * number or a string, or a duration string; out of its range it is a 400 naming body.ttl and the range.
 */
const Ttl = (what: string, range: TtlRange) =>
  z
    .union([z.int(), z.string()], { error: 'expected a whole number of seconds or a duration such as "15m"' })
    .transform((value, ctx) => {
      try {
        return parseTtl(value, range);
      } catch (err) {
        if (!(err instanceof TtlError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
    })
    .optional()
    .describe(
      `Lifetime of the ${what}: whole seconds (e.g. 3600) or a duration such as "90s", "15m", "1h" or "1h30m"; ${describeTtlRange(range)}, default ${formatSeconds(range.default)}. Out of range: 400, nothing is raised or lowered.`,
    );

/** An optional body: none at all (fastify reads it as null) is the same as {}. */
const TtlBody = (what: string, range: TtlRange) =>
  z.preprocess((body) => body ?? {}, z.strictObject({ ttl: Ttl(what, range) }).describe('Optional; no body is the same as {}.'));

const IceServersBody = z.preprocess(
  (body) => body ?? {},
  z
    .strictObject({
      ttl: Ttl('TURN credential', ICE_TTL),
      region: z
        .string({ error: 'expected a region name such as "eu-west"' })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'expected 1-63 letters, digits, ".", "_" or "-"' })
        .optional()
        .describe('Preferred region of the relays (cluster.region of the nodes): its relays are chosen first, others only when it has fewer than two live ones. Ignored by a single node.'),
    })
    .describe('Optional; no body is the same as {}.'),
);

const IceServersResponse = z.object({
  iceServers: z
    .array(
      z.object({
        urls: z.array(z.string()).describe('stun:, turn: (UDP and TCP) and, when TLS is on, turns: URLs.'),
        username: z.string().describe('TURN REST username: "<expiry>:<account id>:<issued at>".'),
        credential: z.string().describe('TURN password for that username.'),
      }),
    )
    .describe('Pass as is to new RTCPeerConnection({ iceServers }).'),
  expires_at: z.string().describe('When the credential stops working (ISO 8601, UTC).'),
});

export function credentialRoutes(deps: SignalingDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/v1/ice-servers', {
      schema: {
        summary: 'TURN credentials for RTCPeerConnection',
        description: 'One node: the URLs use signaling.public_host, or else the host of the request. A fleet (storage redis://): one entry per relay, two when at least two are live and not draining, chosen by load (the lighter of two picked at random; relays of the requested region first), each with the relay\'s cluster.public_host and ports and the same credential, which every node accepts (the nodes share auth_secrets); 503 (code no_relays) when no live relay is known. 429 (code usage_limit) while the account is over its soft usage limit or the global one, until the timeframe ends; 429 (code rate_limited, with Retry-After) while it is over rate_limits.allocations_per_account for the current minute.',
        tags: ['account'],
        security: ACCOUNT_SECURITY,
        [OPTIONAL_BODY]: true,
        body: IceServersBody,
        response: { 200: IceServersResponse, ...errors(400, 401, 413, 415, 429, 503) },
      },
    }, async (request) => {
      const { accountId } = accountOf(request);
      if (deps.usageLimited?.(accountId) === true) {
        throw new ApiError(429, 'usage_limit', 'usage limit reached for this timeframe: no new TURN credentials until it ends');
      }
      const retryAfter = deps.allocationRateLimited?.(accountId) ?? 0;
      if (retryAfter > 0) {
        throw new ApiError(429, 'rate_limited', `too many new allocations for this account this minute (rate_limits.allocations_per_account): retry in ${retryAfter} s`, { 'retry-after': String(retryAfter) });
      }
      const relays = deps.relays?.pick(request.body.region);
      if (relays !== undefined && relays.length === 0) {
        throw new ApiError(503, 'no_relays', 'no live relay is known: the relay registry is empty or unreachable');
      }
      const issued = deps.iceServers.issue(accountId, request.body.ttl, request.host, relays);
      return { iceServers: [...issued.iceServers], expires_at: issued.expires_at };
    });

    app.post('/v1/signal-tokens', {
      schema: {
        summary: 'A short-lived signaling token for a browser',
        description: 'Needs an API key (a signaling token cannot mint another). Browsers pass the token as ?token= to the WebSocket /v1/signal, or as a bearer to /v1/ice-servers.',
        tags: ['account'],
        security: [{ apiKey: [] }],
        [OPTIONAL_BODY]: true,
        body: TtlBody('signaling token', SIGNAL_TOKEN_TTL),
        response: {
          201: z.object({
            token: z.string().describe('st_...; revoked with the account\'s credentials.'),
            expires_at: z.string().describe('Expiry (ISO 8601, UTC).'),
          }),
          ...errors(400, 401, 403, 413, 415, 503),
        },
      },
    }, async (request, reply) => {
      const { accountId, via } = accountOf(request);
      if (via !== 'api_key') {
        throw new ApiError(403, 'forbidden', 'a signaling token cannot mint signaling tokens: use an API key');
      }
      return reply.code(201).send(deps.tokens.mint(accountId, request.body.ttl));
    });
  };
}
