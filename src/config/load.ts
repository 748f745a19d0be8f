/** Reading and validating Ferry's JSON config file. */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, problemsFromIssues } from './errors.js';
import { findJsonSyntaxProblem } from './json-error.js';
import { parseHostPort, parsePortRange, type HostPort, type PortRange } from './net.js';
import { ConfigSchema, type Config } from './schema.js';

export { ConfigError } from './errors.js';

/** A validated config, defaults filled in, with its network values parsed. */
export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the file read, or null for the embedded defaults. */
  readonly source: string | null;
  /** `address` parsed. */
  readonly listen: HostPort;
  /** `tls_address` parsed, when set. */
  readonly tlsListen?: HostPort;
  /** `relay_ports` parsed. */
  readonly relayPorts: PortRange;
  /** `signaling.address` parsed (port 0: any free port). */
  readonly signalingListen: HostPort;
  /**
   * `storage` with a relative SQLite path made absolute (against the config file's directory,
   * or the working directory for the embedded defaults); `sqlite::memory:` unchanged.
   */
  readonly storageUrl: string;
}

export const MEMORY_STORAGE = 'sqlite::memory:';

/**
 * The directory relative paths in the config start at: the config file's, or the working
 * directory for the embedded defaults. Computed from `source` on each call (not stored), so a
 * LoadedConfig copied with another `source` resolves against that one.
 */
export function configDir(loaded: Pick<LoadedConfig, 'source'>): string {
  return loaded.source === null ? process.cwd() : dirname(loaded.source);
}

/** `storage` with its SQLite file path resolved against `base`. */
export function resolveStorageUrl(storage: string, base: string): string {
  if (storage === MEMORY_STORAGE || !storage.startsWith('sqlite:')) return storage;
  const file = storage.slice('sqlite:'.length);
  return isAbsolute(file) ? storage : `sqlite:${resolve(base, file)}`;
}

/** `pid_file` resolved against the config file's directory, when set. */
export function configuredPidFile(loaded: Pick<LoadedConfig, 'source' | 'config'>): string | undefined {
  const file = loaded.config.pid_file;
  return file === undefined ? undefined : resolve(configDir(loaded), file);
}

/** Validates an already parsed JSON value; `source` names it in error messages. */
export function parseConfig(raw: unknown, source: string | null = null): LoadedConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw ConfigError.fromProblems(source ?? 'the embedded defaults', problemsFromIssues(result.error.issues));
  }
  const config = result.data;
  return {
    config,
    source,
    listen: parseHostPort(config.address),
    ...(config.tls_address !== undefined ? { tlsListen: parseHostPort(config.tls_address) } : {}),
    relayPorts: parsePortRange(config.relay_ports),
    signalingListen: parseHostPort(config.signaling.address, 0),
    storageUrl: resolveStorageUrl(config.storage, configDir({ source })),
  };
}

function jsonError(source: string, text: string, parseMessage: string): ConfigError {
  const problem = findJsonSyntaxProblem(text);
  if (problem === null) return new ConfigError(`${source}: invalid JSON: ${parseMessage}`);
  const lineText = text.split('\n')[problem.line - 1].replace(/\r$/, '');
  const caret = `${' '.repeat(problem.column - 1)}^`;
  return new ConfigError(
    `${source}: invalid JSON at line ${problem.line}, column ${problem.column}: ${problem.message}\n  ${lineText}\n  ${caret}`,
  );
}

/**
 * Loads the config file at `path` (JSON), or the embedded defaults when no path is given.
 * Throws ConfigError (unreadable file, bad JSON, or one line per invalid key).
 */
export async function loadConfig(path?: string): Promise<LoadedConfig> {
  if (path === undefined) return parseConfig({}, null);
  const source = resolve(path);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError(`${source}: cannot read the config file: ${why}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw jsonError(source, text, (err as Error).message);
  }
  return parseConfig(raw, source);
}
