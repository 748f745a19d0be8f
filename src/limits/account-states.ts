/**
 * Which accounts are near or over their usage limit this timeframe, for the operator (GET
 * /v1/overview, the console's overview): each account with a limit, its usage against it and its
 * state as the limiter decides it (soft_limit, hard_limit), or `near` once it has used
 * NEAR_SOFT_LIMIT of the way to the soft threshold. Most used first, at most `max`.
 */
import type { Account } from '../accounts/types.js';
import { limitState, type LimitSettings } from './limiter.js';

/** An account is near its limit from this share of its soft threshold (0.8 × soft_limit × limit). */
export const NEAR_SOFT_LIMIT = 0.8;

export interface AccountLimitState {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  /** Bytes per timeframe. */
  readonly limit: number;
  /** Bytes relayed this timeframe (both ways). */
  readonly usedBytes: number;
  /** usedBytes / limit (1 = all of it); a limit of 0 counts as used up. */
  readonly used: number;
  readonly state: 'near' | 'soft_limit' | 'hard_limit';
}

export function accountsAtLimit(
  accounts: readonly Account[],
  usedBytes: ReadonlyMap<string, number>,
  settings: Pick<LimitSettings, 'softLimit' | 'hardLimit'>,
  max: number,
): { readonly states: AccountLimitState[]; readonly total: number } {
  const states: AccountLimitState[] = [];
  for (const a of accounts) {
    const limit = a.limitBytes;
    if (limit === undefined || limit === null) continue;
    const bytes = usedBytes.get(a.id) ?? 0;
    const over = limitState(bytes, limit, settings);
    // Of the soft threshold as limitState computes it (soft × limit): 0.8 × 0.9 × 10000 would be
    // 7200.000000000001 and miss an account at 7200 bytes.
    const near = bytes >= NEAR_SOFT_LIMIT * (settings.softLimit * limit);
    if (over === 'ok' && !near) continue;
    states.push({
      id: a.id,
      name: a.name,
      disabled: a.disabled,
      limit,
      usedBytes: bytes,
      used: limit === 0 ? 1 : bytes / limit,
      state: over === 'ok' ? 'near' : over,
    });
  }
  states.sort((x, y) => y.used - x.used || (x.id < y.id ? -1 : 1));
  return { states: states.slice(0, max), total: states.length };
}
