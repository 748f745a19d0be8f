/**
 * The `ferry` command line. `run(argv)` resolves to the process exit code: 0 success, 1 failure
 * (invalid configuration, start-up failure, not running...), 2 usage error, 3 `status` of a
 * Ferry that is not running. One file per command (per command group for accounts). A mistyped
 * command or subcommand gets "did you mean" (./did-you-mean.ts).
 */
import { packageVersion } from '../../src/package-version.js';
import { accountsCommand } from './accounts.js';
import { StorageUnavailableError } from '../../src/store/redis/client.js';
import { defaultIo, EXIT_FAILURE, EXIT_OK, usageError, type CliIo } from './common.js';
import { configCommand } from './config-check.js';
import { reloadCommand, statusCommand, stopCommand } from './control.js';
import { credentialsCommand } from './credentials.js';
import { unknownWord } from './did-you-mean.js';
import { initCommand } from './init.js';
import { sessionsCommand } from './sessions.js';
import { startCommand } from './start.js';
import { usageCommand } from './usage.js';

export { EXIT_FAILURE, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE, type CliIo } from './common.js';
export { STOP_TIMEOUT_MS } from './start.js';

const USAGE = `Usage: ferry <command> [options]

Commands:
  init [--dir DIR] [--force]      write a config.json with fresh secrets and a TLS certificate
  start [--fg] [--config FILE]    start the relay (in the background without --fg)
  stop                            stop the running Ferry (SIGTERM, waits up to 15 s)
  status [--json]                 is Ferry running? pid, uptime, listeners, live figures
  reload                          check the config file, apply it to a running Ferry, say the outcome
  accounts create NAME | list | enable|disable|delete|revoke ACCOUNT
         | rename ACCOUNT NAME | limit ACCOUNT SIZE|none
                                  manage accounts (through a running Ferry's admin
                                  API, else in the configured store)
  accounts keys list|add ACCOUNT | revoke ACCOUNT KEY_ID
                                  an account's API keys
  sessions [--account A] [--json] | kill ID
                                  a running Ferry's live relay sessions
  credentials ACCOUNT [--ttl 1h]  mint TURN credentials ({iceServers}) locally
  usage [--account A] [--json]    the current timeframe's relayed usage per account
  config check FILE               validate a config file

Options:
  -h, --help      show this help
  -V, --version   print the version

"ferry <command> --help" describes a command's options.
Exit codes: 0 success, 1 failure, 2 usage error, 3 (status) not running.
`;

const COMMANDS: Record<string, (args: readonly string[], io: CliIo) => Promise<number>> = {
  init: initCommand,
  start: startCommand,
  stop: stopCommand,
  status: statusCommand,
  reload: reloadCommand,
  accounts: accountsCommand,
  sessions: sessionsCommand,
  credentials: credentialsCommand,
  usage: usageCommand,
  config: configCommand,
};


export async function run(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError(io, 'missing command', USAGE);
  if (command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (command === '-V' || command === '--version') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (handler === undefined) return unknownWord(io, 'command', command, Object.keys(COMMANDS), USAGE);
  try {
    return await handler(rest, io);
  } catch (err) {
    // The store cannot be opened or reached (Redis down, say): one line, no stack trace.
    if (!isStorageError(err)) throw err;
    io.stderr(`ferry: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

const isStorageError = (err: unknown): boolean => err instanceof StorageUnavailableError || (err instanceof Error && err.message.startsWith('storage: '));
