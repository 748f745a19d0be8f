/**
 * `ferry start`: in the foreground (`--fg`; SIGTERM/SIGINT stop, SIGHUP reloads the config,
 * app/cli/reloader.ts), or as a daemon that runs `ferry start --fg` detached, logs to a file,
 * records its pid and waits for the child's own report that it serves (app/cli/daemon.ts). With a
 * pid file the process keeps its runtime state file (app/cli/runtime-state.ts).
 */
import { resolve } from 'node:path';
import { ConfigError, configuredPidFile, parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { isRedisUrl } from '../../src/config/cluster.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { ListenError } from '../components/listen-error.js';
import { startFerry, type FerryHandle } from '../ferry.js';
import {
  configPath, dataDir, defaultLogFile, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, PID_FILE_HELP, pidFileFor, str, type CliIo,
} from './common.js';
import { daemon, tellParent } from './daemon.js';
import { announceDevSetup } from './dev-notice.js';
import { loadDevSecrets } from './dev-setup.js';
import { removePid, runningPid, writePid } from './pid-file.js';
import { Reloader, StateKeeper } from './reloader.js';
import { fileSha256, STATE_VERSION, stateFileOf, type StateListener } from './runtime-state.js';

/** How long a clean stop may take after the first signal before Ferry gives up and exits 1. */
export const STOP_TIMEOUT_MS = 3000;
/**
 * The same in a fleet (storage on Redis): the node drains first, and while Redis is unreachable the
 * final usage write retries for up to 10 s (the aggregator's stopRetryMs) before it gives up.
 */
export const FLEET_STOP_TIMEOUT_MS = 12_000;
/** How long a second signal (or a stop past STOP_TIMEOUT_MS) waits for the usage to be written. */
export const LAST_FLUSH_MS = 1000;
export { START_TIMEOUT_MS } from './daemon.js';

export const START_USAGE = `Usage: ferry start [--fg] [--dev] [--config FILE] [--pid-file FILE] [--log FILE]

Starts the TURN/STUN relay and the signaling service.

Without --fg, Ferry runs in the background: it starts "ferry start --fg" detached,
with its log (JSON lines) appended to --log, writes its pid to the pid file, and waits
(at most 10 s) until that process reports that all its listeners are bound and it
serves; then it prints the pid and what it listens on and exits 0. When the process
cannot start it exits 1 with the process's own message, e.g.
  ferry: cannot listen on 127.0.0.1:3478 (address): address already in use
and no Ferry is left running. It refuses to start (exit 1) when the pid file names
a running Ferry.

With a pid file, the running process keeps its runtime state (pid, the addresses
and ports it actually listens on, the outcome of the last reload) in a JSON file
next to it: data/ferry.pid -> data/ferry.state.json ("ferry status", "ferry reload").

With --fg, Ferry runs in the foreground and logs JSON lines to stdout. It writes a
pid file (and its runtime state) when --pid-file is given or the config file sets
pid_file (as a systemd unit or a container should: e.g. "/run/ferry/ferry.pid"),
and refuses to start (exit 1) when that pid file names a running Ferry.
A port already in use exits 1 with the same message as above.
SIGINT or SIGTERM stops it cleanly (exit 0); a second signal writes the usage and
exits at once (130 for SIGINT, 143 for SIGTERM).
SIGHUP (or "ferry reload") re-reads the config file and applies it, or refuses it
whole (see "ferry reload --help").

Without any config file Ferry runs on the embedded defaults with a development
setup: secrets in ./data/dev-secrets.json, a "dev" account, and a notice on
stderr with two demo URLs (a one-hour signaling token in each) that connect a
call between two browser tabs. --dev adds the dev account and the demo URLs to
a config file's setup (its API key in data/dev-secrets.json next to the file).

Options:
  --fg                 run in the foreground
  --dev                the development setup (dev account, demo URLs) with
                       a config file too
  -c, --config FILE    the JSON config file (default: ./config.json when it
                       exists, else the built-in defaults)
${PID_FILE_HELP}  --log FILE           the log of a background Ferry; default: data/ferry.log
                       next to the config file (or in the working directory)
  -h, --help           show this help
`;

export async function startCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, START_USAGE, {
    fg: { type: 'boolean' },
    dev: { type: 'boolean' },
    config: { type: 'string', short: 'c' },
    'pid-file': { type: 'string' },
    log: { type: 'string' },
  });
  if (!p.ok) return p.code;
  const config = configPath(str(p.values.config));
  const pidArg = str(p.values['pid-file']);
  const logArg = str(p.values.log);
  const dev = p.values.dev === true;
  if (p.values.fg === true) {
    // What this start prints on stderr, for the background `ferry start` that may have spawned it.
    let printed = '';
    const code = await foreground(config, pidArg === undefined ? undefined : resolve(pidArg), dev, { ...io, stderr: (t) => ((printed += t), io.stderr(t)) });
    if (code !== EXIT_OK) await tellParent({ type: 'failed', message: printed.trim() === '' ? `ferry: exited with code ${code}` : printed });
    return code;
  }
  return daemon(config, pidFileFor(pidArg, config), resolve(logArg ?? defaultLogFile(config)), dev, io);
}

async function foreground(config: string | undefined, pidFile: string | undefined, devFlag: boolean, io: CliIo): Promise<number> {
  // SIGHUP would kill the process by default: handle it from the start. One that comes while Ferry
  // starts (e.g. systemd's ExecReload) is kept and acted on once it serves: the file may have
  // changed after this start read it.
  let hupWhileStarting = false;
  let onHup: () => void = () => (hupWhileStarting = true);
  const hup = () => onHup();
  process.on('SIGHUP', hup);
  const setHup = (f: () => void): void => {
    onHup = f;
    if (hupWhileStarting) {
      hupWhileStarting = false;
      f();
    }
  };

  const dev = config === undefined || devFlag ? loadDevSecrets(dataDir(config)) : undefined;
  let loaded: LoadedConfig;
  if (dev !== undefined && config === undefined) {
    loaded = parseConfig({ auth_secrets: [dev.secrets.auth_secret], signaling: { admin_token: dev.secrets.admin_token } }, null);
  } else {
    const l = await loadOrReport(io, config);
    if (l === null) return EXIT_FAILURE;
    loaded = l;
  }

  // Without --pid-file, the config file's pid_file (the commands given this config look there).
  pidFile ??= configuredPidFile(loaded);
  if (pidFile !== undefined) {
    const other = runningPid(pidFile);
    if (other !== undefined && other !== process.pid) {
      io.stderr(`ferry: already running (pid ${other}, pid file ${pidFile})\n`);
      return EXIT_FAILURE;
    }
    writePid(pidFile, process.pid);
  }
  try {
    return await runUntilSignal(loaded, dev, io, setHup, pidFile === undefined ? undefined : stateFileOf(pidFile));
  } finally {
    process.off('SIGHUP', hup);
    if (pidFile !== undefined) removePid(pidFile, process.pid);
  }
}

async function runUntilSignal(
  loaded: LoadedConfig,
  dev: ReturnType<typeof loadDevSecrets> | undefined,
  io: CliIo,
  setHup: (f: () => void) => void,
  stateFile: string | undefined,
): Promise<number> {
  const logger = createLogger(loaded.config.log_level);
  let running: FerryHandle | undefined;
  // Signals: the first stops cleanly, a second one exits at once once the usage is written.
  let signalled: (signal: NodeJS.Signals) => void = () => {};
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 1) {
      const code = signal === 'SIGINT' ? 130 : 143;
      logger.warn({ signal }, 'second signal: writing the usage, then exiting');
      if (count > 2 || running === undefined) process.exit(code);
      void lastFlush(running, logger).then(() => process.exit(code));
      return;
    }
    signalled(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let handle: FerryHandle;
  try {
    handle = await startFerry(loaded, logger);
    running = handle;
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof ConfigError) {
      io.stderr(`${message}\n`);
    } else if (err instanceof ListenError) {
      logger.fatal({ key: err.key, address: err.host, port: err.port }, message);
      io.stderr(`ferry: ${message}\n`);
    } else {
      logger.fatal({ err }, 'cannot start');
      io.stderr(`ferry: cannot start: ${message}\n`);
    }
    return EXIT_FAILURE;
  }
  const now = new Date().toISOString();
  const state = new StateKeeper(stateFile, {
    version: STATE_VERSION,
    pid: process.pid,
    started_at: now,
    config: loaded.source,
    config_loaded_at: now,
    config_sha256: loaded.source === null ? null : fileSha256(loaded.source),
    listeners: listenersOf(handle),
    data_plane: handle.dataPlane(),
    reloads_started: 0,
    reload: null,
  }, logger);
  try {
    return await serve(handle, loaded, dev, io, logger, state, setHup, firstSignal, () => count);
  } finally {
    state.remove();
  }
}

/** What the process listens on, as bound, with the config key of each listener. */
function listenersOf(handle: FerryHandle): StateListener[] {
  const keys = { udp: 'address', tcp: 'address', tls: 'tls_address' } as const;
  const { address, port } = handle.signalingAddress();
  return [...handle.listening().map((l) => ({ ...l, key: keys[l.transport] })), { transport: 'http', address, port, key: 'signaling.address' }];
}

/** Runs a started Ferry until the first stop signal: reloads on SIGHUP, usage flushes on SIGUSR2; then stops it. */
async function serve(
  handle: FerryHandle,
  loaded: LoadedConfig,
  dev: ReturnType<typeof loadDevSecrets> | undefined,
  io: CliIo,
  logger: Logger,
  state: StateKeeper,
  setHup: (f: () => void) => void,
  firstSignal: Promise<NodeJS.Signals>,
  signals: () => number,
): Promise<number> {
  // Reloads run one after the other, never during the stop.
  const reloader = new Reloader(loaded.source, handle, logger, state);
  setHup(() => {
    if (signals() === 0) reloader.request();
  });
  // SIGUSR2: write the counted usage to the ledger now.
  const onUsr2 = () => {
    if (signals() > 0) return;
    handle.flushUsage().then(
      () => logger.info('SIGUSR2: usage written to the ledger'),
      (err: unknown) => logger.error({ err }, 'SIGUSR2: usage flush failed'),
    );
  };
  process.on('SIGUSR2', onUsr2);
  if (dev !== undefined) {
    await announceDevSetup({ handle, dev, configFile: loaded.source ?? undefined, signingSecret: loaded.config.auth_secrets[0], io, logger });
  }
  // Serving (unless a stop signal came during the start): tell the background `ferry start`, if any.
  if (signals() === 0) await tellParent({ type: 'ready', listeners: state.current.listeners, ...(state.current.data_plane !== undefined ? { data_plane: state.current.data_plane } : {}) });

  const signal = await firstSignal;
  logger.info({ signal }, 'stopping');
  await reloader.idle();
  let timer: NodeJS.Timeout | undefined;
  const stopTimeoutMs = isRedisUrl(loaded.storageUrl) ? FLEET_STOP_TIMEOUT_MS : STOP_TIMEOUT_MS;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stopTimeoutMs)));
  const late = await Promise.race([handle.stop().then(() => false), timedOut]);
  clearTimeout(timer);
  process.off('SIGUSR2', onUsr2);
  if (late) {
    logger.error({ timeout_ms: stopTimeoutMs }, 'stop did not complete in time: writing the usage, then exiting anyway');
    await lastFlush(handle, logger);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** Writes the usage counted so far (live allocations included) for at most LAST_FLUSH_MS; never throws. */
async function lastFlush(handle: FerryHandle, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), LAST_FLUSH_MS)));
  try {
    const r = await Promise.race([handle.flushUsage().then(() => 'written' as const), timeout]);
    if (r === 'written') logger.info('usage written to the ledger');
    else logger.error({ timeout_ms: LAST_FLUSH_MS }, 'usage not written in time: the last write interval may be lost');
  } catch (err) {
    logger.error({ err }, 'usage flush failed: the last write interval may be lost');
  } finally {
    clearTimeout(timer);
  }
}
