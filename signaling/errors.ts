/**
 * Every error the HTTP API answers is JSON `{error: {code, message}}` with a 4xx/5xx status:
 * validation failures name the failing field, 5xx never carry internal details or a stack.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AccountError } from '../src/accounts/errors.js';
import { CredentialError } from '../src/credentials/errors.js';
import { StorageUnavailableError } from '../src/storage-unavailable.js';

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. invalid_request, unauthorized, not_found.'),
      message: z.string().describe('What went wrong, for a human; names the failing field when a field is wrong.'),
    }),
  })
  .describe('Error');

export type ErrorBody = z.output<typeof ErrorBodySchema>;

/** An error a route means to answer with: status, code and a message safe to show the client. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });

const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'body_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'headers_too_large',
  503: 'unavailable',
};

interface Described {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** `/name` in `body` → `body.name`; the root → `body`. */
function fieldName(context: string | undefined, instancePath: string): string {
  const path = instancePath.split('/').filter((p) => p !== '').join('.');
  const where = context ?? 'request';
  return path === '' ? where : `${where}.${path}`;
}

export function describeError(err: FastifyError, bodyLimit: number): Described {
  if (err instanceof ApiError) return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  if (Array.isArray(err.validation)) {
    const issues = err.validation.map((v) => `${fieldName(err.validationContext, v.instancePath)}: ${v.message ?? 'invalid'}`);
    return { status: 400, code: 'invalid_request', message: issues.join('; ') || 'invalid request' };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'the request body is not valid JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: `the request body is larger than ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'send the request body as application/json' };
  }
  // Domain errors: their messages are written for the client and never carry secrets.
  if (err instanceof AccountError) {
    return err.code === 'conflict'
      ? { status: 409, code: 'conflict', message: err.message }
      : { status: 400, code: 'invalid_request', message: err.message };
  }
  if (err instanceof CredentialError) {
    return err.code === 'no_secret'
      ? { status: 503, code: 'credentials_unavailable', message: err.message }
      : { status: 400, code: 'invalid_request', message: err.message };
  }
  if (err instanceof StorageUnavailableError) {
    return { status: 503, code: 'storage_unavailable', message: 'storage unavailable: the shared store is not reachable; try again shortly', headers: { 'retry-after': '1' } };
  }
  if (isResponseSerializationError(err)) return { status: 500, code: 'internal', message: 'internal error' };
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, code: CODE_BY_STATUS[status] ?? 'bad_request', message: err.message || 'bad request' };
  }
  return { status: status >= 500 && status < 600 ? status : 500, code: 'internal', message: 'internal error' };
}

/**
 * Installs the JSON error handler (`{error: {code, message}}`, the error answers every route
 * documents) on this instance and its children.
 */
export function installErrorHandler(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const d = describeError(err, bodyLimit);
    if (d.status >= 500) request.log.error({ err }, 'request failed');
    if (d.headers) void reply.headers(d.headers);
    return reply.code(d.status).type('application/json; charset=utf-8').send(errorBody(d.code, d.message));
  });
}

/** Installs the JSON error handler and the JSON 404 for unknown routes. */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  installErrorHandler(app, bodyLimit);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0];
    return reply.code(404).send(errorBody('not_found', `no route ${request.method} ${path}`));
  });
}
