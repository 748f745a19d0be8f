/**
 * `ferry accounts create|list|enable|disable|rename|delete|revoke|limit` (and `keys`, in
 * ./account-keys.ts). The rule every one follows (./account-access.ts): through a running Ferry's
 * admin API when the pid file names a running Ferry and signaling.admin_token is set, so the live
 * process sees the change at once (closes allocations, drops sockets, enforces the limit);
 * otherwise on the configured SQLite store directly (WAL lets both use the file), and a running
 * Ferry without admin token then sees the change only after a restart (the command says so).
 * ACCOUNT is an account id or its name (names are unique, ignoring ASCII case).
 */
import { AccountError, validateAccountName, validateLimit, type AccountService } from '../../src/accounts/service.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { formatSize } from '../../src/config/units.js';
import {
  ACCESS_RULE, apiFailure, callApi, CONFIG_OPTION, listAccounts, PID_FILE_OPTION, resolveAccount, routeOf, storeNote, table,
  ChangeNotAnnouncedError, withAccounts, type AccountJson, type Route,
} from './account-access.js';
import { keysCommand } from './account-keys.js';
import { configPath, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, pidFileFor, str, usageError, type CliIo } from './common.js';
import { unknownWord } from './did-you-mean.js';

export const ACCOUNTS_USAGE = `Usage: ferry accounts <subcommand> [options]

Manages accounts (who relayed bytes are billed to). ACCOUNT is an account id or
its name; names are unique among live accounts, ignoring ASCII case.

  create NAME               create an account and its first API key; prints
                            {id, name, api_key} as JSON (the key is shown only once)
  list [--json]             list the accounts
  enable ACCOUNT            accept the account's keys and credentials again
  disable ACCOUNT           refuse its API keys, signaling tokens and TURN
                            credentials; close its live allocations
  rename ACCOUNT NEW_NAME   rename it
  delete ACCOUNT            delete it (its keys are revoked, live allocations closed)
  revoke ACCOUNT            revoke every TURN credential and signaling token issued
                            so far; close its live allocations (API keys stay)
  limit ACCOUNT SIZE|none   relayed bytes allowed per usage timeframe (e.g. 10GB);
                            none removes the limit
  keys list|add|revoke      the account's API keys ("ferry accounts keys --help")

${ACCESS_RULE}

"ferry accounts <subcommand> --help" describes a subcommand.

Options:
  --json               (list) print JSON
${PID_FILE_OPTION}${CONFIG_OPTION}`;

/** One account subcommand: its arguments, what it does, and how (admin API or store). */
interface Spec {
  readonly args: readonly string[];
  readonly about: string;
  readonly json?: boolean;
}

const SPECS = {
  create: { args: ['NAME'], about: 'Creates an account and its first API key and prints {"id", "name", "api_key"}\nas JSON: the key is shown only once. A name another live account has\n(ignoring ASCII case) is refused (exit 1).' },
  list: { args: [], about: 'Lists the accounts: id, name, status, usage limit, creation time.', json: true },
  enable: { args: ['ACCOUNT'], about: 'Enables a disabled account: its API keys, signaling tokens and TURN\ncredentials are accepted again.' },
  disable: { args: ['ACCOUNT'], about: 'Disables an account: its API keys, signaling tokens and TURN credentials are\nrefused and its live allocations are closed.' },
  rename: { args: ['ACCOUNT', 'NEW_NAME'], about: 'Renames an account. A name another live account has (ignoring ASCII case) is\nrefused (exit 1).' },
  delete: { args: ['ACCOUNT'], about: 'Deletes an account: its API keys are revoked, its signaling tokens and TURN\ncredentials refused, its live allocations closed. Its usage stays in the ledger.' },
  revoke: { args: ['ACCOUNT'], about: 'Revokes every TURN credential and signaling token issued to the account so\nfar and closes its live allocations. API keys stay valid (ferry accounts keys\nrevoke); credentials minted from now on work.' },
  limit: { args: ['ACCOUNT', 'SIZE|none'], about: 'Sets the relayed bytes the account may use per usage timeframe\n(network_usage.timeframe), a size as in the config (10GB, 500MB, 1.5GiB or a\nnumber of bytes); "none" removes the limit. From network_usage.soft_limit of\nit new allocations are refused, from hard_limit live ones are closed.' },
} as const satisfies Record<string, Spec>;

type Sub = keyof typeof SPECS;
const SUBCOMMANDS = [...Object.keys(SPECS), 'keys'];

function subUsage(sub: Sub): string {
  const spec: Spec = SPECS[sub];
  return `Usage: ferry accounts ${[sub, ...spec.args].join(' ')}${spec.json ? ' [--json]' : ''} [--config FILE] [--pid-file FILE]

${spec.about}
${spec.args.includes('ACCOUNT') ? '\nACCOUNT is an account id or name.\n' : ''}
${ACCESS_RULE}

Options:
${spec.json ? '  --json               print JSON\n' : ''}${PID_FILE_OPTION}${CONFIG_OPTION}`;
}

interface Ctx {
  readonly io: CliIo;
  readonly loaded: LoadedConfig;
  readonly route: Route;
}

export async function accountsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(ACCOUNTS_USAGE);
    return EXIT_OK;
  }
  if (sub === 'keys') return keysCommand(rest, io);
  if (sub === undefined || !Object.hasOwn(SPECS, sub)) return unknownWord(io, 'subcommand', sub, SUBCOMMANDS, ACCOUNTS_USAGE);
  const spec: Spec = SPECS[sub as Sub];
  const usage = subUsage(sub as Sub);
  const p = parseCommand(
    io,
    rest,
    usage,
    { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' }, ...(spec.json ? { json: { type: 'boolean' as const } } : {}) },
    { min: spec.args.length, max: spec.args.length },
  );
  if (!p.ok) return p.code;
  const [ref, arg] = p.positionals;
  // Arguments are checked before anything is opened or asked.
  let limit: number | null = null;
  let name = '';
  try {
    if (sub === 'create') name = validateAccountName(ref);
    if (sub === 'rename') name = validateAccountName(arg);
    if (sub === 'limit') limit = arg === 'none' ? null : validateLimit(arg);
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    return usageError(io, err.message.replace(/^limit:? /, 'SIZE: '), usage);
  }
  const config = configPath(str(p.values.config));
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  const ctx: Ctx = { io, loaded, route: routeOf(loaded, pidFileFor(str(p.values['pid-file']), config, loaded)) };
  try {
    switch (sub as Sub) {
      case 'create':
        return await create(ctx, name);
      case 'list':
        return await list(ctx, p.values.json === true);
      case 'rename':
        return await change(ctx, ref, { name }, (a) => `renamed account ${a.id} from ${JSON.stringify(a.name)} to ${JSON.stringify(name)}`);
      case 'limit':
        return await change(ctx, ref, { limit }, (a) => `account ${a.id} (${a.name}): ${limit === null ? 'no usage limit' : `usage limit ${formatSize(limit)} (${limit} bytes) per timeframe`}`);
      case 'enable':
        return await change(ctx, ref, { disabled: false }, (a) => `enabled account ${a.id} (${a.name})`);
      case 'disable':
        return await change(ctx, ref, { disabled: true }, (a) => `disabled account ${a.id} (${a.name})${ctx.route.kind === 'api' ? '; its live allocations are closed' : ''}`);
      case 'delete':
        return await remove(ctx, ref);
      case 'revoke':
        return await revoke(ctx, ref);
    }
  } catch (err) {
    // A name clash found by the store (the admin API answers it as 409).
    if (err instanceof AccountError) {
      io.stderr(`ferry: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

const via = (r: Route) => (r.kind === 'api' ? `through the running Ferry (pid ${r.pid})` : 'in the store');
const RESTART = 'it sees this change only after a restart';

async function create({ io, loaded, route }: Ctx, name: string): Promise<number> {
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'POST', '/v1/accounts', { name });
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
    const out = a.body as { id: string; name: string; api_key: string };
    io.stdout(`${JSON.stringify({ id: out.id, name: out.name, api_key: out.api_key })}\n`);
    return EXIT_OK;
  }
  let made: Awaited<ReturnType<AccountService['createAccount']>>;
  let unannounced: ChangeNotAnnouncedError | undefined;
  try {
    made = await withAccounts(loaded, (s) => s.createAccount(name));
  } catch (err) {
    // Stored but not announced: the API key is shown all the same (it is shown only once).
    if (!(err instanceof ChangeNotAnnouncedError)) throw err;
    made = err.result as typeof made;
    unannounced = err;
  }
  io.stdout(`${JSON.stringify({ id: made.account.id, name: made.account.name, api_key: made.apiKey })}\n`);
  if (unannounced !== undefined) throw unannounced;
  storeNote(io, route, "it accepts this account's API key only after a restart");
  return EXIT_OK;
}

async function list({ io, loaded, route }: Ctx, json: boolean): Promise<number> {
  const accounts = await listAccounts(io, loaded, route);
  if (accounts === undefined) return EXIT_FAILURE;
  if (json) io.stdout(`${JSON.stringify({ accounts })}\n`);
  else if (accounts.length === 0) io.stdout('no accounts\n');
  else {
    const rows = accounts.map((a) => [a.id, a.name, a.disabled ? 'disabled' : 'active', a.limit === null ? '-' : formatSize(a.limit), a.created_at]);
    io.stdout(table(['ID', 'NAME', 'STATUS', 'LIMIT', 'CREATED'], rows));
  }
  return EXIT_OK;
}

/** PATCH /v1/accounts/:id, or the same update on the store; `done` says what happened. */
async function change(
  ctx: Ctx,
  ref: string,
  update: { readonly name?: string; readonly disabled?: boolean; readonly limit?: number | null },
  done: (before: AccountJson) => string,
): Promise<number> {
  const { io, loaded, route } = ctx;
  const account = await resolveAccount(io, loaded, route, ref);
  if (account === undefined) return EXIT_FAILURE;
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'PATCH', `/v1/accounts/${encodeURIComponent(account.id)}`, update);
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
  } else if ((await withAccounts(loaded, (s) => s.updateAccount(account.id, update))) === undefined) {
    io.stderr(`ferry: no account ${JSON.stringify(ref)}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`${done(account)} ${via(route)}\n`);
  storeNote(io, route, RESTART);
  return EXIT_OK;
}

async function remove({ io, loaded, route }: Ctx, ref: string): Promise<number> {
  const account = await resolveAccount(io, loaded, route, ref);
  if (account === undefined) return EXIT_FAILURE;
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'DELETE', `/v1/accounts/${encodeURIComponent(account.id)}`);
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
  } else if (!(await withAccounts(loaded, (s) => s.deleteAccount(account.id)))) {
    io.stderr(`ferry: no account ${JSON.stringify(ref)}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`deleted account ${account.id} (${account.name}) ${via(route)}\n`);
  storeNote(io, route, RESTART);
  return EXIT_OK;
}

async function revoke({ io, loaded, route }: Ctx, ref: string): Promise<number> {
  const account = await resolveAccount(io, loaded, route, ref);
  if (account === undefined) return EXIT_FAILURE;
  let closed = 0;
  if (route.kind === 'api') {
    const a = await callApi(io, route, 'POST', `/v1/accounts/${encodeURIComponent(account.id)}/revoke`);
    if (a === undefined) return EXIT_FAILURE;
    if (!a.ok) return apiFailure(io, a);
    closed = (a.body as { closed_allocations: number }).closed_allocations;
  } else if ((await withAccounts(loaded, (s) => s.revokeCredentials(account.id))) === undefined) {
    io.stderr(`ferry: no account ${JSON.stringify(ref)}\n`);
    return EXIT_FAILURE;
  }
  const allocations = route.kind === 'api' ? `; ${closed} live allocation${closed === 1 ? '' : 's'} closed` : '';
  io.stdout(`revoked the TURN credentials and signaling tokens issued so far to account ${account.id} (${account.name}) ${via(route)}${allocations}\n`);
  storeNote(io, route, RESTART);
  return EXIT_OK;
}
