/** `ferry stop`, `ferry status` and `ferry reload`: the running Ferry named by a pid file. */
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { formatHostPort } from '../../src/config/net.js';
import { RESTART_KEYS } from '../../src/config/reload.js';
import { LIVE_KEYS } from '../reload.js';
import {
  adminRequest, configPath, dataDir, EXIT_FAILURE, EXIT_NOT_RUNNING, EXIT_OK, loadOrReport, localHost, parseCommand, PID_FILE_HELP, pidFileFor, str, type CliIo,
} from './common.js';
import { readDevSecretsFile } from './dev-setup.js';
import { alive, removePid, runningPid, startedAt } from './pid-file.js';
import { dataPlaneLine, fileSha256, listenerLines, ownedByProcess, readState, stateFileOf, type ReloadOutcome, type RuntimeState, type StateListener } from './runtime-state.js';
import { fetchUsageSummary, usageLines, type UsageSummary } from './status-usage.js';

export const STOP_WAIT_MS = 15_000;

const COMMON_OPTIONS = `  -c, --config FILE    the config file Ferry was started with (its pid_file, or
                       data/ferry.pid next to it, is the default pid file;
                       status reads admin_token)
${PID_FILE_HELP}  -h, --help           show this help
`;

export const STOP_USAGE = `Usage: ferry stop [--config FILE] [--pid-file FILE]

Sends SIGTERM to the Ferry named by the pid file and waits (at most 15 s) until it
has exited. Exit 0 when it stopped, 1 when it was not running or did not stop.

Options:
${COMMON_OPTIONS}`;

/** `text` wrapped at `width` columns (words never split). */
function wrap(text: string, width = 80): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

// From the lists a reload itself uses (app/reload.ts, src/config/reload.ts), so the help cannot drift.
const RELOAD_KEYS_TEXT = wrap(
  `Applied live: ${LIVE_KEYS.map((k) => (k === 'tls' ? 'tls (the certificate and key files are read again)' : k)).join(', ')}. ` +
    `A change to ${RESTART_KEYS.join(', ')} needs a restart: the process refuses such a reload (nothing is applied) and names the key. ` +
    'A file that changes between the check and the process reading it is judged as the process reads it.',
);

export const RELOAD_USAGE = `Usage: ferry reload [--config FILE] [--pid-file FILE]

Applies the config file to the running Ferry without dropping allocations, TLS
connections or WebSockets, and says what happened:
 1. checks the file the running Ferry was started with, as "ferry config check"
    does: when it is invalid, prints the same "key: problem" lines and exits 1
    without touching the running Ferry;
 2. sends SIGHUP and waits (at most 10 s) for the process to report the outcome in
    its runtime state file (next to the pid file: ferry.pid -> ferry.state.json):
    exit 0 "reload applied" with the keys that changed, or exit 1 "reload refused"
    with one "key: problem" line each; the running configuration then stays whole.

${RELOAD_KEYS_TEXT}

Reloads run one at a time; a "ferry reload" reports the first reload that began
after its check, so concurrent reloads may report the same one (which read the
file after both checks).

Options:
${COMMON_OPTIONS}`;

export const STATUS_USAGE = `Usage: ferry status [--config FILE] [--pid-file FILE] [--json]

Tells whether Ferry runs: pid, uptime, the config file it runs with (and whether
the file changed since it was loaded), what it actually listens on (as bound, from
its runtime state file, ports chosen by the system included), the outcome of the
last reload, and, when signaling.admin_token is set, live figures from the running
process over its signaling API: health, live allocations, accounts, and the
current timeframe's usage (GET /v1/usage, the part not yet written to the ledger
included): its start and end, bytes and packets each way, accounts with usage, the
top 5 accounts by bytes, and the state of network_usage.global_limit (as set in
the config file). Exit 0 when running, 3 when not running.

Options:
  --json               print one JSON object
${COMMON_OPTIONS}`;

const controlOptions = { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' } } as const;

function pidFileOf(values: Record<string, string | boolean | undefined>): { config: string | undefined; pidFile: string } {
  const config = configPath(str(values.config));
  return { config, pidFile: pidFileFor(str(values['pid-file']), config) };
}

/** Parses a stop/reload command line and finds the running Ferry, or says why not (exit code). */
function runningFerry(io: CliIo, args: readonly string[], usage: string): { pid: number; pidFile: string; config: string | undefined } | { code: number } {
  const p = parseCommand(io, args, usage, controlOptions);
  if (!p.ok) return { code: p.code };
  const { pidFile } = pidFileOf(p.values);
  // Only a --config given on the command line names the file (./config.json is a guess).
  const given = str(p.values.config);
  const config = given === undefined ? undefined : resolve(given);
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    io.stderr(`ferry: not running (pid file ${pidFile})\n`);
    return { code: EXIT_FAILURE };
  }
  return { pid, pidFile, config };
}

/** Sends `sig` to the running Ferry; false (after saying why) when this user may not signal it. */
function signal(io: CliIo, pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr(`ferry: cannot send ${sig} to pid ${pid}: ${code === 'EPERM' ? 'it belongs to another user (run this as that user or root)' : code === 'ESRCH' ? 'it has exited' : String(err)}\n`);
    return false;
  }
}

export async function stopCommand(args: readonly string[], io: CliIo): Promise<number> {
  const r = runningFerry(io, args, STOP_USAGE);
  if ('code' in r) return r.code;
  const { pid, pidFile } = r;
  if (!signal(io, pid, 'SIGTERM')) return EXIT_FAILURE;
  const end = Date.now() + STOP_WAIT_MS;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) {
    io.stderr(`ferry: pid ${pid} did not exit within ${STOP_WAIT_MS / 1000} s\n`);
    return EXIT_FAILURE;
  }
  removePid(pidFile, pid);
  io.stdout(`ferry stopped (pid ${pid})\n`);
  return EXIT_OK;
}

/** How long `ferry reload` waits for the running Ferry to report the outcome. */
export const RELOAD_WAIT_MS = 10_000;

/** The runtime state of the running Ferry `pid`, when it has written it (a stale file of a dead one is ignored). */
function stateOf(pidFile: string, pid: number): RuntimeState | undefined {
  const file = stateFileOf(pidFile);
  if (!ownedByProcess(file, pid)) return undefined;
  const state = readState(file);
  return state?.pid === pid ? state : undefined;
}

/**
 * The runtime state of the Ferry the pid file names, when it runs and has written it: e.g. where
 * its signaling API actually listens (the `http` listener) for commands that call it.
 */
export function runningState(pidFile: string): RuntimeState | undefined {
  const pid = runningPid(pidFile);
  return pid === undefined ? undefined : stateOf(pidFile, pid);
}

export async function reloadCommand(args: readonly string[], io: CliIo): Promise<number> {
  const r = runningFerry(io, args, RELOAD_USAGE);
  if ('code' in r) return r.code;
  const { pid, pidFile, config } = r;
  const stateFile = stateFileOf(pidFile);
  const before = stateOf(pidFile, pid);
  if (before === undefined) {
    io.stderr(`ferry: pid ${pid} has no runtime state (${stateFile}): it is still starting, was started by an older Ferry, or the file is not readable by this user (it belongs to the user Ferry runs as; use that user or root); not reloaded\n`);
    return EXIT_FAILURE;
  }
  if (before.config === null) {
    io.stderr(`ferry: pid ${pid} runs on the embedded defaults: there is no config file to reload\n`);
    return EXIT_FAILURE;
  }
  if (config !== undefined && config !== before.config) {
    io.stderr(`ferry: pid ${pid} runs with ${before.config}, not ${config}: a reload re-reads the file it was started with; not reloaded\n`);
    return EXIT_FAILURE;
  }
  // 1. The check "ferry config check" makes, with its lines; an invalid file is never signalled.
  if ((await loadOrReport(io, before.config)) === null) {
    io.stderr(`ferry: not reloaded: pid ${pid} keeps its running configuration\n`);
    return EXIT_FAILURE;
  }
  const checked = fileSha256(before.config);
  // 2. The outcome to wait for: the first reload to begin after the check (one running now began before it).
  const target = (stateOf(pidFile, pid) ?? before).reloads_started + 1;
  if (!signal(io, pid, 'SIGHUP')) return EXIT_FAILURE;
  const end = Date.now() + RELOAD_WAIT_MS;
  for (;;) {
    const state = stateOf(pidFile, pid);
    const outcome = state?.reload;
    if (outcome && outcome.seq >= target) return reportReload(io, pid, before.config, outcome, checked);
    if (state === undefined || !alive(pid)) {
      io.stderr(`ferry: pid ${pid} exited before it reported the reload\n`);
      return EXIT_FAILURE;
    }
    if (Date.now() > end) {
      io.stderr(`ferry: pid ${pid} did not report the outcome within ${RELOAD_WAIT_MS / 1000} s (${stateFile}); see its log\n`);
      return EXIT_FAILURE;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

function reportReload(io: CliIo, pid: number, file: string, outcome: ReloadOutcome, checked: string | null): number {
  if (outcome.config_sha256 !== checked) io.stderr(`ferry: note: ${file} changed after it was checked; pid ${pid} judged the version it read\n`);
  if (outcome.outcome === 'refused') {
    io.stderr(`ferry: reload refused by pid ${pid}; the running configuration stays:\n${outcome.problems.map((l) => `  ${l}\n`).join('')}`);
    return EXIT_FAILURE;
  }
  io.stdout(`reload applied (pid ${pid}): ${outcome.changed.length > 0 ? `${outcome.changed.join(', ')} changed` : 'nothing changed'}\n`);
  return EXIT_OK;
}

/**
 * A running Ferry's signaling API, when reachable: base URL and admin token. `http`: where it
 * actually listens (its runtime state); without it, signaling.address of the config file, unless
 * that is port 0.
 */
export function adminApi(loaded: LoadedConfig | undefined, http?: Pick<StateListener, 'address' | 'port'>): { base: string; token: string } | undefined {
  // Without a config file, a development setup keeps its admin token in data/dev-secrets.json.
  const token = loaded?.config.signaling.admin_token ?? (loaded?.source === null ? devAdminToken() : undefined);
  if (loaded === undefined || token === undefined) return undefined;
  const at = http ?? { address: loaded.signalingListen.host, port: loaded.signalingListen.port };
  if (at.port === 0) return undefined;
  return { base: `http://${formatHostPort(localHost(at.address), at.port)}`, token };
}

function devAdminToken(): string | undefined {
  return readDevSecretsFile(dataDir(undefined))?.admin_token;
}

async function getJson(url: string, token?: string): Promise<unknown> {
  const res = await adminRequest(url, { ...(token ? { token } : {}), timeoutMs: 3000 });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function countOf(body: unknown, key: string): number | undefined {
  if (Array.isArray(body)) return body.length;
  const inner = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  return Array.isArray(inner) ? inner.length : undefined;
}

export async function statusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, STATUS_USAGE, { ...controlOptions, json: { type: 'boolean' } });
  if (!p.ok) return p.code;
  const { config, pidFile } = pidFileOf(p.values);
  const json = p.values.json === true;
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    if (json) io.stdout(`${JSON.stringify({ running: false, pid_file: pidFile })}\n`);
    else io.stdout(`ferry is not running (pid file ${pidFile})\n`);
    return EXIT_NOT_RUNNING;
  }
  // What the process says of itself; the config file only for the admin token and the usage settings.
  const state = stateOf(pidFile, pid);
  const file = state !== undefined ? (state.config ?? undefined) : config;
  let loaded: LoadedConfig | undefined;
  try {
    loaded = await loadConfig(file);
  } catch {
    loaded = undefined; // the file changed since and is invalid now: no live figures
  }
  const since = state !== undefined ? Date.parse(state.started_at) : startedAt(pidFile);
  const status: Record<string, unknown> = {
    running: true,
    pid,
    pid_file: pidFile,
    ...(since !== undefined ? { started_at: new Date(since).toISOString(), uptime_s: Math.max(0, Math.round((Date.now() - since) / 1000)) } : {}),
    config: file ?? null,
  };
  if (state !== undefined) {
    status.config_changed = state.config !== null && fileSha256(state.config) !== state.config_sha256;
    status.listeners = state.listeners;
    if (state.data_plane !== undefined) status.data_plane = state.data_plane;
    status.last_reload = state.reload;
  } else {
    status.note = `no runtime state (${stateFileOf(pidFile)}): still starting, started by an older Ferry, or not readable by this user (use the user Ferry runs as, or root)`;
  }
  const http = state?.listeners.find((l) => l.transport === 'http');
  const api = http === undefined ? undefined : adminApi(loaded, http);
  if (api !== undefined && loaded !== undefined) {
    const [health, sessions, accounts, usage] = await Promise.allSettled([
      getJson(`${api.base}/healthz`),
      getJson(`${api.base}/v1/sessions`, api.token),
      getJson(`${api.base}/v1/accounts`, api.token),
      fetchUsageSummary((path) => getJson(`${api.base}${path}`, api.token), loaded),
    ]);
    status.health = health.status === 'fulfilled' ? (health.value as { status?: unknown }).status ?? 'unknown' : `unreachable (${(health.reason as Error).message})`;
    if (sessions.status === 'fulfilled') status.allocations = countOf(sessions.value, 'sessions');
    if (accounts.status === 'fulfilled') status.accounts = countOf(accounts.value, 'accounts');
    if (usage.status === 'fulfilled') status.usage = usage.value;
  } else if (state !== undefined) {
    status.note = 'live figures need signaling.admin_token in the config file';
  }
  if (json) {
    io.stdout(`${JSON.stringify(status)}\n`);
    return EXIT_OK;
  }
  io.stdout(`${statusLines(pid, status, state).join('\n')}\n`);
  return EXIT_OK;
}

function statusLines(pid: number, status: Record<string, unknown>, state: RuntimeState | undefined): string[] {
  const lines = [`ferry is running: pid ${pid}${status.uptime_s !== undefined ? `, up ${formatUptime(status.uptime_s as number)}` : ''}`];
  if (state !== undefined) {
    lines.push(`  config: ${state.config ?? 'the embedded defaults'}${status.config_changed === true ? ' (changed since it was loaded: "ferry reload" applies it)' : ''}`);
    lines.push(...listenerLines(state.listeners));
    if (state.data_plane !== undefined) lines.push(dataPlaneLine(state.data_plane));
    const r = state.reload;
    if (r !== null) lines.push(`  last reload: ${r.outcome} at ${r.finished_at}${r.outcome === 'applied' ? `: ${r.changed.length > 0 ? `${r.changed.join(', ')} changed` : 'nothing changed'}` : `: ${r.problems.join('; ')}`}`);
  }
  if (status.health !== undefined) lines.push(`  health: ${String(status.health)}`);
  if (status.allocations !== undefined) lines.push(`  live allocations: ${String(status.allocations)}`);
  if (status.accounts !== undefined) lines.push(`  accounts: ${String(status.accounts)}`);
  if (status.usage !== undefined) lines.push(...usageLines(status.usage as UsageSummary));
  if (status.note !== undefined) lines.push(`  (${String(status.note)})`);
  return lines;
}

function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}
