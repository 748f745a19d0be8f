/**
 * `buildSignalingApp(deps)`: Ferry's signaling HTTP server, the signalingPlugin (./plugin.ts) in a
 * fastify instance with Ferry's server options: body limit, time limits, the logger and its request
 * lines, the JSON error answers and the JSON 404 for what is outside the plugin's routes. It never listens; the composition root does (or
 * tests call `app.inject()`). Another fastify server can mount `signalingPlugin` instead.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { SignalingDeps } from './deps.js';
import { installErrorHandling } from './errors.js';
import { acceptEmptyJson } from './json-body.js';
import { BODY_LIMIT, signalingPlugin } from './plugin.js';
import { fastifyTimeoutOptions, resolveHttpTimeouts } from './timeouts.js';

export type { SignalingDeps } from './deps.js';
export { BODY_LIMIT, signalingPlugin } from './plugin.js';
export { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './timeouts.js';

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
  installErrorHandling(app, BODY_LIMIT);
  acceptEmptyJson(app);

  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?', 1)[0];
    const fields = { method: request.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    // Health probes arrive every few seconds: debug, not info.
    if (path === '/healthz') request.log.debug(fields, 'request');
    else request.log.info(fields, 'request');
  });

  void app.register(signalingPlugin, deps);
  return app;
}
