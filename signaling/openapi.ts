/** The OpenAPI document (served at /openapi.json): @fastify/swagger over the routes' zod schemas. */
import type { SwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { errors } from './schemas.js';

/** Route schemas with this key get `requestBody.required: false` (swagger marks every body required). */
export const OPTIONAL_BODY = 'x-optional-body';

const markOptionalBodies: SwaggerTransformObject = (doc) => {
  if (!('openapiObject' in doc)) return doc.swaggerObject;
  for (const ops of Object.values(doc.openapiObject.paths ?? {}) as unknown[]) {
    if (typeof ops !== 'object' || ops === null) continue;
    for (const op of Object.values(ops ?? {}) as unknown[]) {
      if (typeof op !== 'object' || op === null || !(OPTIONAL_BODY in op)) continue;
      const o = op as Record<string, unknown>;
      delete o[OPTIONAL_BODY];
      const body = o.requestBody as { required?: boolean } | undefined;
      if (body) body.required = false;
    }
  }
  return doc.openapiObject;
};

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
      version: '1',
      description: 'Accounts and credentials for the Ferry TURN relay, and WebRTC signaling (WebSocket /v1/signal). Every error is {"error": {"code", "message"}}.',
    },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (signaling.admin_token in the config).' },
        apiKey: { type: 'http', scheme: 'bearer', description: 'An account\'s API key (fk_...).' },
        signalToken: { type: 'http', scheme: 'bearer', description: 'A short-lived signaling token (st_...) minted with an API key, for browsers.' },
      },
    },
  },
  transform: jsonSchemaTransform,
  transformObject: markOptionalBodies,
};
