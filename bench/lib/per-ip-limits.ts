// The fuzz and soak benches send every client's traffic from 127.0.0.1: thousands of clients behind
// one IP, which Ferry's per-source-IP budgets of unauthenticated work (rate_limits.*: 401/438
// challenges, failed authentications) would throttle, starving the set-ups and the deep parsing of
// signed requests. This lifts those budgets (0 = no limit) for the keys this build's config knows.
import { knownKeys } from '../../src/config/schema.js';

export function liftPerIpLimits(): Record<string, unknown> {
  const keys = knownKeys(['rate_limits']).filter((k) => k.endsWith('_per_ip'));
  return keys.length === 0 ? {} : { rate_limits: Object.fromEntries(keys.map((k) => [k, 0])) };
}
