/**
 * The usage part of `ferry status`: the current timeframe's relayed usage as the running Ferry
 * answers GET /v1/usage (granularity timeframe: the ledger plus the part not written yet), summed
 * over the accounts, with the top accounts by bytes and the global limit state. The timeframe
 * comes from the store the running Ferry persists it in; the global limit from the config file.
 * The top accounts carry their names (one GET /v1/accounts), null for a static user or REST name.
 */
import { existsSync } from 'node:fs';
import type { LoadedConfig } from '../../src/config/load.js';
import { formatSize } from '../../src/config/units.js';
import { limitState } from '../../src/limits/limiter.js';
import { meteringSettings } from '../../src/metering/settings.js';
import type { Timeframe } from '../../src/metering/types.js';
import { windowAt } from '../../src/metering/timeframe.js';
import { isRedisUrl } from '../../src/config/cluster.js';
import { withStorage } from '../storage.js';

/** How many accounts the summary lists by name. */
export const TOP_ACCOUNTS = 5;

/** One row of GET /v1/usage. */
export interface UsageRowJson {
  readonly account: string;
  readonly start: string;
  readonly bytes_to_peer: number;
  readonly bytes_to_client: number;
  readonly packets_to_peer: number;
  readonly packets_to_client: number;
  /** The account's name (null for static users, REST credential names and deleted accounts). */
  readonly account_name?: string | null;
}

export interface GlobalLimitState {
  readonly limit_bytes: number;
  readonly soft_limit: number;
  readonly hard_limit: number;
  /** Share of the limit used (1 = all of it); null for a limit of 0 bytes. */
  readonly used: number | null;
  /** As the limiter decides it: from soft_limit × limit on soft, from hard_limit × limit on hard. */
  readonly state: 'ok' | 'soft_limit' | 'hard_limit';
}

export interface UsageSummary {
  readonly timeframe: { readonly start: string; readonly end: string } | null;
  readonly bytes_to_peer: number;
  readonly bytes_to_client: number;
  readonly packets_to_peer: number;
  readonly packets_to_client: number;
  /** Accounts with usage in the timeframe. */
  readonly accounts: number;
  /** Up to TOP_ACCOUNTS accounts, most bytes (both ways) first. */
  readonly top: ReadonlyArray<{
    readonly account: string;
    /** The account's name; null when usage is billed to something else (static user, REST name). */
    readonly name: string | null;
    readonly bytes: number;
    readonly bytes_to_peer: number;
    readonly bytes_to_client: number;
  }>;
  /** null: no network_usage.global_limit in the config file. */
  readonly global_limit: GlobalLimitState | null;
}

const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The rows of a GET /v1/usage answer; throws when the answer is not one. */
export function usageRows(body: unknown): UsageRowJson[] {
  const rows = typeof body === 'object' && body !== null ? (body as { usage?: unknown }).usage : undefined;
  if (!Array.isArray(rows)) throw new Error('GET /v1/usage: no usage list in the answer');
  for (const r of rows as Record<string, unknown>[]) {
    const ok =
      typeof r === 'object' && r !== null && typeof r.account === 'string' && typeof r.start === 'string' && !Number.isNaN(Date.parse(r.start)) &&
      count(r.bytes_to_peer) && count(r.bytes_to_client) && count(r.packets_to_peer) && count(r.packets_to_client);
    if (!ok) throw new Error(`GET /v1/usage: unexpected row ${JSON.stringify(r)}`);
  }
  return rows as UsageRowJson[];
}

/** Sums the rows of one timeframe; `limit`: the global limit settings, if any; names: the rows' `account_name`, else `names`. */
export function summarizeUsage(
  rows: readonly UsageRowJson[],
  timeframe: Timeframe | null,
  limit: { readonly globalLimitBytes?: number; readonly softLimit: number; readonly hardLimit: number },
  names: ReadonlyMap<string, string> = new Map(),
): UsageSummary {
  const perAccount = new Map<string, { bytes_to_peer: number; bytes_to_client: number }>();
  const byId = new Map(names);
  const total = { bytes_to_peer: 0, bytes_to_client: 0, packets_to_peer: 0, packets_to_client: 0 };
  for (const r of rows) {
    total.bytes_to_peer += r.bytes_to_peer;
    total.bytes_to_client += r.bytes_to_client;
    total.packets_to_peer += r.packets_to_peer;
    total.packets_to_client += r.packets_to_client;
    const a = perAccount.get(r.account) ?? { bytes_to_peer: 0, bytes_to_client: 0 };
    a.bytes_to_peer += r.bytes_to_peer;
    a.bytes_to_client += r.bytes_to_client;
    perAccount.set(r.account, a);
    if (typeof r.account_name === 'string') byId.set(r.account, r.account_name);
  }
  const top = [...perAccount]
    .map(([account, a]) => ({ account, name: byId.get(account) ?? null, bytes: a.bytes_to_peer + a.bytes_to_client, ...a }))
    .filter((a) => a.bytes > 0)
    .sort((x, y) => y.bytes - x.bytes || (x.account < y.account ? -1 : x.account > y.account ? 1 : 0))
    .slice(0, TOP_ACCOUNTS);
  const used = total.bytes_to_peer + total.bytes_to_client;
  const g = limit.globalLimitBytes;
  return {
    timeframe: timeframe === null ? null : { start: new Date(timeframe.start).toISOString(), end: new Date(timeframe.start + timeframe.lengthMs).toISOString() },
    ...total,
    accounts: perAccount.size,
    top,
    global_limit:
      g === undefined
        ? null
        : {
            limit_bytes: g,
            soft_limit: limit.softLimit,
            hard_limit: limit.hardLimit,
            used: g > 0 ? used / g : null,
            state: limitState(used, g, limit),
          },
  };
}

/** The timeframe the running Ferry persisted in its store (SQLite file or Redis); null when there is no such file (yet). */
export async function storedTimeframe(storageUrl: string): Promise<Timeframe | null> {
  if (!isRedisUrl(storageUrl)) {
    const path = storageUrl.replace(/^sqlite:/i, '');
    if (path === ':memory:' || !existsSync(path)) return null;
  }
  return withStorage(storageUrl, (storage) => storage.usage.timeframe());
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The current timeframe's summary. `get(path)` GETs a path of the running Ferry's signaling API
 * with the admin token. When the store cannot be read (sqlite::memory:, a file elsewhere) the
 * timeframe is the latest one with usage, its length from the config file.
 */
export async function fetchUsageSummary(get: (path: string) => Promise<unknown>, loaded: LoadedConfig): Promise<UsageSummary> {
  const settings = meteringSettings(loaded);
  let tf = await storedTimeframe(loaded.storageUrl).catch(() => null);
  let rows: UsageRowJson[];
  if (tf !== null) {
    rows = usageRows(await get(`/v1/usage?granularity=timeframe&from=${iso(tf.start)}&to=${iso(tf.start + 1)}`));
  } else {
    const all = usageRows(await get('/v1/usage?granularity=timeframe'));
    const latest = all.reduce((m, r) => Math.max(m, Date.parse(r.start)), -Infinity);
    rows = all.filter((r) => Date.parse(r.start) === latest);
    tf = rows.length > 0 ? windowAt(settings.timeframe, latest) : null;
  }
  // The rows carry each account's name (GET /v1/usage's account_name).
  return summarizeUsage(rows, tf, settings);
}

const pct = (f: number) => `${(f * 100).toFixed(f < 0.1 ? 2 : 1).replace(/\.0+$/, '')}%`;

/** The summary as `ferry status` prints it: indented lines. */
export function usageLines(u: UsageSummary): string[] {
  const lines = [
    u.timeframe === null ? '  usage: none recorded yet' : `  usage in the timeframe ${u.timeframe.start} .. ${u.timeframe.end}: ${u.accounts} account${u.accounts === 1 ? '' : 's'}`,
    `    client to peer: ${formatSize(u.bytes_to_peer)} in ${u.packets_to_peer} packets`,
    `    peer to client: ${formatSize(u.bytes_to_client)} in ${u.packets_to_client} packets`,
  ];
  if (u.top.length > 0) lines.push(`    top accounts: ${u.top.map((a) => `${a.account}${a.name !== null ? ` (${a.name})` : ''} ${formatSize(a.bytes)}`).join(', ')}`);
  const g = u.global_limit;
  if (g !== null) {
    const state = g.state === 'ok' ? `below the soft limit (${pct(g.soft_limit)})` : g.state === 'soft_limit' ? `soft limit (${pct(g.soft_limit)}) reached: new allocations refused` : `hard limit (${pct(g.hard_limit)}) reached: allocations closed`;
    lines.push(`    global limit: ${formatSize(g.limit_bytes)}, ${g.used === null ? 'no bytes allowed' : `${pct(g.used)} used`}, ${state}`);
  }
  return lines;
}
