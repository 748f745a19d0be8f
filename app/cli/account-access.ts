/**
 * How the account commands reach the accounts: through a running Ferry's admin API when the pid
 * file names a running Ferry and signaling.admin_token is set (the live process applies the change
 * at once: closes allocations, drops sockets, enforces limits), else the configured store directly
 * (WAL lets both use the file; a running Ferry without an admin token then sees the change only
 * after a restart, and the commands say so).
 */
import type { Account } from '../../src/accounts/types.js';
import { AccountService } from '../../src/accounts/service.js';
import { RESYNC_EVERY_MS } from '../../src/accounts/change-queue.js';
import { findAccountRef } from '../../src/accounts/names.js';
import { isRedisUrl } from '../../src/config/cluster.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { RedisAccountBus } from '../../src/store/redis/account-bus.js';
import { withStorage } from '../storage.js';
import { adminRequest, EXIT_FAILURE, PID_FILE_HELP, type CliIo } from './common.js';
import { adminApi, runningState } from './control.js';
import { runningPid } from './pid-file.js';

export const ACCESS_RULE = `Through a running Ferry's admin API when the pid file names one and
signaling.admin_token is set (the change applies at once); otherwise on the
configured store directly (a running Ferry without admin token sees it only
after a restart; with storage on Redis, the fleet's running nodes apply it at once).`;

export const PID_FILE_OPTION = PID_FILE_HELP;

export const CONFIG_OPTION = `  -c, --config FILE    the config file naming the store and the admin API
                       (default: ./config.json when it exists, else defaults)
  -h, --help           show this help
`;

export type Route =
  | { readonly kind: 'api'; readonly pid: number; readonly base: string; readonly token: string }
  /** `fleet`: the store is a fleet's Redis, whose running nodes hear of every change (no restart needed). */
  | { readonly kind: 'store'; readonly pid: number | undefined; readonly fleet: boolean };

export type ApiRoute = Extract<Route, { kind: 'api' }>;

/** An account as the admin API answers it (GET /v1/accounts). */
export interface AccountJson {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  readonly created_at: string;
  readonly limit: number | null;
  readonly max_bps: number | null;
}

export const accountJson = (a: Account): AccountJson => ({
  id: a.id,
  name: a.name,
  disabled: a.disabled,
  created_at: new Date(a.createdAt).toISOString(),
  limit: a.limitBytes ?? null,
  max_bps: a.maxBps ?? null,
});

export function routeOf(loaded: LoadedConfig, pidFile: string): Route {
  const pid = runningPid(pidFile);
  // The address the process actually listens on (its runtime state), else the config's.
  const http = pid === undefined ? undefined : runningState(pidFile)?.listeners.find((l) => l.transport === 'http');
  const api = pid !== undefined ? adminApi(loaded, http) : undefined;
  return pid !== undefined && api !== undefined ? { kind: 'api', pid, ...api } : { kind: 'store', pid, fleet: isRedisUrl(loaded.storageUrl) };
}

/**
 * The change is in the store but its announcement to the running nodes failed: they apply it at
 * their next periodic resync. `result` is what the change answered (an API key shown once, say).
 * Its message starts with "storage: ", so the CLI's entry prints it as one line with exit 1.
 */
export class ChangeNotAnnouncedError extends Error {
  constructor(
    readonly result: unknown,
    reason: string,
  ) {
    super(
      `storage: the change is stored, but the running nodes of the fleet were not told (publish failed: ${reason}); ` +
        `they apply it at their next periodic resync, within ${RESYNC_EVERY_MS / 1000} s`,
    );
    this.name = 'ChangeNotAnnouncedError';
  }
}

/**
 * Runs `f` on the accounts of the configured store (opened for it, closed after). With Redis
 * storage its changes are announced to the running nodes of the fleet (the account change bus),
 * which apply them at once as if made through their admin API; when that fails, it throws a
 * ChangeNotAnnouncedError (the change itself is stored).
 */
export function withAccounts<T>(loaded: LoadedConfig, f: (accounts: AccountService) => Promise<T>): Promise<T> {
  return withStorage(loaded.storageUrl, async (storage) => {
    const bus = isRedisUrl(loaded.storageUrl) ? new RedisAccountBus({ url: loaded.storageUrl, subscribe: false }) : undefined;
    try {
      await bus?.start();
      const result = await f(await AccountService.open(storage.accounts, Date.now, bus !== undefined ? { bus } : {}));
      const failed = (await bus?.flush()) ?? null;
      if (failed !== null) throw new ChangeNotAnnouncedError(result, failed);
      return result;
    } finally {
      await bus?.close();
    }
  });
}

export interface ApiAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly body: unknown;
}

/** One admin API request; undefined (after saying why on stderr) when the running Ferry cannot be reached. */
export async function callApi(io: CliIo, r: ApiRoute, method: string, path: string, body?: unknown): Promise<ApiAnswer | undefined> {
  let res: Response;
  let text: string;
  try {
    res = await adminRequest(`${r.base}${path}`, { method, token: r.token, ...(body !== undefined ? { body } : {}), timeoutMs: 5000 });
    text = await res.text();
  } catch (err) {
    io.stderr(`ferry: cannot reach the running Ferry (pid ${r.pid}) at ${r.base}: ${(err as Error).message}\n`);
    return undefined;
  }
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: res.status, ok: res.ok, body: parsed };
}

/** Prints what a refused admin API request answered (its `{error: {message}}`) and gives exit 1. */
export function apiFailure(io: CliIo, a: ApiAnswer): number {
  const message = (a.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  io.stderr(`ferry: ${typeof message === 'string' ? message : `the running Ferry answered HTTP ${a.status}: ${JSON.stringify(a.body)}`}\n`);
  return EXIT_FAILURE;
}

/** GET on the admin API, the answer's body when 2xx; undefined after printing the failure. */
export async function getApi<T>(io: CliIo, r: ApiRoute, path: string): Promise<T | undefined> {
  const a = await callApi(io, r, 'GET', path);
  if (a === undefined) return undefined;
  if (!a.ok) {
    apiFailure(io, a);
    return undefined;
  }
  return a.body as T;
}

/** The accounts, from the running Ferry or the store. undefined after printing why not. */
export async function listAccounts(io: CliIo, loaded: LoadedConfig, r: Route): Promise<AccountJson[] | undefined> {
  if (r.kind === 'api') return (await getApi<{ accounts: AccountJson[] }>(io, r, '/v1/accounts'))?.accounts;
  return (await withAccounts(loaded, (a) => a.listAccounts())).map(accountJson);
}

/** The account an operator named by id or name; undefined after printing why not (exit 1). */
export async function resolveAccount(io: CliIo, loaded: LoadedConfig, r: Route, ref: string): Promise<AccountJson | undefined> {
  const accounts = await listAccounts(io, loaded, r);
  if (accounts === undefined) return undefined;
  const found = findAccountRef(accounts, ref);
  if (typeof found === 'string') {
    io.stderr(`ferry: ${found}\n`);
    return undefined;
  }
  return found;
}

/** After a change made on the store while Ferry runs without an admin API: say when it applies. */
export function storeNote(io: CliIo, r: Route, effect: string): void {
  if (r.kind === 'store' && r.pid !== undefined && !r.fleet) {
    io.stderr(`ferry: note: Ferry runs (pid ${r.pid}) without signaling.admin_token: ${effect}\n`);
  }
}

/** A table: the header and rows, columns padded to their widest cell; `right`: columns aligned right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
