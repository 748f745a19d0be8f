import {
  CLASS_REQUEST,
  METHOD_ALLOCATE,
  METHOD_BINDING,
  METHOD_CHANNEL_BIND,
  METHOD_CREATE_PERMISSION,
  METHOD_REFRESH,
} from './codec/constants.js';
import { decodeMessage } from './codec/message.js';
import { checkFingerprint } from './codec/integrity.js';
import { ERROR_BAD_REQUEST, ERROR_SERVER_ERROR, ERROR_UNKNOWN_ATTRIBUTE } from './codec/error-codes.js';
import type { ClientEndpoint, HandlerEnv, RequestContext } from './handlers/context.js';
import { failure } from './handlers/respond.js';
import { handleBinding } from './handlers/binding.js';
import { handleAllocate } from './handlers/allocate.js';
import { handleRefresh } from './handlers/refresh.js';
import { handleCreatePermission } from './handlers/create-permission.js';
import { handleChannelBind } from './handlers/channel-bind.js';

function route(ctx: RequestContext): Buffer | null {
  const unknown = ctx.req.unknownComprehensionRequired();
  if (unknown.length > 0) return failure(ctx, ERROR_UNKNOWN_ATTRIBUTE, null, (w) => w.addUnknownAttributes(unknown));
  switch (ctx.req.method) {
    case METHOD_BINDING:
      return handleBinding(ctx);
    case METHOD_ALLOCATE:
      return handleAllocate(ctx);
    case METHOD_REFRESH:
      return handleRefresh(ctx);
    case METHOD_CREATE_PERMISSION:
      return handleCreatePermission(ctx);
    case METHOD_CHANNEL_BIND:
      return handleChannelBind(ctx);
    default:
      return failure(ctx, ERROR_BAD_REQUEST);
  }
}

/**
 * Handles one STUN message from a client. Anything that is not a well-formed STUN message, or
 * whose FINGERPRINT is wrong, gets no answer (no reflection). Requests get a response, unless a
 * per-IP budget (turn/rate-limit.ts) leaves a challenge or a failed authentication unanswered; a throw
 * inside a handler becomes a 500 instead of escaping; indications and responses are ignored
 * (Send indications never get here: the transports relay them on the data path, isClientData).
 */
export function handleStun(env: HandlerEnv, client: ClientEndpoint, buf: Buffer, offset: number, length: number, now: number): void {
  const req = decodeMessage(buf, offset, length);
  if (req === null) return;
  if (req.fingerprintIndex >= 0 && !checkFingerprint(req)) return;
  if (req.cls === CLASS_REQUEST) {
    const ctx: RequestContext = { env, client, req, now };
    let response: Buffer | null;
    try {
      response = route(ctx);
    } catch (err) {
      env.log?.error({ err, method: req.method, client: client.address }, 'request handler failed');
      response = failure(ctx, ERROR_SERVER_ERROR);
    }
    if (response !== null) client.reply(response);
  }
}
