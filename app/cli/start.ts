/**
 * `ferry start`: in the foreground (`--fg`; SIGTERM/SIGINT stop, SIGHUP reloads the config), or
 * as a daemon that runs `ferry start --fg` detached, logs to a file and records its pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { formatHostPort } from '../../src/config/net.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startFerry, type FerryHandle } from '../ferry.js';
import { readTlsFiles } from '../relay-options.js';
import type { TlsCredentials } from '../../turn/index.js';
import {
  configPath, dataDir, defaultLogFile, defaultPidFile, EXIT_FAILURE, EXIT_OK, loadOrReport, localHost,
  parseCommand, str, type CliIo,
} from './common.js';
import { announceDevSetup } from './dev-notice.js';
import { loadDevSecrets } from './dev-setup.js';
import { removePid, runningPid, writePid } from './pid-file.js';
import { waitForBinding } from './stun-probe.js';

/** How long a clean stop may take after the first signal before Ferry gives up and exits 1. */
export const STOP_TIMEOUT_MS = 3000;
/** How long a second signal (or a stop past STOP_TIMEOUT_MS) waits for the usage to be written. */
export const LAST_FLUSH_MS = 1000;
/** How long `ferry start` (daemon) waits for the relay to answer a STUN Binding. */
export const START_TIMEOUT_MS = 10_000;

const BIN = fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url)); // dist/app/cli → root

export const START_USAGE = `Usage: ferry start [--fg] [--dev] [--config FILE] [--pid-file FILE] [--log FILE]

Starts the TURN/STUN relay and the signaling service.

Without --fg, Ferry runs in the background: it starts "ferry start --fg" detached,
with its log (JSON lines) appended to --log, writes its pid to --pid-file, waits
until the relay answers a STUN Binding (at most 10 s), prints the pid and exits 0.
It refuses to start (exit 1) when the pid file names a running Ferry.

With --fg, Ferry runs in the foreground and logs JSON lines to stdout.
SIGINT or SIGTERM stops it cleanly (exit 0); a second signal writes the usage and
exits at once (130 for SIGINT, 143 for SIGTERM).
SIGHUP (or "ferry reload") re-reads the config file.

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
  --pid-file FILE      default: data/ferry.pid next to the config file (or in
                       the working directory)
  --log FILE           the log of a background Ferry; default: data/ferry.log
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
  if (p.values.fg === true) return foreground(config, pidArg === undefined ? undefined : resolve(pidArg), dev, io);
  return daemon(config, resolve(pidArg ?? defaultPidFile(config)), resolve(logArg ?? defaultLogFile(config)), dev, io);
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

async function daemon(config: string | undefined, pidFile: string, logFile: string, dev: boolean, io: CliIo): Promise<number> {
  const loaded = await loadOrReport(io, config);
  if (loaded === null) return EXIT_FAILURE;
  const running = runningPid(pidFile);
  if (running !== undefined) {
    io.stderr(`ferry: already running (pid ${running}, pid file ${pidFile})\n`);
    return EXIT_FAILURE;
  }
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a', 0o640);
  const args = [BIN, 'start', '--fg', '--pid-file', pidFile, ...(dev ? ['--dev'] : []), ...(config !== undefined ? ['--config', config] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], cwd: process.cwd() });
  closeSync(fd);
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal !== null ? `signal ${signal}` : `exit code ${code}`));
  child.once('error', (err) => (exit = err.message));
  if (child.pid === undefined) {
    await new Promise((r) => setImmediate(r));
    io.stderr(`ferry: cannot start: ${exit ?? 'spawn failed'}\n`);
    return EXIT_FAILURE;
  }
  const pid = child.pid;
  writePid(pidFile, pid);
  const { host, port } = loaded.listen;
  const up = await waitForBinding(localHost(host), port, START_TIMEOUT_MS, () => exit !== undefined);
  if (!up) {
    if (exit === undefined) {
      child.kill('SIGTERM');
      io.stderr(`ferry: no STUN Binding answer on ${formatHostPort(localHost(host), port)} within ${START_TIMEOUT_MS / 1000} s: stopped it (pid ${pid})\n`);
    } else {
      io.stderr(`ferry: failed to start (${exit})\n`);
    }
    removePid(pidFile, pid);
    const tail = logTail(logFile);
    if (tail.trim() !== '') io.stderr(`--- last lines of ${logFile} ---\n${tail}\n`);
    return EXIT_FAILURE;
  }
  child.unref();
  io.stdout(`ferry started in the background: pid ${pid}\n  log: ${logFile}\n  pid file: ${pidFile}\n  stop it with: ferry stop --pid-file ${pidFile}\n`);
  return EXIT_OK;
}

/** Applies the config file again; on any problem logs it and keeps the running config. */
async function reload(source: string | null, handle: FerryHandle, logger: Logger): Promise<void> {
  if (source === null) {
    logger.warn('SIGHUP: running on the embedded defaults, there is no config file to reload');
    return;
  }
  logger.info({ config: source }, 'SIGHUP: reloading the configuration');
  let next: LoadedConfig;
  let tls: TlsCredentials | undefined;
  try {
    next = await loadConfig(source);
    // Renewed certificate files replace the old ones in place: read them again before applying anything.
    tls = await readTlsFiles(next);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    logger.error({ config: source, problems: err.problems }, `reload refused, the running configuration stays in force: ${err.message}`);
    return;
  }
  try {
    const diff = handle.reload(next, tls);
    if (diff.restart.length > 0) {
      logger.warn({ keys: diff.restart }, `reload: ${diff.restart.join(', ')} changed; needs a restart, ignored until then`);
    }
    logger.info({ changed: diff.live }, diff.live.length > 0 ? `configuration reloaded: ${diff.live.join(', ')} applied` : 'configuration reloaded: nothing to apply');
  } catch (err) {
    logger.error({ err: { message: (err as Error).message } }, 'reload refused, the running configuration stays in force');
  }
}

async function foreground(config: string | undefined, pidFile: string | undefined, devFlag: boolean, io: CliIo): Promise<number> {
  // SIGHUP would kill the process by default: handle it from the start (ignored until running).
  let onHup: () => void = () => {};
  const hup = () => onHup();
  process.on('SIGHUP', hup);

  const dev = config === undefined || devFlag ? loadDevSecrets(dataDir(config)) : undefined;
  let loaded: LoadedConfig;
  if (dev !== undefined && config === undefined) {
    loaded = parseConfig({ auth_secrets: [dev.secrets.auth_secret], signaling: { admin_token: dev.secrets.admin_token } }, null);
  } else {
    const l = await loadOrReport(io, config);
    if (l === null) return EXIT_FAILURE;
    loaded = l;
  }

  if (pidFile !== undefined) {
    const other = runningPid(pidFile);
    if (other !== undefined && other !== process.pid) {
      io.stderr(`ferry: already running (pid ${other}, pid file ${pidFile})\n`);
      return EXIT_FAILURE;
    }
    writePid(pidFile, process.pid);
  }
  try {
    return await runUntilSignal(loaded, dev, io, (f) => (onHup = f));
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
    } else {
      logger.fatal({ err }, 'cannot start');
      io.stderr(`ferry: cannot start: ${message}\n`);
    }
    return EXIT_FAILURE;
  }
  // Reloads run one after the other, never during the stop.
  let reloading = Promise.resolve();
  setHup(() => {
    if (count === 0) reloading = reloading.then(() => reload(loaded.source, handle, logger)).catch((err: unknown) => logger.error({ err }, 'reload failed'));
  });
  // SIGUSR2: write the counted usage to the ledger now.
  const onUsr2 = () => {
    if (count > 0) return;
    handle.flushUsage().then(
      () => logger.info('SIGUSR2: usage written to the ledger'),
      (err: unknown) => logger.error({ err }, 'SIGUSR2: usage flush failed'),
    );
  };
  process.on('SIGUSR2', onUsr2);
  if (dev !== undefined) {
    await announceDevSetup({ handle, dev, configFile: loaded.source ?? undefined, signingSecret: loaded.config.auth_secrets[0], io, logger });
  }

  const signal = await firstSignal;
  logger.info({ signal }, 'stopping');
  await reloading;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
  const late = await Promise.race([handle.stop().then(() => false), timedOut]);
  clearTimeout(timer);
  process.off('SIGUSR2', onUsr2);
  if (late) {
    logger.error({ timeout_ms: STOP_TIMEOUT_MS }, 'stop did not complete in time: writing the usage, then exiting anyway');
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
