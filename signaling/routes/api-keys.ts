/** Admin: an account's API keys (create, list, revoke). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SignalingDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { AccountParams, ApiKeyParams, ApiKeySchema, apiKeyDto, errors, NoContent } from '../schemas.js';
import { orNoAccount } from './accounts.js';

export function apiKeyRoutes(deps: SignalingDeps): FastifyPluginAsyncZod {
  const { accounts } = deps;
  const tags = ['admin: API keys'];
  return async (app) => {
    app.post('/v1/accounts/:id/keys', {
      schema: {
        summary: 'Create another API key for an account',
        tags,
        params: AccountParams,
        response: {
          201: z.object({
            id: z.string().describe('Key id (to revoke it).'),
            api_key: z.string().describe('The API key; shown only in this response.'),
          }),
          ...errors(400, 404),
        },
      },
    }, async (request, reply) => {
      const created = orNoAccount(await accounts.createApiKey(request.params.id), request.params.id);
      return reply.code(201).send({ id: created.key.id, api_key: created.apiKey });
    });

    app.get('/v1/accounts/:id/keys', {
      schema: {
        summary: 'List an account\'s API keys (without the secrets)',
        tags,
        params: AccountParams,
        response: { 200: z.object({ keys: z.array(ApiKeySchema) }), ...errors(400, 404) },
      },
    }, async (request) => {
      const keys = orNoAccount(await accounts.listApiKeys(request.params.id), request.params.id);
      return { keys: keys.map(apiKeyDto) };
    });

    app.delete('/v1/accounts/:id/keys/:keyId', {
      schema: {
        summary: 'Revoke an API key',
        description: 'Requests with the key are refused from now on, and the signaling WebSockets opened with it are closed (4401 "credential revoked"). Signaling tokens and TURN credentials already issued stay valid until they expire (POST /v1/accounts/{id}/revoke ends them).',
        tags,
        params: ApiKeyParams,
        response: { 204: NoContent, ...errors(400, 404) },
      },
    }, async (request, reply) => {
      const { id, keyId } = request.params;
      if (!(await accounts.revokeApiKey(id, keyId))) {
        throw new ApiError(404, 'not_found', `no key ${JSON.stringify(keyId)} in account ${JSON.stringify(id)}`);
      }
      return reply.code(204).send();
    });
  };
}
