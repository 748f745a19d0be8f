/** What every `ferry` command shares: exit codes, output, argument parsing, where files live. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, configuredPidFile, loadConfig, type LoadedConfig } from '../../src/config/load.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `ferry status` when Ferry is not running (as LSB init scripts do). */
export const EXIT_NOT_RUNNING = 3;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function usageError(io: CliIo, message: string, usage: string): number {
  io.stderr(`ferry: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed =
  | { readonly ok: true; readonly values: Record<string, string | boolean | undefined>; readonly positionals: string[] }
  | { readonly ok: false; readonly code: number };

/**
 * Parses a command's arguments (always with -h/--help). Prints the usage and gives the exit
 * code to return for --help (0) and for a usage error (2), including a wrong positional count.
 */
export function parseCommand(
  io: CliIo,
  args: readonly string[],
  usage: string,
  options: Options,
  positionals: { min: number; max: number } = { min: 0, max: 0 },
): Parsed {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positionals.max > 0,
    }) as typeof parsed;
  } catch (err) {
    return { ok: false, code: usageError(io, (err as Error).message, usage) };
  }
  if (parsed.values.help === true) {
    io.stdout(usage);
    return { ok: false, code: EXIT_OK };
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) return { ok: false, code: usageError(io, 'missing argument', usage) };
  if (n > positionals.max) return { ok: false, code: usageError(io, `unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`, usage) };
  return { ok: true, values: parsed.values, positionals: parsed.positionals };
}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** The config file a command uses: --config, else ./config.json when it exists, else none (defaults). */
export function configPath(arg: string | undefined): string | undefined {
  if (arg !== undefined) return resolve(arg);
  return existsSync('config.json') ? resolve('config.json') : undefined;
}

/** `<directory of the config file, or the working directory>/data`: pid file, log, dev secrets. */
export function dataDir(config: string | undefined): string {
  return join(config === undefined ? process.cwd() : dirname(config), 'data');
}

export const defaultPidFile = (config: string | undefined) => join(dataDir(config), 'ferry.pid');
/**
 * `pid_file` of the config file at `config`, resolved against its directory, when set. Read for
 * that key only and leniently (a file that cannot be read or parsed, or whose pid_file is not a
 * path, gives undefined), so that e.g. "ferry stop" still works while the file is being edited;
 * the commands that need the rest of the file report its problems themselves.
 */
export function pidFileSetIn(config: string | undefined): string | undefined {
  if (config === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(config, 'utf8').replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  const file = typeof raw === 'object' && raw !== null ? (raw as { pid_file?: unknown }).pid_file : undefined;
  return typeof file === 'string' && file !== '' ? resolve(dirname(config), file) : undefined;
}

/**
 * The pid file a command looks for the running Ferry by: --pid-file, else pid_file of the config
 * file (`loaded` when the command has loaded it, else read from `config`), else data/ferry.pid
 * next to the config file (or in the working directory).
 */
export function pidFileFor(arg: string | undefined, config: string | undefined, loaded?: LoadedConfig): string {
  if (arg !== undefined) return resolve(arg);
  return (loaded !== undefined ? configuredPidFile(loaded) : pidFileSetIn(config)) ?? defaultPidFile(config);
}

/** The --pid-file line of the commands' help. */
export const PID_FILE_HELP = `  --pid-file FILE      the pid file of the running Ferry; default: pid_file of
                       the config file, else data/ferry.pid next to the config
                       file (or in the working directory)
`;

export const defaultLogFile = (config: string | undefined) => join(dataDir(config), 'ferry.log');

/** loadConfig, printing a ConfigError (one `key: problem` line each) and returning null for it. */
export async function loadOrReport(io: CliIo, path: string | undefined): Promise<LoadedConfig | null> {
  try {
    return await loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`${err.message}\n`);
    return null;
  }
}

/** "host" of a listening address that a local client can reach (0.0.0.0 → 127.0.0.1, :: → ::1). */
export function localHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** A request to a running Ferry's signaling API: the admin token as Bearer token and a JSON body, when given. */
export function adminRequest(url: string, o: { readonly method?: string; readonly token?: string; readonly body?: unknown; readonly timeoutMs: number }): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(url, {
    ...(o.method !== undefined ? { method: o.method } : {}),
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    signal: AbortSignal.timeout(o.timeoutMs),
  });
}
