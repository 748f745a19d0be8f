/**
 * The admin API's account, key and usage answers as the Accounts pages read them, and the few
 * helpers they share (paths, the size fields, the current timeframe's usage).
 */
import type { Api } from '../api.js';
import type { PageContext } from '../page.js';

export interface Account {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  readonly created_at: string;
  /** Bytes per usage timeframe, both ways; null: no limit. */
  readonly limit: number | null;
  /** Bandwidth cap, bytes per second each way; null: none. */
  readonly max_bps: number | null;
}

export interface ApiKey {
  readonly id: string;
  readonly prefix: string;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

export interface UsageRow {
  readonly start: string;
  readonly end: string;
  readonly account: string;
  readonly bytes_to_peer: number;
  readonly bytes_to_client: number;
  readonly total_bytes: number;
}

/** What the pages read of GET /v1/overview: the limit thresholds and the current timeframe. */
export interface OverviewLimits {
  readonly timeframe: { readonly start: string; readonly end: string };
  readonly limits: { readonly soft_limit: number; readonly hard_limit: number };
}

export const accountPath = (id: string): string => `/v1/accounts/${encodeURIComponent(id)}`;
export const accountHash = (id: string): string => `#/accounts/${encodeURIComponent(id)}`;

/**
 * A size field as the API takes it: empty is null (no limit), digits alone a number of bytes, and
 * anything else goes as typed ("10GB", "1.5 GiB"), so the API's own parser decides and its message
 * says what is wrong.
 */
export function sizeInput(text: string): number | string | null {
  const t = text.trim();
  if (t === '') return null;
  if (/^\d+$/.test(t)) return Number(t);
  return t;
}

/** Usage this timeframe per account (both ways), from one GET /v1/usage?granularity=timeframe. */
export async function timeframeUsage(api: Api, timeframeStart: string, account?: string): Promise<Map<string, number>> {
  const q = new URLSearchParams({ granularity: 'timeframe', from: timeframeStart });
  if (account !== undefined) q.set('account', account);
  const { usage } = await api.get<{ usage: UsageRow[] }>(`/v1/usage?${q.toString()}`);
  // Rows from the timeframe's start on: the current timeframe's only (a later one cannot exist yet).
  const used = new Map<string, number>();
  for (const r of usage) {
    used.set(r.account, (used.get(r.account) ?? 0) + r.total_bytes);
  }
  return used;
}

/**
 * One account's page as its sections share it: the account as last read (the page polls it), and
 * a way to be told when it changes (a section's own PATCH, or another operator's).
 */
export interface AccountView {
  readonly ctx: PageContext;
  readonly id: string;
  current(): Account;
  /** Takes a newer answer about the account and tells every listener. */
  update(account: Account): void;
  onChange(fn: (account: Account) => void): void;
}

/** "10GB" for 10^10, "1.5MB", else the exact number of bytes: what the API reads back as the same size. */
export function exactSize(bytes: number): string {
  for (const [unit, size] of [['PB', 1e15], ['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) {
    if (bytes < size) continue;
    const tenths = bytes / (size / 10);
    if (Number.isInteger(tenths)) return `${tenths / 10}${unit}`;
  }
  return String(bytes);
}
