/**
 * The running process's side of a reload (SIGHUP, sent by `ferry reload` or systemd): re-reads the
 * config file and applies it, or refuses it whole, and records the outcome in the runtime state
 * file (app/cli/runtime-state.ts), where `ferry reload` waits for it.
 *
 * A reload is all or nothing: an invalid file, unreadable TLS files, settings a component cannot
 * take, or a changed key that needs a restart (addresses, storage...) refuse it, and the running
 * configuration stays in force. Reloads run one at a time; SIGHUPs that arrive during one are
 * coalesced into one more reload after it (signals do not queue anyway), which reads the file
 * again.
 */
import { ConfigError, loadConfig, type LoadedConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import type { TlsCredentials } from '../../turn/index.js';
import type { FerryHandle } from '../ferry.js';
import { readTlsFiles } from '../relay-options.js';
import { fileSha256, removeState, writeState, type ReloadOutcome, type RuntimeState } from './runtime-state.js';

/** The process's runtime state, kept in memory and written to its file (when there is one) on every change. */
export class StateKeeper {
  readonly #file: string | undefined;
  readonly #logger: Logger;
  #state: RuntimeState;

  constructor(file: string | undefined, initial: RuntimeState, logger: Logger) {
    this.#file = file;
    this.#state = initial;
    this.#logger = logger;
    this.#write();
  }

  get current(): RuntimeState {
    return this.#state;
  }

  update(patch: Partial<RuntimeState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#write();
  }

  /** Removes the file (on exit), if it is still this process's. */
  remove(): void {
    if (this.#file !== undefined) removeState(this.#file, this.#state.pid);
  }

  #write(): void {
    if (this.#file === undefined) return;
    try {
      writeState(this.#file, this.#state);
    } catch (err) {
      // Ferry keeps running; only `ferry status` and `ferry reload` lose sight of it.
      this.#logger.error({ err: { message: (err as Error).message }, file: this.#file }, 'cannot write the runtime state file');
    }
  }
}

type Decision = Pick<ReloadOutcome, 'outcome' | 'changed' | 'problems' | 'config_sha256'>;

/** A ConfigError as `key: problem` lines (as `ferry config check` prints them, without the header line). */
export function problemLines(err: ConfigError): string[] {
  if (err.problems.length > 0 && err.message.startsWith('invalid configuration in ')) return err.problems.map((p) => `${p.path}: ${p.message}`);
  return err.message.split('\n');
}

const RESTART_HINT = 'changed in the file; needs a restart (ferry stop, then ferry start)';

/**
 * The lines of a refusal that may go to the log. A file that is not valid JSON is reported with
 * the line at fault quoted (src/config/load.ts), which may be a secret's (`"admin_token": "…"`
 * with a comma missing): the log keeps only the first line, where and what; the quote stays in
 * the owner-only state file, for `ferry reload` to show.
 */
function loggableProblems(err: unknown, problems: string[]): string[] {
  return err instanceof ConfigError && err.problems.length === 0 ? problems.slice(0, 1) : problems;
}

/** Reads the config file and applies it to `handle`, or refuses it whole; logs either way. */
async function reloadOnce(source: string | null, handle: FerryHandle, logger: Logger): Promise<Decision> {
  const refuse = (problems: string[], sha: string | null, logged = problems): Decision => {
    logger.error({ config: source, problems: logged }, `reload refused, the running configuration stays in force:\n  ${logged.join('\n  ')}`);
    return { outcome: 'refused', changed: [], problems, config_sha256: sha };
  };
  if (source === null) {
    logger.warn('SIGHUP: running on the embedded defaults, there is no config file to reload');
    return { outcome: 'refused', changed: [], problems: ['(config): running on the embedded defaults, there is no config file to reload'], config_sha256: null };
  }
  logger.info({ config: source }, 'SIGHUP: reloading the configuration');
  let next: LoadedConfig;
  let tls: TlsCredentials | undefined;
  let sha: string | null = null;
  try {
    next = await loadConfig(source);
    sha = fileSha256(source);
    const { restart } = handle.pending(next);
    if (restart.length > 0) return refuse(restart.map((k) => `${k}: ${RESTART_HINT}`), sha);
    // Renewed certificate files replace the old ones in place: read them again before applying anything.
    tls = await readTlsFiles(next);
  } catch (err) {
    if (err instanceof ConfigError) {
      const problems = problemLines(err);
      return refuse(problems, sha ?? fileSha256(source), loggableProblems(err, problems));
    }
    return refuse([`(reload): ${(err as Error).message}`], sha);
  }
  try {
    const { live } = handle.reload(next, tls);
    logger.info({ changed: live }, live.length > 0 ? `configuration reloaded: ${live.join(', ')} applied` : 'configuration reloaded: nothing to apply');
    return { outcome: 'applied', changed: live, problems: [], config_sha256: sha };
  } catch (err) {
    // The components' validate() name the key in their message.
    return refuse([(err as Error).message], sha);
  }
}

/** Runs reloads on request (SIGHUP), one at a time, coalescing requests that arrive meanwhile. */
export class Reloader {
  readonly #source: string | null;
  readonly #handle: FerryHandle;
  readonly #logger: Logger;
  readonly #state: StateKeeper;
  #queued = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(source: string | null, handle: FerryHandle, logger: Logger, state: StateKeeper) {
    this.#source = source;
    this.#handle = handle;
    this.#logger = logger;
    this.#state = state;
  }

  /** Queues a reload unless one is queued and not begun yet (that one will read the file after this request). */
  request(): void {
    if (this.#queued) return;
    this.#queued = true;
    this.#chain = this.#chain
      .then(() => this.#run())
      .catch((err: unknown) => this.#logger.error({ err }, 'reload failed'));
  }

  /** Resolves when no reload runs or is queued (before a stop). */
  idle(): Promise<void> {
    return this.#chain;
  }

  async #run(): Promise<void> {
    this.#queued = false;
    const seq = this.#state.current.reloads_started + 1;
    const startedAt = new Date().toISOString();
    this.#state.update({ reloads_started: seq });
    const d = await reloadOnce(this.#source, this.#handle, this.#logger);
    const finishedAt = new Date().toISOString();
    this.#state.update({
      reload: { seq, started_at: startedAt, finished_at: finishedAt, ...d },
      ...(d.outcome === 'applied' ? { config_loaded_at: finishedAt, config_sha256: d.config_sha256 } : {}),
    });
  }
}
