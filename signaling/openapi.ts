/** The OpenAPI document (served at /openapi.json): @fastify/swagger over the routes' zod schemas. */
import type { SwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

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
