/**
 * `ferry sessions [list] [--account A]` and `ferry sessions kill ID`: the live relay sessions (TURN
 * allocations) of a running Ferry. They exist only in that process, so these commands need it and
 * its admin API (signaling.admin_token); without either they say so and exit 1.
 */
import { findAccountRef } from '../../src/accounts/names.js';
import { formatSize } from '../../src/config/units.js';
import { apiFailure, callApi, CONFIG_OPTION, getApi, PID_FILE_OPTION, routeOf, table, type AccountJson, type ApiRoute } from './account-access.js';
import { configPath, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, pidFileFor, str, usageError, type CliIo } from './common.js';
import { unknownWord } from './did-you-mean.js';

const NEEDS = `Needs a running Ferry (found by its pid file) with signaling.admin_token set:
sessions live in that process only.`;

export const SESSIONS_USAGE = `Usage: ferry sessions [list] [--account A] [--json] [--config FILE] [--pid-file FILE]
       ferry sessions kill ID [--config FILE] [--pid-file FILE]

  list (default)   the live relay sessions (TURN allocations): id, account (and
                   its name), transport, client address, relayed address, age,
                   payload bytes each way
  kill ID          close session ID: its relayed ports are freed, a TCP or TLS
                   client's connection is closed, a UDP client's next request is
                   answered 437; its credentials stay valid (ferry accounts
                   revoke ends them)

${NEEDS}

Options:
  --account A          (list) only the sessions billed to A: an account id or
                       name, or a static user or REST credential name
  --json               (list) print JSON
${PID_FILE_OPTION}${CONFIG_OPTION}`;

const KILL_USAGE = `Usage: ferry sessions kill ID [--config FILE] [--pid-file FILE]

Closes the live relay session ID (as "ferry sessions" lists it): its relayed
ports are freed, a TCP or TLS client's connection is closed and a UDP client's
next request is answered 437. Its credentials stay valid (ferry accounts revoke
ACCOUNT ends them).

${NEEDS}

Options:
${PID_FILE_OPTION}${CONFIG_OPTION}`;

interface SessionJson {
  readonly id: number;
  readonly account: string;
  readonly transport: string;
  readonly client: string;
  readonly relayed: ReadonlyArray<{ readonly address: string; readonly port: number; readonly family: number }>;
  readonly age_seconds: number;
  readonly bytes_to_peer: number;
  readonly bytes_to_client: number;
}

/** The running Ferry's admin API, or the exit code after saying why there is none. */
async function runningApi(io: CliIo, values: Record<string, string | boolean | undefined>): Promise<ApiRoute | number> {
  const config = configPath(str(values.config));
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  const pidFile = pidFileFor(str(values['pid-file']), config, loaded);
  const route = routeOf(loaded, pidFile);
  if (route.kind === 'api') return route;
  io.stderr(
    route.pid === undefined
      ? `ferry: Ferry is not running (pid file ${pidFile}): sessions exist only in a running Ferry\n`
      : `ferry: Ferry runs (pid ${route.pid}) but signaling.admin_token is not set in the config: sessions need its admin API\n`,
  );
  return EXIT_FAILURE;
}

const age = (s: number) => (s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`);

export async function sessionsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const first = args[0];
  if (first === 'kill') return kill(args.slice(1), io);
  // A first word that is no option is a subcommand: list, kill, or a mistyped one (`ferry sessions kil 3`).
  if (first !== undefined && first !== 'list' && !first.startsWith('-')) return unknownWord(io, 'subcommand', first, ['list', 'kill'], SESSIONS_USAGE);
  const rest = first === 'list' ? args.slice(1) : args;
  const p = parseCommand(
    io,
    rest,
    SESSIONS_USAGE,
    { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' }, account: { type: 'string' }, json: { type: 'boolean' } },
  );
  if (!p.ok) return p.code;
  const filter = str(p.values.account);
  if (filter !== undefined && filter.trim() === '') return usageError(io, '--account: must not be empty', SESSIONS_USAGE);
  const api = await runningApi(io, p.values);
  if (typeof api === 'number') return api;
  // One look-up of the accounts: names beside ids, and --account by name.
  const accounts = (await getApi<{ accounts: AccountJson[] }>(io, api, '/v1/accounts'))?.accounts;
  if (accounts === undefined) return EXIT_FAILURE;
  let account = filter;
  if (filter !== undefined) {
    const found = findAccountRef(accounts, filter);
    // Not an account: a static user or REST credential name the relay bills to, used as is.
    if (typeof found !== 'string') account = found.id;
  }
  const body = await getApi<{ sessions: SessionJson[] }>(io, api, `/v1/sessions${account !== undefined ? `?account=${encodeURIComponent(account)}` : ''}`);
  if (body === undefined) return EXIT_FAILURE;
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  const sessions = body.sessions.map((s) => ({ ...s, name: names.get(s.account) ?? null }));
  if (p.values.json === true) {
    io.stdout(`${JSON.stringify({ sessions })}\n`);
    return EXIT_OK;
  }
  if (sessions.length === 0) {
    io.stdout(`no live sessions${filter !== undefined ? ` of ${JSON.stringify(filter)}` : ''}\n`);
    return EXIT_OK;
  }
  const rows = sessions.map((s) => [
    String(s.id), s.account, s.name ?? '-', s.transport, s.client, s.relayed.map((r) => (r.family === 6 ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`)).join(' '),
    age(s.age_seconds), formatSize(s.bytes_to_peer), formatSize(s.bytes_to_client),
  ]);
  io.stdout(table(['ID', 'ACCOUNT', 'NAME', 'TRANSPORT', 'CLIENT', 'RELAYED', 'AGE', 'TO_PEER', 'TO_CLIENT'], rows, new Set([0, 6, 7, 8])));
  return EXIT_OK;
}

async function kill(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, KILL_USAGE, { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' } }, { min: 1, max: 1 });
  if (!p.ok) return p.code;
  const id = p.positionals[0];
  if (!/^\d{1,15}$/.test(id)) return usageError(io, `ID: expected a session id (a whole number, as "ferry sessions" lists it); got ${JSON.stringify(id)}`, KILL_USAGE);
  const api = await runningApi(io, p.values);
  if (typeof api === 'number') return api;
  const a = await callApi(io, api, 'DELETE', `/v1/sessions/${Number(id)}`);
  if (a === undefined) return EXIT_FAILURE;
  if (!a.ok) return apiFailure(io, a);
  io.stdout(`closed session ${Number(id)}\n`);
  return EXIT_OK;
}
