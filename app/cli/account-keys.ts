/**
 * `ferry accounts keys list|add|revoke`: an account's API keys, by the rule of ./account-access.ts
 * (the running Ferry's admin API when it has one, else the store). A key revoked on the store is
 * refused at once even by a running Ferry (it looks keys up in the store on each request), but the
 * WebSockets already opened with it stay open until it restarts; a key added on the store works at
 * once for an account the running Ferry knows (not one created on the store since it started).
 */
import type { LoadedConfig } from '../../src/config/load.js';
import {
  ACCESS_RULE, apiFailure, callApi, CONFIG_OPTION, getApi, PID_FILE_OPTION, resolveAccount, routeOf, storeNote, table, withAccounts, type Route,
} from './account-access.js';
import { configPath, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, pidFileFor, str, usageError, type CliIo } from './common.js';
import { unknownWord } from './did-you-mean.js';

const OPTIONS = `Options:
  --json               (list) print JSON
${PID_FILE_OPTION}${CONFIG_OPTION}`;

export const KEYS_USAGE = `Usage: ferry accounts keys <list ACCOUNT | add ACCOUNT | revoke ACCOUNT KEY_ID> [options]

An account's API keys (what an app backend authenticates with). ACCOUNT is an
account id or name.

  list ACCOUNT            the keys: id, prefix, created, revoked (never the secret)
  add ACCOUNT             create another key; prints {"account", "id", "api_key"}
                          as JSON (the key is shown only once)
  revoke ACCOUNT KEY_ID   refuse the key from now on and close the signaling
                          WebSockets opened with it; tokens and TURN credentials
                          already issued stay valid until they expire
                          (ferry accounts revoke ends them)

${ACCESS_RULE}

${OPTIONS}`;

const SUBS = {
  list: { args: ['ACCOUNT'], about: 'Lists the API keys of ACCOUNT (an account id or name): id, prefix, creation and\nrevocation time. The secrets are never stored, so never shown.', json: true },
  add: { args: ['ACCOUNT'], about: 'Creates another API key for ACCOUNT (an account id or name) and prints\n{"account", "id", "api_key"} as JSON: the key is shown only once.', json: false },
  revoke: { args: ['ACCOUNT', 'KEY_ID'], about: 'Revokes the API key KEY_ID (key_...) of ACCOUNT (an account id or name): it is\nrefused from now on, and the signaling WebSockets opened with it are closed.\nSignaling tokens and TURN credentials already issued stay valid until they\nexpire (ferry accounts revoke ACCOUNT ends them).', json: false },
} as const;

type Sub = keyof typeof SUBS;

/**
 * An API key id as `keys list` shows it (key_ + base32), checked before it goes into the admin
 * API's URL: there "." or ".." would be read as a path step (DELETE /v1/accounts/ID/keys/..
 * is sent as DELETE /v1/accounts/ID/).
 */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

const subUsage = (sub: Sub) => `Usage: ferry accounts keys ${[sub, ...SUBS[sub].args].join(' ')}${SUBS[sub].json ? ' [--json]' : ''} [--config FILE] [--pid-file FILE]

${SUBS[sub].about}

${ACCESS_RULE}

Options:
${SUBS[sub].json ? '  --json               print JSON\n' : ''}${PID_FILE_OPTION}${CONFIG_OPTION}`;

interface KeyJson {
  readonly id: string;
  readonly prefix: string;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

export async function keysCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(KEYS_USAGE);
    return EXIT_OK;
  }
  if (sub === undefined || !Object.hasOwn(SUBS, sub)) return unknownWord(io, 'subcommand', sub, Object.keys(SUBS), KEYS_USAGE);
  const s = sub as Sub;
  const n = SUBS[s].args.length;
  const p = parseCommand(
    io,
    rest,
    subUsage(s),
    { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' }, ...(SUBS[s].json ? { json: { type: 'boolean' as const } } : {}) },
    { min: n, max: n },
  );
  if (!p.ok) return p.code;
  if (s === 'revoke' && !KEY_ID.test(p.positionals[1])) {
    return usageError(io, `KEY_ID: expected an API key id such as key_0123456789ab (as "ferry accounts keys list" shows it); got ${JSON.stringify(p.positionals[1])}`, subUsage(s));
  }
  const config = configPath(str(p.values.config));
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  const route = routeOf(loaded, pidFileFor(str(p.values['pid-file']), config, loaded));
  const account = await resolveAccount(io, loaded, route, p.positionals[0]);
  if (account === undefined) return EXIT_FAILURE;
  if (s === 'list') return list(io, loaded, route, account.id, p.values.json === true);
  if (s === 'add') return add(io, loaded, route, account.id);
  return revoke(io, loaded, route, account.id, p.positionals[1]);
}

async function list(io: CliIo, loaded: LoadedConfig, route: Route, id: string, json: boolean): Promise<number> {
  let keys: KeyJson[] | undefined;
  if (route.kind === 'api') keys = (await getApi<{ keys: KeyJson[] }>(io, route, `/v1/accounts/${encodeURIComponent(id)}/keys`))?.keys;
  else {
    const iso = (ms: number) => new Date(ms).toISOString();
    const stored = await withAccounts(loaded, (a) => a.listApiKeys(id));
    keys = stored?.map((k) => ({ id: k.id, prefix: k.prefix, created_at: iso(k.createdAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt) }));
    if (keys === undefined) io.stderr(`ferry: no account ${JSON.stringify(id)}\n`);
  }
  if (keys === undefined) return EXIT_FAILURE;
  if (json) io.stdout(`${JSON.stringify({ account: id, keys })}\n`);
  else if (keys.length === 0) io.stdout(`account ${id} has no API keys\n`);
  else io.stdout(table(['ID', 'PREFIX', 'CREATED', 'REVOKED'], keys.map((k) => [k.id, `${k.prefix}…`, k.created_at, k.revoked_at ?? '-'])));
  return EXIT_OK;
}

async function add(io: CliIo, loaded: LoadedConfig, route: Route, id: string): Promise<number> {
  let out: { id: string; api_key: string } | undefined;
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'POST', `/v1/accounts/${encodeURIComponent(id)}/keys`);
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
    out = a.body as { id: string; api_key: string };
  } else {
    const created = await withAccounts(loaded, (a) => a.createApiKey(id));
    if (created === undefined) {
      io.stderr(`ferry: no account ${JSON.stringify(id)}\n`);
      return EXIT_FAILURE;
    }
    out = { id: created.key.id, api_key: created.apiKey };
  }
  io.stdout(`${JSON.stringify({ account: id, id: out.id, api_key: out.api_key })}\n`);
  return EXIT_OK;
}

async function revoke(io: CliIo, loaded: LoadedConfig, route: Route, id: string, keyId: string): Promise<number> {
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'DELETE', `/v1/accounts/${encodeURIComponent(id)}/keys/${encodeURIComponent(keyId)}`);
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
    io.stdout(`revoked API key ${keyId} of account ${id} through the running Ferry (pid ${route.pid}); its WebSockets are closed\n`);
    return EXIT_OK;
  }
  if (!(await withAccounts(loaded, (a) => a.revokeApiKey(id, keyId)))) {
    io.stderr(`ferry: no key ${JSON.stringify(keyId)} in account ${id}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`revoked API key ${keyId} of account ${id} in the store\n`);
  storeNote(io, route, 'it refuses the key at once, but WebSockets already opened with it stay open until it restarts');
  return EXIT_OK;
}
