/**
 * Time limits of the signaling HTTP server, so a client cannot hold a connection by trickling a
 * request: the headers must arrive within `headersMs`, the whole request (headers and body) within
 * `requestMs` (Node answers 408 and closes), an idle keep-alive connection closes after
 * `keepAliveMs`, and a socket with no traffic at all for `idleMs` is destroyed. A WebSocket is not
 * bound by them once upgraded (`ws` clears the socket timeout; the heartbeat watches it instead).
 * Node checks the headers and request deadlines every `checkMs`, so each may run over by that much.
 */
import type { ServerOptions } from 'node:http';

export interface HttpTimeouts {
  readonly requestMs: number;
  readonly headersMs: number;
  readonly keepAliveMs: number;
  readonly idleMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  requestMs: 30_000,
  headersMs: 10_000,
  // Fastify's default: above the 60 s idle timeout of common load balancers and proxies, which
  // would otherwise reuse a connection the server is closing (a 502 now and then).
  keepAliveMs: 72_000,
  idleMs: 60_000,
};

/** `partial` over the defaults; a value that is not a positive whole number of ms throws, naming it. */
export function resolveHttpTimeouts(partial: Partial<HttpTimeouts> = {}): HttpTimeouts {
  const t: Record<keyof HttpTimeouts, number> = { ...DEFAULT_HTTP_TIMEOUTS };
  for (const [key, value] of Object.entries(partial) as [keyof HttpTimeouts, number | undefined][]) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`signaling HTTP timeout ${key} must be a positive whole number of ms, got ${String(value)}`);
    }
    t[key] = value;
  }
  // Node refuses a headers timeout above the request timeout; the request deadline covers them anyway.
  t.headersMs = Math.min(t.headersMs, t.requestMs);
  return t;
}

/** How often Node checks the headers and request deadlines (its default, 30 s, would double them). */
export function checkIntervalMs(t: HttpTimeouts): number {
  return Math.max(10, Math.min(5_000, Math.floor(t.headersMs / 2)));
}

/** The Fastify (and Node http.Server) options that apply `t`. */
export function fastifyTimeoutOptions(t: HttpTimeouts): {
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  return {
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionTimeout: t.idleMs,
    http: { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: checkIntervalMs(t) },
  };
}
