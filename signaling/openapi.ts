/** The OpenAPI document (served at /openapi.json): @fastify/swagger over the routes' zod schemas. */
import type { SwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { packageVersion } from '../src/package-version.js';
import { documentSignalSocket } from './openapi-signal.js';
import { errors } from './schemas.js';

/** Route schemas with this key get `requestBody.required: false` (swagger marks every body required). */
export const OPTIONAL_BODY = 'x-optional-body';

/**
 * The last touches of the generated document: optional bodies (below), and GET /v1/signal, which
 * the WebSocket plugin adds without a schema (./openapi-signal.ts).
 */
const finishDocument: SwaggerTransformObject = (doc) => {
  if (!('openapiObject' in doc)) return doc.swaggerObject;
  markOptionalBodies(doc.openapiObject);
  documentSignalSocket(doc.openapiObject as { paths?: Record<string, unknown>; components?: Record<string, unknown> });
  return doc.openapiObject;
};

function markOptionalBodies(openapiObject: { paths?: unknown }): void {
  for (const ops of Object.values(openapiObject.paths ?? {}) as unknown[]) {
    if (typeof ops !== 'object' || ops === null) continue;
    for (const op of Object.values(ops ?? {}) as unknown[]) {
      if (typeof op !== 'object' || op === null || !(OPTIONAL_BODY in op)) continue;
      const o = op as Record<string, unknown>;
      delete o[OPTIONAL_BODY];
      const body = o.requestBody as { required?: boolean } | undefined;
      if (body) body.required = false;
    }
  }
}

/** Security requirements of the routes, over the schemes of `components.securitySchemes` below. */
export const ADMIN_SECURITY: Array<Record<string, string[]>> = [{ adminToken: [] }];
export const ACCOUNT_SECURITY: Array<Record<string, string[]>> = [{ apiKey: [] }, { signalToken: [] }];

/**
 * onRoute hook of the admin scope: every admin route is documented with the admin token and the
 * 401 and 503 (admin API disabled) answers of its onRequest check, so the routes do not repeat them.
 */
export function documentAdminRoute(route: RouteOptions): void {
  const schema = route.schema;
  if (schema === undefined || schema.hide === true) return;
  route.schema = {
    ...schema,
    security: ADMIN_SECURITY,
    response: { ...(schema.response as Record<number, unknown> | undefined), ...errors(401, 429, 503) },
  };
}

export const swaggerOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Ferry signaling API',
      // The package's version: the document describes this build's routes.
      version: packageVersion(),
      description: 'Accounts and credentials for the Ferry TURN relay, WebRTC signaling (WebSocket /v1/signal), usage for billing and Prometheus metrics. Every error is {"error": {"code", "message"}}.',
    },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (signaling.admin_token in the config).' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account\'s API key (fk_...).' },
        signalToken: { type: 'http', scheme: 'bearer', description: 'A short-lived signaling token (st_...) minted with an API key, for browsers.' },
        signalTokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'A signaling token (st_...) in the URL of the WebSocket /v1/signal (browsers cannot set headers on a WebSocket).' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'metrics.token from the config; without it GET /metrics needs no credentials.' },
      },
    },
  },
  transform: jsonSchemaTransform,
  transformObject: finishDocument,
};
