import { ATTR_LIFETIME } from '../codec/constants.js';
import { readUint32 } from '../codec/attributes.js';
import type { RequestContext } from './context.js';

/**
 * The lifetime a request asks for, in ms (RFC 8656 §7.2 and §7.3): absent → the default;
 * otherwise min(requested, max), raised to the default when below it. A requested 0 yields 0
 * (Refresh deletes; Allocate treats it as the default). null: malformed LIFETIME.
 */
export function desiredLifetimeMs(ctx: RequestContext): number | null {
  const { req, env } = ctx;
  const i = req.index(ATTR_LIFETIME);
  if (i < 0) return env.defaultLifetimeMs;
  const seconds = readUint32(req, i);
  if (seconds === null) return null;
  if (seconds === 0) return 0;
  return Math.max(Math.min(seconds * 1000, env.maxLifetimeMs), env.defaultLifetimeMs);
}
