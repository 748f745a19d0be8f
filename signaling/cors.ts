/**
 * CORS (with @fastify/cors) for what a browser app on another origin calls: the account routes
 * POST /v1/ice-servers and POST /v1/signal-tokens, and GET /sdk/* (the SDK as ES modules, which
 * browsers fetch in CORS mode). Only origins in the list get CORS answers; the list is read per
 * request, so a reload changes it for the next one.
 *
 * Decided by the request's path, not by where a route is registered, so it holds for any plugin
 * that adds an /sdk/ route. Every other route (admin API, /v1/usage, /metrics, the WebSocket, the
 * demo) is marked `cors: false` and is answered exactly as without this file, even for an allowed
 * origin: no Access-Control-* headers and no Vary. Credentials are never allowed
 * (no Access-Control-Allow-Credentials): these routes take an API key or a signaling token in the
 * Authorization header, never a cookie, so a page can only use credentials it already holds.
 */
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

/** The account routes a browser calls. */
const API_PATHS: ReadonlySet<string> = new Set(['/v1/ice-servers', '/v1/signal-tokens']);
const SDK_PREFIX = '/sdk/';

/** How long a browser may reuse a preflight answer (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_S = 3600;
/** The request headers the SDK sends (API key or token, JSON body). */
const ALLOWED_HEADERS = 'Authorization, Content-Type';

/** Whether a path (or a route's URL pattern, e.g. /sdk/:file) gets CORS. */
export function isCorsPath(path: string): boolean {
  return API_PATHS.has(path) || (path.startsWith(SDK_PREFIX) && path.length > SDK_PREFIX.length);
}

/** Whether `origin` (an Origin header) is in `origins` (signaling.cors_origins; ["*"]: every origin). */
export function originAllowed(origins: readonly string[], origin: string): boolean {
  return origins[0] === '*' || origins.includes(origin);
}

const OFF: FastifyCorsOptions = { origin: false };

/** The CORS answer for one request: off unless its path gets CORS and its Origin is listed. */
function optionsFor(request: FastifyRequest, origins: readonly string[]): FastifyCorsOptions {
  const origin = request.headers.origin;
  if (origins.length === 0 || typeof origin !== 'string') return OFF;
  const path = request.url.split('?', 1)[0];
  if (!isCorsPath(path) || !originAllowed(origins, origin)) return OFF;
  return {
    // "*" stays "*" (a browser then refuses to send cookies at all); else the origin itself.
    origin: origins[0] === '*' ? '*' : origin,
    methods: path.startsWith(SDK_PREFIX) ? 'GET, HEAD' : 'POST',
    allowedHeaders: ALLOWED_HEADERS,
    maxAge: CORS_MAX_AGE_S,
    credentials: false,
    // An OPTIONS without Access-Control-Request-Method from an allowed origin gets the same 204
    // rather than @fastify/cors's plain-text 400 (every other error here is JSON).
    strictPreflight: false,
  };
}

/** Marks every route but the CORS ones (and @fastify/cors's own preflight route) `cors: false`. */
function markRoute(route: RouteOptions): void {
  const preflightRoute = route.method === 'OPTIONS' && route.url === '*';
  if (preflightRoute || isCorsPath(route.url)) return;
  route.config = { ...(route.config as object | undefined), cors: false } as RouteOptions['config'];
}

/**
 * Installs CORS on `app` for the routes registered after it, in it and its children. `origins`
 * is called per request ([] or absent: no CORS at all).
 */
export async function installCors(app: FastifyInstance, origins: () => readonly string[] | undefined): Promise<void> {
  app.addHook('onRoute', markRoute);
  await app.register(fastifyCors, {
    hook: 'onRequest',
    hideOptionsRoute: true,
    delegator: (request, callback) => callback(null, optionsFor(request, origins() ?? [])),
  });
}
