/**
 * The runtime state file of a Ferry started with a pid file: what the process itself says about
 * itself, for `ferry status` and `ferry reload`. It lives next to the pid file (`ferry.pid` →
 * `ferry.state.json`), is written by the process only (atomically: a temp file renamed over it)
 * after its listeners are bound and after each reload, and is removed when it exits. A state
 * file whose pid is not the running Ferry's is stale and ignored. It holds no config values, but
 * its problem lines quote the config file where it is not valid JSON (config/load.ts shows the line
 * at fault, which may be a secret's), so it is readable by its owner only, like the config file
 * `ferry init` writes; `ferry reload` must run as that user anyway to signal the process.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatHostPort } from '../../src/config/net.js';

export const STATE_VERSION = 1;

export interface StateListener {
  readonly transport: 'udp' | 'tcp' | 'tls' | 'http';
  readonly address: string;
  /** As bound: the port the system chose for a configured port 0. */
  readonly port: number;
  /** The config key it comes from: address, tls_address or signaling.address. */
  readonly key: string;
}

export interface StateDataPlane {
  readonly plane: 'native' | 'js';
  readonly threads: number;
}

/** The outcome of one reload (SIGHUP), as the process decided it. */
export interface ReloadOutcome {
  /** 1 for the first reload of this process, then one more per reload. */
  readonly seq: number;
  readonly started_at: string;
  readonly finished_at: string;
  readonly outcome: 'applied' | 'refused';
  /** applied: the keys that changed (empty: the file had no change to apply). */
  readonly changed: readonly string[];
  /** refused: one `key: problem` line each (the running configuration stays). */
  readonly problems: readonly string[];
  /** sha256 of the config file as the process read it (null when unreadable). */
  readonly config_sha256: string | null;
}

export interface RuntimeState {
  readonly version: number;
  readonly pid: number;
  readonly started_at: string;
  /** The config file the process reads on reload; null for the embedded defaults. */
  readonly config: string | null;
  /** When the running configuration was last read from the file (start or applied reload). */
  readonly config_loaded_at: string;
  /** sha256 of the config file as last read (start or applied reload); null for the embedded defaults. */
  readonly config_sha256: string | null;
  readonly listeners: readonly StateListener[];
  /**
   * The data plane that relays UDP clients, as chosen at start (data_plane), and its relay threads
   * (1 for the TypeScript path, the JS thread). Absent in the state of a Ferry older than the key.
   */
  readonly data_plane?: StateDataPlane;
  /** Reloads begun so far: one ahead of `reload.seq` while a reload runs. */
  readonly reloads_started: number;
  /** The last finished reload; null before the first. */
  readonly reload: ReloadOutcome | null;
}

/** The data plane as `ferry status` prints it: one indented line. */
export function dataPlaneLine(d: StateDataPlane): string {
  return d.plane === 'native'
    ? `  data plane: native, ${d.threads} relay thread${d.threads === 1 ? '' : 's'} (data_plane)`
    : '  data plane: js, TypeScript on the JS thread (data_plane)';
}

/** The listeners as `ferry start` and `ferry status` print them, one indented line each. */
export function listenerLines(listeners: readonly StateListener[]): string[] {
  return listeners.map((l) => `  listening: ${l.transport} ${formatHostPort(l.address, l.port)} (${l.key})`);
}

/** `<dir>/ferry.pid` → `<dir>/ferry.state.json`; another name gets `.state.json` appended. */
export function stateFileOf(pidFile: string): string {
  const name = basename(pidFile);
  return join(dirname(pidFile), `${name.endsWith('.pid') ? name.slice(0, -'.pid'.length) : name}.state.json`);
}

/**
 * Writes `state` to `file` atomically: a reader sees the old state or the new one, never a part.
 * The temp file's name is predictable, so it is created afresh ('wx': O_EXCL, which follows no
 * symlink): in a shared directory (--pid-file /tmp/...) a link planted there by another user
 * cannot make a Ferry running as root write through it. A leftover of a crashed write is removed
 * first (rmSync removes a link itself, never its target).
 */
export function writeState(file: string, state: RuntimeState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${state.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

/** Removes the state file if it still belongs to `pid` (a newer Ferry may have replaced it). */
export function removeState(file: string, pid: number): void {
  if (readState(file)?.pid !== pid) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isCount = (v: unknown, min = 0) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');

function isListener(v: unknown): v is StateListener {
  return (
    isObject(v) && ['udp', 'tcp', 'tls', 'http'].includes(v.transport as string) && typeof v.address === 'string' &&
    isCount(v.port) && (v.port as number) <= 65535 && typeof v.key === 'string'
  );
}

function isDataPlane(v: unknown): v is StateDataPlane {
  return isObject(v) && (v.plane === 'native' || v.plane === 'js') && isCount(v.threads, 1);
}

function isOutcome(v: unknown): v is ReloadOutcome {
  return (
    isObject(v) && isCount(v.seq, 1) && isTime(v.started_at) && isTime(v.finished_at) && (v.outcome === 'applied' || v.outcome === 'refused') &&
    isStrings(v.changed) && isStrings(v.problems) && (v.config_sha256 === null || typeof v.config_sha256 === 'string')
  );
}

/** The state in `file`, or undefined when there is none or it is not one (another version, damaged). */
/**
 * Whether `file` belongs to the user process `pid` runs as (the owner of /proc/<pid>). A state file
 * is read only when it does: one planted by another user beside a pid file in a shared directory
 * could otherwise send the CLI, and the admin token it carries, to a port of that user's choosing.
 * Where there is no /proc (not Linux), the check is skipped.
 */
export function ownedByProcess(file: string, pid: number): boolean {
  let procUid: number;
  try {
    procUid = statSync(`/proc/${pid}`).uid;
  } catch {
    return !existsSync('/proc/self');
  }
  try {
    return statSync(file).uid === procUid;
  } catch {
    return false;
  }
}

export function readState(file: string): RuntimeState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const ok =
    isObject(v) && v.version === STATE_VERSION && isCount(v.pid, 1) && isTime(v.started_at) && (v.config === null || typeof v.config === 'string') &&
    isTime(v.config_loaded_at) && (v.config_sha256 === null || typeof v.config_sha256 === 'string') && Array.isArray(v.listeners) && v.listeners.every(isListener) &&
    (v.data_plane === undefined || isDataPlane(v.data_plane)) && isCount(v.reloads_started) &&
    (v.reload === null || isOutcome(v.reload));
  return ok ? (v as unknown as RuntimeState) : undefined;
}

/** sha256 (hex) of a file's bytes; null when it cannot be read. */
export function fileSha256(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}
