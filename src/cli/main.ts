/**
 * The `ferry` command line. `run(argv)` resolves to the process exit code:
 * 0 success, 1 configuration or start-up failure, 2 usage error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { startFerry, type FerryHandle } from '../main.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** How long a clean stop may take after the first signal before Ferry gives up and exits 1. */
export const STOP_TIMEOUT_MS = 3000;

const USAGE = `Usage: ferry <command> [options]

Commands:
  start [--fg] [--config FILE]   run the TURN/STUN relay until SIGINT or SIGTERM

Options:
  -h, --help      show this help
  -V, --version   print the version

"ferry start --help" describes the options of start.
`;

const START_USAGE = `Usage: ferry start [--fg] [--config FILE]

Runs the TURN/STUN relay in the foreground and logs JSON lines to stdout.
SIGINT or SIGTERM stops it cleanly (exit 0); a second signal exits at once.

Options:
  --fg                run in the foreground; for now start always runs in the
                      foreground, with or without --fg
  -c, --config FILE   the JSON config file (default: ./config.json when it
                      exists, else the built-in defaults)
  -h, --help          show this help
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function usageError(io: CliIo, message: string, usage: string): number {
  io.stderr(`ferry: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

export async function run(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError(io, 'missing command', USAGE);
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (command === '-V' || command === '--version') {
    io.stdout(`${version()}\n`);
    return EXIT_OK;
  }
  if (command !== 'start') return usageError(io, `unknown command ${JSON.stringify(command)}`, USAGE);

  let values: { fg?: boolean; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        fg: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return usageError(io, (err as Error).message, START_USAGE);
  }
  if (values.help) {
    io.stdout(START_USAGE);
    return EXIT_OK;
  }
  return start(values.config, io);
}

async function start(configArg: string | undefined, io: CliIo): Promise<number> {
  const path = configArg ?? (existsSync('config.json') ? 'config.json' : undefined);
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`${err.message}\n`);
    return EXIT_FAILURE;
  }

  const logger = createLogger(loaded.config.log_level);
  // Signals: the first stops cleanly, a second one exits at once.
  let signalled: (signal: NodeJS.Signals) => void = () => {};
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    signalled(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let handle: FerryHandle;
  try {
    handle = await startFerry(loaded, logger);
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

  const signal = await firstSignal;
  logger.info({ signal }, 'stopping');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
  const late = await Promise.race([handle.stop().then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    logger.error({ timeout_ms: STOP_TIMEOUT_MS }, 'stop did not complete in time: exiting anyway');
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
