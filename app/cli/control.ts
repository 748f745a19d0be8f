/** `ferry stop`, `ferry status` and `ferry reload`: the running Ferry named by a pid file. */
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { formatHostPort } from '../../src/config/net.js';
import {
  adminRequest, configPath, dataDir, defaultPidFile, EXIT_FAILURE, EXIT_NOT_RUNNING, EXIT_OK, localHost, parseCommand, str, type CliIo,
} from './common.js';
import { readDevSecretsFile } from './dev-setup.js';
import { alive, removePid, runningPid, startedAt } from './pid-file.js';
import { fetchUsageSummary, usageLines, type UsageSummary } from './status-usage.js';

export const STOP_WAIT_MS = 15_000;

const COMMON_OPTIONS = `  -c, --config FILE    the config file Ferry was started with (locates the
                       default pid file; status reads listeners and admin_token)
  --pid-file FILE      default: data/ferry.pid next to the config file (or in
                       the working directory)
  -h, --help           show this help
`;

export const STOP_USAGE = `Usage: ferry stop [--config FILE] [--pid-file FILE]

Sends SIGTERM to the Ferry named by the pid file and waits (at most 15 s) until it
has exited. Exit 0 when it stopped, 1 when it was not running or did not stop.

Options:
${COMMON_OPTIONS}`;

export const RELOAD_USAGE = `Usage: ferry reload [--config FILE] [--pid-file FILE]

Sends SIGHUP to the running Ferry: it re-reads its config file and applies users,
auth_secrets, peers, quotas, realm, log_level, signaling.admin_token, webhooks,
nonce, rate_limits, network_usage (limits, report and write intervals, archive_dir) and the
TLS certificate and key (the files are read again) without dropping allocations, TLS
connections or WebSockets. An invalid file or certificate is refused (the running config
stays); addresses, relay ports, storage, public_host, metrics and network_usage.timeframe
need a restart. The log says what was applied and what
waits for a restart. Exit 0 when the signal was sent, 1 when not running.

Options:
${COMMON_OPTIONS}`;

export const STATUS_USAGE = `Usage: ferry status [--config FILE] [--pid-file FILE] [--json]

Tells whether Ferry runs: pid, uptime, listeners (from the config file) and, when
signaling.admin_token is set, live figures from the running process over its
signaling API: health, live allocations, accounts, and the current timeframe's
usage (GET /v1/usage, the part not yet written to the ledger included): its start
and end, bytes and packets each way, accounts with usage, the top 5 accounts by
bytes, and the state of network_usage.global_limit (as set in the config file).
Exit 0 when running, 3 when not running.

Options:
  --json               print one JSON object
${COMMON_OPTIONS}`;

const controlOptions = { config: { type: 'string', short: 'c' }, 'pid-file': { type: 'string' } } as const;

function pidFileOf(values: Record<string, string | boolean | undefined>): { config: string | undefined; pidFile: string } {
  const config = configPath(str(values.config));
  return { config, pidFile: str(values['pid-file']) ?? defaultPidFile(config) };
}

/** Parses a stop/reload command line and finds the running Ferry, or says why not (exit code). */
function runningFerry(io: CliIo, args: readonly string[], usage: string): { pid: number; pidFile: string } | { code: number } {
  const p = parseCommand(io, args, usage, controlOptions);
  if (!p.ok) return { code: p.code };
  const { pidFile } = pidFileOf(p.values);
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    io.stderr(`ferry: not running (pid file ${pidFile})\n`);
    return { code: EXIT_FAILURE };
  }
  return { pid, pidFile };
}

export async function stopCommand(args: readonly string[], io: CliIo): Promise<number> {
  const r = runningFerry(io, args, STOP_USAGE);
  if ('code' in r) return r.code;
  const { pid, pidFile } = r;
  process.kill(pid, 'SIGTERM');
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

export async function reloadCommand(args: readonly string[], io: CliIo): Promise<number> {
  const r = runningFerry(io, args, RELOAD_USAGE);
  if ('code' in r) return r.code;
  const { pid } = r;
  process.kill(pid, 'SIGHUP');
  io.stdout(`reload requested (SIGHUP to pid ${pid}); the log says what was applied or why it was refused\n`);
  return EXIT_OK;
}

export interface Listener {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
}

function listenersOf(loaded: LoadedConfig): Listener[] {
  const out: Listener[] = [
    { transport: 'udp', address: loaded.listen.host, port: loaded.listen.port },
    { transport: 'tcp', address: loaded.listen.host, port: loaded.listen.port },
  ];
  if (loaded.tlsListen) out.push({ transport: 'tls', address: loaded.tlsListen.host, port: loaded.tlsListen.port });
  out.push({ transport: 'http', address: loaded.signalingListen.host, port: loaded.signalingListen.port });
  return out;
}

/** A running Ferry's signaling API, when reachable: base URL and admin token. */
export function adminApi(loaded: LoadedConfig | undefined): { base: string; token: string } | undefined {
  // Without a config file, a development setup keeps its admin token in data/dev-secrets.json.
  const token = loaded?.config.signaling.admin_token ?? (loaded?.source === null ? devAdminToken() : undefined);
  if (loaded === undefined || token === undefined || loaded.signalingListen.port === 0) return undefined;
  return { base: `http://${formatHostPort(localHost(loaded.signalingListen.host), loaded.signalingListen.port)}`, token };
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
  let loaded: LoadedConfig | undefined;
  try {
    loaded = await loadConfig(config);
  } catch {
    loaded = undefined; // the file changed since; pid-only information
  }
  const since = startedAt(pidFile);
  const status: Record<string, unknown> = {
    running: true,
    pid,
    pid_file: pidFile,
    ...(since !== undefined ? { started_at: new Date(since).toISOString(), uptime_s: Math.round((Date.now() - since) / 1000) } : {}),
    config: config ?? null,
    ...(loaded ? { listeners: listenersOf(loaded) } : {}),
  };
  const api = adminApi(loaded);
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
  } else {
    status.note = 'live figures need signaling.admin_token and a fixed signaling port in the config';
  }
  if (json) {
    io.stdout(`${JSON.stringify(status)}\n`);
    return EXIT_OK;
  }
  const lines = [`ferry is running: pid ${pid}${status.uptime_s !== undefined ? `, up ${formatUptime(status.uptime_s as number)}` : ''}`];
  for (const l of (status.listeners as Listener[] | undefined) ?? []) lines.push(`  listening: ${l.transport} ${formatHostPort(l.address, l.port)}`);
  if (status.health !== undefined) lines.push(`  health: ${String(status.health)}`);
  if (status.allocations !== undefined) lines.push(`  live allocations: ${String(status.allocations)}`);
  if (status.accounts !== undefined) lines.push(`  accounts: ${String(status.accounts)}`);
  if (status.usage !== undefined) lines.push(...usageLines(status.usage as UsageSummary));
  if (status.note !== undefined) lines.push(`  (${String(status.note)})`);
  io.stdout(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}
