/**
 * The signaling HTTP app: admin API (accounts, API keys, revocation, relay sessions), account API
 * (ICE servers, signaling tokens), WebSocket signaling, the demo page, /healthz and /openapi.json.
 * It never listens; the composition root does (or tests call `app.inject()`).
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { accountAuthHook, authenticateCredential, requireAdmin } from './auth.js';
import type { SignalingDeps } from './deps.js';
import { registerDemo } from './demo.js';
import { installErrorHandling } from './errors.js';
import { fastifyTimeoutOptions, resolveHttpTimeouts } from './timeouts.js';
import { documentAdminRoute, swaggerOptions } from './openapi.js';
import { accountRoutes } from './routes/accounts.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { credentialRoutes } from './routes/credentials.js';
import { healthRoutes } from './routes/health.js';
import { openApiRoutes } from './routes/openapi.js';
import { metricsRoutes } from './routes/metrics.js';
import { sessionRoutes } from './routes/sessions.js';
import { usageRoutes } from './routes/usage.js';
import { registerSignalingSocket } from './ws/index.js';

export type { SignalingDeps } from './deps.js';
export { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './timeouts.js';

/** Largest accepted request body. */
export const BODY_LIMIT = 64 * 1024;

export function buildSignalingApp(deps: SignalingDeps): FastifyInstance {
  const loggerInstance: FastifyBaseLogger | undefined = deps.log?.child({ component: 'signaling' });
  const app: FastifyInstance = Fastify({
    bodyLimit: BODY_LIMIT,
    // Bounded headers, request (body included), keep-alive and idle times: see ./timeouts.ts.
    ...fastifyTimeoutOptions(resolveHttpTimeouts(deps.httpTimeouts)),
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    // Request lines are logged below without the query string (it may carry a signaling token).
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app, BODY_LIMIT);

  // JSON bodies as usual, but an empty body with a JSON content type reads as "no body", as
  // browsers send it for a bodyless POST with `content-type: application/json`.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.length === 0) done(null, undefined);
    else parseJson(request, text, done);
  });

  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?', 1)[0];
    const fields = { method: request.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    // Health probes arrive every few seconds: debug, not info.
    if (path === '/healthz') request.log.debug(fields, 'request');
    else request.log.info(fields, 'request');
  });

  void app.register(fastifySwagger, swaggerOptions);

  void app.register(healthRoutes);
  void app.register(openApiRoutes);
  if (deps.metrics) void app.register(metricsRoutes(deps.metrics));
  // Admin API: the admin token is checked before the body is even read.
  void app.register(async (admin) => {
    admin.addHook('onRequest', async (request) => requireAdmin(request, deps));
    admin.addHook('onRoute', documentAdminRoute);
    await admin.register(accountRoutes(deps));
    await admin.register(apiKeyRoutes(deps));
    await admin.register(sessionRoutes(deps));
  });
  // Account API: an API key or a signaling token.
  void app.register(async (account) => {
    account.addHook('onRequest', accountAuthHook(deps));
    await account.register(credentialRoutes(deps));
  });

  // Usage: the admin token or an account's API key, checked by the routes themselves.
  void app.register(usageRoutes(deps));

  const hub = registerSignalingSocket(app, {
    // A bearer header may carry an API key or a signaling token; a token in the URL (browsers
    // cannot set headers on a WebSocket) must be a signaling token, so API keys stay out of URLs.
    authenticate: async ({ bearer, token }) => {
      const principal =
        bearer !== undefined ? await authenticateCredential(deps, bearer)
        : token !== undefined ? await authenticateCredential(deps, token, { apiKey: false })
        : null;
      if (principal === null) return null;
      // Recorded with the socket: revoking this key, or this token expiring, closes it.
      return {
        accountId: principal.accountId,
        ...(principal.keyId !== undefined ? { apiKeyId: principal.keyId } : {}),
        ...(principal.expiresAt !== undefined ? { expiresAt: principal.expiresAt } : {}),
      };
    },
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.signalLimits ? { limits: deps.signalLimits } : {}),
    ...(deps.log ? { log: deps.log.child({ component: 'signaling-ws' }) } : {}),
  });
  // A disabled, deleted or revoked account loses its signaling sockets with its allocations; a
  // revoked API key loses the sockets opened with it.
  deps.accounts.onAccessRevoked((accountId, apiKeyId) =>
    apiKeyId === undefined ? hub.closeAccount(accountId) : hub.closeApiKey(accountId, apiKeyId),
  );
  deps.metrics?.observeSignaling?.(() => hub.stats());
  registerDemo(app);
  return app;
}
