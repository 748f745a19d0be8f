/**
 * `ferry accounts create|list|disable` and `ferry credentials`: work on the configured SQLite store
 * directly, whether or not Ferry runs (WAL lets both use the file). A running Ferry keeps its own
 * view of accounts, so `accounts disable` goes through its admin API when it runs and has an
 * admin token, and through the store otherwise (the running relay then sees it after a restart).
 */
import { networkInterfaces } from 'node:os';
import { AccountError, AccountService } from '../../src/accounts/service.js';
import type { Account } from '../../src/accounts/types.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { CredentialError } from '../../src/credentials/errors.js';
import { IceServerIssuer } from '../../src/credentials/ice-servers.js';
import { describeTtlRange, ICE_TTL, parseTtl, TtlError } from '../../src/credentials/ttl.js';
import { chooseRelayIps } from '../relay-options.js';
import {
  adminRequest, configPath, defaultPidFile, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, str, usageError, withStore, type CliIo,
} from './common.js';
import { adminApi } from './control.js';
import { runningPid } from './pid-file.js';

const CONFIG_OPTION = `  -c, --config FILE    the config file naming the store (default: ./config.json
                       when it exists, else data/ferry.db in the working directory)
  -h, --help           show this help
`;

export const ACCOUNTS_USAGE = `Usage: ferry accounts <create NAME | list | disable ID> [--config FILE]

Manages accounts in the configured store (storage), whether or not Ferry runs.

  create NAME    creates an account and its first API key; prints {id, name, api_key}
                 as JSON (the key is shown only once). Through a running Ferry's
                 admin API when there is one (see disable).
  list           lists the accounts (--json: as JSON)
  disable ID     disables an account: its API keys, signaling tokens and TURN
                 credentials are refused. When a running Ferry is found (pid file)
                 and signaling.admin_token is set, this goes through its admin API,
                 which also closes the account's live allocations; otherwise the
                 store is changed directly and a running Ferry sees it only after
                 a restart.

Options:
  --json               (list) print JSON
  --pid-file FILE      (create, disable) the pid file of a running Ferry (default:
                       data/ferry.pid next to the config file)
${CONFIG_OPTION}`;

export const CREDENTIALS_USAGE = `Usage: ferry credentials ACCOUNT [--ttl 1h] [--config FILE]

Mints TURN credentials for ACCOUNT (an account id or name) locally, with the
config's first auth secret, and prints {"iceServers": [...], "expires_at": ...}
as JSON, ready for new RTCPeerConnection(...). The URLs use signaling.public_host,
else the TURN listening address (its external or relay address when it listens
on every interface).

Options:
  --ttl TTL            lifetime of the credentials: seconds (3600) or a duration
                       (90s, 15m, 1h); ${describeTtlRange(ICE_TTL)}; default 1h
${CONFIG_OPTION}`;

/** Runs `f` on the accounts of the configured store (opened for it, closed after). */
function withAccounts<T>(loaded: LoadedConfig, f: (accounts: AccountService) => Promise<T>): Promise<T> {
  return withStore(loaded.storageUrl, async (store) => f(await AccountService.open(store, Date.now)));
}

const accountJson = (a: Account) => ({ id: a.id, name: a.name, disabled: a.disabled, created_at: new Date(a.createdAt).toISOString() });

/** An account by id, else by name (refused when several accounts share the name). */
async function findAccount(accounts: AccountService, ref: string): Promise<Account | string> {
  const byId = await accounts.getAccount(ref);
  if (byId !== undefined) return byId;
  const named = (await accounts.listAccounts()).filter((a) => a.name === ref);
  if (named.length === 1) return named[0];
  return named.length === 0 ? `no account ${JSON.stringify(ref)}` : `${named.length} accounts are named ${JSON.stringify(ref)}: give the id`;
}

export async function accountsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(ACCOUNTS_USAGE);
    return EXIT_OK;
  }
  if (sub !== 'create' && sub !== 'list' && sub !== 'disable') {
    return usageError(io, sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`, ACCOUNTS_USAGE);
  }
  const options: Parameters<typeof parseCommand>[3] = {
    config: { type: 'string', short: 'c' },
    ...(sub === 'list' ? { json: { type: 'boolean' as const } } : {}),
    ...(sub !== 'list' ? { 'pid-file': { type: 'string' as const } } : {}),
  };
  const n = sub === 'list' ? 0 : 1;
  const p = parseCommand(io, rest, ACCOUNTS_USAGE, options, { min: n, max: n });
  if (!p.ok) return p.code;
  const config = configPath(str(p.values.config));
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  try {
    if (sub === 'create') return await create(io, loaded, p.positionals[0], str(p.values['pid-file']) ?? defaultPidFile(config));
    if (sub === 'list') {
      const list = await withAccounts(loaded, (a) => a.listAccounts());
      if (p.values.json === true) io.stdout(`${JSON.stringify({ accounts: list.map(accountJson) })}\n`);
      else if (list.length === 0) io.stdout('no accounts\n');
      else {
        const w = Math.max(...list.map((a) => a.name.length), 4);
        io.stdout(`${['ID'.padEnd(20), 'NAME'.padEnd(w), 'STATUS  ', 'CREATED'].join('  ')}\n`);
        for (const a of list) {
          io.stdout(`${[a.id.padEnd(20), a.name.padEnd(w), (a.disabled ? 'disabled' : 'active').padEnd(8), new Date(a.createdAt).toISOString()].join('  ')}\n`);
        }
      }
      return EXIT_OK;
    }
    return await disable(io, loaded, p.positionals[0], str(p.values['pid-file']) ?? defaultPidFile(config));
  } catch (err) {
    if (err instanceof AccountError) {
      io.stderr(`ferry: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

/** The running Ferry's admin API when the pid file names a running Ferry and an admin token is configured. */
function runningApi(loaded: LoadedConfig, pidFile: string) {
  const api = adminApi(loaded);
  const pid = runningPid(pidFile);
  return { pid, api: pid !== undefined ? api : undefined };
}

async function callAdmin(io: CliIo, api: { base: string; token: string }, pid: number, method: string, path: string, body: unknown): Promise<Response | undefined> {
  try {
    return await adminRequest(`${api.base}${path}`, { method, token: api.token, body, timeoutMs: 5000 });
  } catch (err) {
    io.stderr(`ferry: cannot reach the running Ferry (pid ${pid}) at ${api.base}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Through the running Ferry when there is one (its directory learns the account and accepts its API key at once). */
async function create(io: CliIo, loaded: LoadedConfig, name: string, pidFile: string): Promise<number> {
  const { pid, api } = runningApi(loaded, pidFile);
  if (pid !== undefined && api !== undefined) {
    const res = await callAdmin(io, api, pid, 'POST', '/v1/accounts', { name });
    if (res === undefined) return EXIT_FAILURE;
    if (!res.ok) {
      io.stderr(`ferry: the running Ferry answered HTTP ${res.status}: ${await res.text()}\n`);
      return EXIT_FAILURE;
    }
    const out = (await res.json()) as { id: string; name: string; api_key: string };
    io.stdout(`${JSON.stringify({ id: out.id, name: out.name, api_key: out.api_key })}\n`);
    return EXIT_OK;
  }
  const { account, apiKey } = await withAccounts(loaded, (a) => a.createAccount(name));
  io.stdout(`${JSON.stringify({ id: account.id, name: account.name, api_key: apiKey })}\n`);
  if (pid !== undefined) {
    io.stderr(`ferry: note: Ferry runs (pid ${pid}) without signaling.admin_token; it accepts this account's API key only after a restart\n`);
  }
  return EXIT_OK;
}

async function disable(io: CliIo, loaded: LoadedConfig, id: string, pidFile: string): Promise<number> {
  const { pid, api } = runningApi(loaded, pidFile);
  if (pid !== undefined && api !== undefined) {
    const res = await callAdmin(io, api, pid, 'PATCH', `/v1/accounts/${encodeURIComponent(id)}`, { disabled: true });
    if (res === undefined) return EXIT_FAILURE;
    if (res.status === 404) {
      io.stderr(`ferry: no account ${JSON.stringify(id)}\n`);
      return EXIT_FAILURE;
    }
    if (!res.ok) {
      io.stderr(`ferry: the running Ferry answered HTTP ${res.status}: ${await res.text()}\n`);
      return EXIT_FAILURE;
    }
    io.stdout(`disabled account ${id} through the running Ferry (pid ${pid}); its live allocations are closed\n`);
    return EXIT_OK;
  }
  const account = await withAccounts(loaded, (a) => a.updateAccount(id, { disabled: true }));
  if (account === undefined) {
    io.stderr(`ferry: no account ${JSON.stringify(id)}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`disabled account ${id} in the store\n`);
  if (pid !== undefined) {
    io.stderr(`ferry: note: Ferry runs (pid ${pid}) without signaling.admin_token; it keeps accepting this account until it restarts\n`);
  }
  return EXIT_OK;
}

/** The host put in the TURN URLs: public_host, else the listening address, else an address of this machine. */
function turnHost(loaded: LoadedConfig): string {
  const { public_host: publicHost } = loaded.config.signaling;
  if (publicHost !== undefined) return publicHost;
  const external = loaded.config.external_ip;
  const ext = typeof external === 'string' ? external : external?.[0];
  if (ext !== undefined) return ext;
  const relay = chooseRelayIps(loaded, networkInterfaces());
  const host = loaded.listen.host;
  if (host !== '0.0.0.0' && host !== '::') return host;
  return relay.ips4[0] ?? relay.ips6[0] ?? '127.0.0.1';
}

export async function credentialsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, CREDENTIALS_USAGE, { config: { type: 'string', short: 'c' }, ttl: { type: 'string' } }, { min: 1, max: 1 });
  if (!p.ok) return p.code;
  let ttlSeconds = ICE_TTL.default;
  const ttlArg = str(p.values.ttl);
  if (ttlArg !== undefined) {
    // The same forms and range as POST /v1/ice-servers's ttl (src/credentials/ttl.ts).
    try {
      ttlSeconds = parseTtl(ttlArg, ICE_TTL);
    } catch (err) {
      if (!(err instanceof TtlError)) throw err;
      return usageError(io, `--ttl: ${err.message}`, CREDENTIALS_USAGE);
    }
  }
  const loaded = await loadOrReport(io, configPath(str(p.values.config)));
  if (loaded === null) return EXIT_FAILURE;
  const secret = loaded.config.auth_secrets[0];
  if (secret === undefined) {
    io.stderr('ferry: no auth_secrets in the config: cannot mint TURN credentials\n');
    return EXIT_FAILURE;
  }
  const found = await withAccounts(loaded, (a) => findAccount(a, p.positionals[0]));
  if (typeof found === 'string') {
    io.stderr(`ferry: ${found}\n`);
    return EXIT_FAILURE;
  }
  if (found.disabled) {
    io.stderr(`ferry: account ${found.id} is disabled: Ferry would refuse its credentials\n`);
    return EXIT_FAILURE;
  }
  const issuer = new IceServerIssuer({
    secret: () => secret,
    turnPort: loaded.listen.port,
    ...(loaded.tlsListen ? { tlsPort: loaded.tlsListen.port } : {}),
    now: Date.now,
  });
  try {
    io.stdout(`${JSON.stringify(issuer.issue(found.id, ttlSeconds, turnHost(loaded)), null, 2)}\n`);
  } catch (err) {
    if (!(err instanceof CredentialError)) throw err;
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

