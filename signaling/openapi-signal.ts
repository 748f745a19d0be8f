/**
 * The OpenAPI description of the signaling WebSocket, GET /v1/signal. The route itself is added by
 * signaling/ws/ without a schema (its admission runs before validation and answers by itself), so
 * it is described here: the upgrade request (peer_id, the credentials), the 101 answer, the
 * refusals of ws/upgrade.ts and ws/index.ts, and the frames, whose JSON Schemas come from the one
 * definition in protocol/signaling.ts (components.schemas SignalClientFrame, SignalServerFrame).
 */
import { z } from 'zod';
import { ClientFrame, CLOSE, ERROR_CODES, ServerFrame } from '../protocol/signaling.js';
import { ErrorBodySchema } from './errors.js';
import { SIGNAL_PATH } from './ws/index.js';

type Json = Record<string, unknown>;

/** A JSON Schema for a components entry (OpenAPI 3.1 schemas are JSON Schema 2020-12). */
function componentSchema(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

const errorAnswer = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/SignalRefusal' } } },
});

const closeCodes = Object.entries(CLOSE)
  .map(([name, code]) => `${code} (${name})`)
  .join(', ');

const operation: Json = {
  summary: 'The signaling WebSocket (upgrade)',
  description:
    'A WebSocket (RFC 6455) for exchanging WebRTC offers, answers and ICE candidates between peers of the same account. ' +
    'Open it with a GET carrying `Upgrade: websocket` (new WebSocket(url) does): `wss://HOST/v1/signal?peer_id=ID` with ' +
    '`Authorization: Bearer <API key or signaling token>`, or, from a browser (which cannot set headers), ' +
    '`?peer_id=ID&token=<signaling token>` (an API key is never accepted in the URL). ' +
    'After the 101 the connection carries JSON text frames, one object per frame: the client sends SignalClientFrame ' +
    '(offer, answer, candidate, bye, ping), the server sends SignalServerFrame (welcome first, then offer, answer, ' +
    `candidate, bye from other peers, pong, and error frames with code ${ERROR_CODES.join(', ')}). ` +
    `Close codes: ${closeCodes}. The frames are defined in protocol/signaling.ts; the README's WebSocket protocol section explains them.`,
  tags: ['signaling'],
  security: [{ apiKey: [] }, { signalToken: [] }, { signalTokenQuery: [] }],
  parameters: [
    {
      name: 'peer_id',
      in: 'query',
      required: true,
      description: 'This peer\'s id within the account, 1..64 characters of [A-Za-z0-9_.-]; other peers address it with `to`. A second connection with the same id replaces the first (close 4000).',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    },
    {
      name: 'token',
      in: 'query',
      required: false,
      description: 'A signaling token (st_..., POST /v1/signal-tokens), for browsers; instead of the Authorization header.',
      schema: { type: 'string' },
    },
    {
      name: 'Upgrade',
      in: 'header',
      required: true,
      description: 'websocket (with Connection: Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version: 13, as every WebSocket client sends).',
      schema: { type: 'string', enum: ['websocket'] },
    },
  ],
  responses: {
    101: {
      description: 'Switching Protocols: the WebSocket is open. The server\'s first frame is {"type": "welcome", "peer_id"}.',
      'x-websocket-frames': {
        client: { $ref: '#/components/schemas/SignalClientFrame' },
        server: { $ref: '#/components/schemas/SignalServerFrame' },
      },
    },
    400: errorAnswer('peer_id missing, given twice or not of 1..64 characters of [A-Za-z0-9_.-] (code bad_request).'),
    401: errorAnswer('No credentials, a malformed Authorization header, an empty token, or credentials that are invalid, expired or revoked (code unauthorized).'),
    403: errorAnswer('The request\'s `Origin` is not in `signaling.cors_origins` (checked only when that list is set; requests without `Origin` pass) (code origin_not_allowed).'),
    426: errorAnswer('Upgrade Required: a plain GET without `Upgrade: websocket`, with valid credentials (code upgrade_required).'),
    429: errorAnswer('The account has as many connected peers as allowed (code too_many_peers).'),
    503: errorAnswer('The credentials could not be checked, or the server is shutting down (code unavailable).'),
  },
};

/** Adds GET /v1/signal and the frame schemas to a generated OpenAPI document (in place). */
export function documentSignalSocket(doc: { paths?: Json; components?: Json }): void {
  doc.paths = { ...doc.paths, [SIGNAL_PATH]: { get: operation } };
  const components = (doc.components ??= {});
  const schemas = (components.schemas ?? {}) as Json;
  components.schemas = {
    ...schemas,
    SignalRefusal: componentSchema(ErrorBodySchema),
    SignalClientFrame: componentSchema(ClientFrame),
    SignalServerFrame: componentSchema(ServerFrame),
  };
}
