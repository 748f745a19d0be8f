/**
 * rate_limits: budgets per source IP and per account. challenges_per_ip and auth_failures_per_ip
 * are kept by the engine in fixed-size tables; allocations_per_account and allocations_per_ip are
 * counted fleet-wide (in Redis) when storage is Redis, in memory otherwise.
 */
import { z } from 'zod';

const perIpBudget = (def: number, description: string) =>
  z
    .int({ error: 'expected a whole number, 0 for no limit' })
    .nonnegative({ error: 'expected a whole number, 0 for no limit' })
    .max(1_000_000, { error: 'must be at most 1000000' })
    .default(def)
    .describe(description);

export const RateLimitsSchema = z
  .strictObject({
    challenges_per_ip: perIpBudget(50, '401/438 challenge answers (they carry a REALM and a fresh NONCE, several times a minimal request) per second one source IP may get, sustained, with a burst of 3 seconds\' worth; past it, requests that would be challenged get no answer at all, so challenges cannot be reflected at line rate, and are counted in ferry_rate_limited_total{kind="challenge"}. Not budgeted: STUN Binding answers, 400 and 420 (at most about 2.5 times the size of the request), and challenges to a 5-tuple holding an allocation, for its own username. An ICE agent needs a few per allocation; a NAT may hide many users. 0: no limit.'),
    auth_failures_per_ip: perIpBudget(60, 'Failed authentications (unknown user, wrong password, expired or revoked credential) per minute one source IP may make, all at once at most; past it, its signed requests are not verified and get no answer until the budget refills (counted in ferry_rate_limited_total{kind="auth-failure"}), except those from a 5-tuple holding an allocation, for its own username (their failures still count). Users behind one NAT share it. In a fleet (Redis storage) the failures are also counted across every node, with the same budget per minute: an IP past it gets no answer to signed requests on any node until the minute\'s window has passed. 0: no limit.'),
    allocations_per_account: perIpBudget(6000, 'New allocations one account may make per minute, across every node of a fleet (counted in Redis; on one node, in memory); past it, Allocate requests of its users get 486 and POST /v1/ice-servers for it answers 429 until the minute\'s window has passed (counted in ferry_rate_limited_total{kind="allocations-account"}). 0: no limit.'),
    allocations_per_ip: perIpBudget(120, 'New allocations one client IP (an IPv6 client per /64) may make per minute, across every node of a fleet; past it, its Allocate requests get 486 until the window has passed (counted in ferry_rate_limited_total{kind="allocations-ip"}). Users behind one NAT share it. 0: no limit.'),
  }, { error: 'expected an object {"challenges_per_ip": 50, "auth_failures_per_ip": 60, "allocations_per_account": 6000, "allocations_per_ip": 120}' })
  .prefault({})
  .describe('Budgets of unauthenticated TURN work per source IP (an IPv6 source per /64), kept in fixed-size tables (4096 slots; addresses sharing a slot share its budget). The admin API has its own: 10 failed admin tokens per minute per client IP, then 429.');

