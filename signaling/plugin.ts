/**
 * `signalingPlugin`: the signaling service as a fastify plugin, `app.register(signalingPlugin, deps)`:
 * admin API (accounts, API keys, revocation, relay sessions), account API (ICE servers, signaling
 * tokens) with CORS for the configured origins (./cors.ts), usage, WebSocket signaling (`app.signaling`
 * inside the plugin), the SDK files (/sdk), the demo page, /healthz, /metrics and /openapi.json. It is
 * encapsulated: its validators, body parser and limit, error
 * answers, request decoration and hooks stay inside it. Routes whose dependency is absent (relay sessions, usage, metrics) are
 * not registered; the admin routes are, and answer 503 while no admin token is configured (a reload
 * can set one). buildSignalingApp (./app.ts) is Ferry's server around it.
 */
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { accountAuthHook, adminGuard, authenticateCredential, requireAdmin } from './auth.js';
import { installCors, originAllowed } from './cors.js';
import type { SignalingDeps } from './deps.js';
import { registerConsole } from './console.js';
import { registerDemo } from './demo.js';
import { registerSdk } from './sdk.js';
import { installErrorHandler } from './errors.js';
import { documentAdminRoute, swaggerOptions } from './openapi.js';
import { accountRoutes } from './routes/accounts.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { credentialRoutes } from './routes/credentials.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openApiRoutes } from './routes/openapi.js';
import { overviewRoutes } from './routes/overview.js';
import { relayRoutes } from './routes/relays.js';
import { sessionRoutes } from './routes/sessions.js';
import { usageRoutes } from './routes/usage.js';
import { signalingSocket } from './ws/index.js';
import { acceptEmptyJson } from './json-body.js';

/** Largest accepted request body. */
export const BODY_LIMIT = 64 * 1024;

export async function signalingPlugin(app: FastifyInstance, deps: SignalingDeps): Promise<void> {
  // The routes' schemas are zod schemas, their error answers `{error: {code, message}}`.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app, BODY_LIMIT);
  // Whatever the server's own limit is (buildSignalingApp sets the same one).
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= BODY_LIMIT;
  });
  app.decorateRequest('principal', null);

  acceptEmptyJson(app);

  // Routes are documented in the order they are registered: keep it.
  // One table of failed admin tokens per client IP for this app (the admin API and /v1/usage).
  const guard = adminGuard(deps);

  await app.register(fastifySwagger, swaggerOptions);
  // Before any route: it marks the routes that never get CORS as they are added.
  await installCors(app, () => deps.corsOrigins);

  void app.register(healthRoutes(deps.healthProblems));
  void app.register(openApiRoutes);
  if (deps.metrics) void app.register(metricsRoutes(deps.metrics));
  // Admin API: the admin token is checked before the body is even read.
  void app.register(async (admin) => {
    admin.addHook('onRequest', async (request) => requireAdmin(request, guard));
    admin.addHook('onRoute', documentAdminRoute);
    await admin.register(accountRoutes(deps));
    await admin.register(apiKeyRoutes(deps));
    await admin.register(sessionRoutes(deps));
    if (deps.relays) await admin.register(relayRoutes(deps.relays));
    if (deps.overview && deps.usage) await admin.register(overviewRoutes(deps, deps.overview, deps.usage));
  });
  // Account API: an API key or a signaling token.
  void app.register(async (account) => {
    account.addHook('onRequest', accountAuthHook(deps));
    await account.register(credentialRoutes(deps));
  });

  // Usage: the admin token or an account's API key, checked by the routes themselves.
  if (deps.usage) void app.register(usageRoutes(deps, guard, deps.usage));

  await app.register(signalingSocket, {
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
    // The same list as CORS: a page from another origin may open the socket only when listed.
    originAllowed: (origin) => {
      const origins = deps.corsOrigins ?? [];
      return origins.length === 0 || originAllowed(origins, origin);
    },
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.signalLimits ? { limits: deps.signalLimits } : {}),
    ...(deps.log ? { log: deps.log.child({ component: 'signaling-ws' }) } : {}),
    ...(deps.signalRouter ? { router: deps.signalRouter } : {}),
  });
  const hub = app.signaling;
  // A disabled, deleted or revoked account loses its signaling sockets with its allocations; a
  // revoked API key loses the sockets opened with it (the keys in use are checked at each resync
  // of a fleet, for a revocation this node missed).
  const unsubscribe = deps.accounts.onAccessRevoked(
    (accountId, apiKeyId) => (apiKeyId === undefined ? hub.closeAccount(accountId) : hub.closeApiKey(accountId, apiKeyId)),
    () => hub.apiKeysInUse(),
  );
  app.addHook('onClose', async () => unsubscribe());
  deps.metrics?.observeSignaling?.(() => hub.stats());
  registerSdk(app);
  registerDemo(app);
  registerConsole(app);
}
