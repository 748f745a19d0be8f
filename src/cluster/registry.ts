/**
 * This node's membership in the relay registry, and its view of the fleet. Every heartbeat writes
 * the node's entry (load, state) with the TTL and reads the live entries back into an in-memory
 * view: selection (/v1/ice-servers) reads that view, never Redis per request. An entry read with
 * `remainingMs` left is dropped from the view when that time has passed, so a node that stops
 * heartbeating leaves every node's view within the TTL, however the nodes' clocks differ.
 *
 * Heartbeats never throw. While the store is unreachable the last view is kept as it was read (no
 * node can refresh its entry then, so expiring them would empty the pool for nothing) for at most
 * `staleMs`, after which the view is empty; health() says degraded meanwhile.
 */
import type { Logger } from '../logger.js';
import { MAX_RELAYS, type RegistryStore, type RelayEntry, type RelayState } from './types.js';

export interface RelayRegistryOptions {
  readonly store: RegistryStore;
  readonly nodeId: string;
  /** This node's entry as of now (load read at each call, once per heartbeat); the registry sets `nodeId` and `state`. */
  readonly describe: () => Omit<RelayEntry, 'state' | 'nodeId'>;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  /** How long a view read before the store became unreachable is still served. Default 3 × ttl. */
  readonly staleMs?: number;
  /** Most entries read. Default MAX_RELAYS. */
  readonly maxRelays?: number;
  readonly now?: () => number;
  readonly log: Logger;
  /**
   * The fleet's shared auth_secrets: `check()` is published in this node's entry, `accepts()`
   * tells whether this node accepts what another node mints. A node it does not accept is
   * warned about and reported by problems(). Absent: no check.
   */
  readonly secrets?: { check(): string | undefined; accepts(check: string): boolean };
}

/** Nodes named in the problem about foreign secrets. */
const MAX_NAMED = 5;

interface Viewed {
  readonly entry: RelayEntry;
  /** Local clock. */
  readonly expiresAt: number;
}

export class RelayRegistry {
  readonly #o: RelayRegistryOptions;
  readonly #now: () => number;
  readonly #staleMs: number;
  #state: RelayState = 'active';
  #view: readonly Viewed[] = [];
  /** When the view was last read successfully (local clock); -1: never. */
  #readAt = -1;
  /** When the store first failed in the current outage; undefined while it answers. */
  #failingSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #left = false;
  /** Nodes whose credentials this node refuses (auth_secrets differ), as of the last read. */
  #foreign: string[] = [];
  readonly #warned = new Set<string>();

  constructor(options: RelayRegistryOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#staleMs = options.staleMs ?? 3 * options.ttlMs;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  get state(): RelayState {
    return this.#state;
  }

  /** Registers now (awaited, never throws) and then every heartbeat. */
  async join(): Promise<void> {
    this.#left = false;
    await this.heartbeat();
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.heartbeat(), this.#o.heartbeatMs);
      this.#timer.unref();
    }
  }

  /** Marks this node draining and publishes it at once: no node's selection picks it from its next read on. */
  async drain(): Promise<void> {
    this.#state = 'draining';
    await this.heartbeat(true);
  }

  /** Stops heartbeating and removes the entry (best effort: otherwise it expires within the TTL). */
  async leave(): Promise<void> {
    this.#left = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight?.catch(() => {});
    try {
      await this.#o.store.remove(this.nodeId);
    } catch (err) {
      this.#o.log.warn({ err: errText(err) }, 'registry: could not remove this node\'s entry; it expires within cluster.ttl');
    }
  }

  /**
   * Writes this node's entry and reads the fleet back. Never throws. A heartbeat still running
   * is not doubled; `force` waits for it and runs another (a state change must be written).
   */
  async heartbeat(force = false): Promise<void> {
    if (this.#inFlight !== undefined) {
      if (!force) return;
      await this.#inFlight.catch(() => {});
    }
    if (this.#left) return;
    const run = this.#beat().finally(() => {
      if (this.#inFlight === run) this.#inFlight = undefined;
    });
    this.#inFlight = run;
    await run;
  }

  async #beat(): Promise<void> {
    const { store, ttlMs, log } = this.#o;
    try {
      const check = this.#o.secrets?.check();
      const entry: RelayEntry = { ...this.#o.describe(), nodeId: this.#o.nodeId, state: this.#state, ...(check !== undefined ? { secretCheck: check } : {}) };
      await store.put(entry, ttlMs);
      const listed = await store.list(this.#o.maxRelays ?? MAX_RELAYS);
      const now = this.#now();
      this.#view = listed.map((l) => ({ entry: l.entry, expiresAt: now + l.remainingMs }));
      this.#readAt = now;
      this.#checkSecrets(listed.map((l) => l.entry));
      if (this.#failingSince !== undefined) log.info({ nodes: listed.length }, 'registry: reachable again');
      this.#failingSince = undefined;
    } catch (err) {
      if (this.#failingSince === undefined) {
        this.#failingSince = this.#now();
        log.warn({ err: errText(err) }, 'registry: heartbeat failed; serving the last view of the fleet for a bounded time');
      }
    }
  }

  #checkSecrets(entries: readonly RelayEntry[]): void {
    const secrets = this.#o.secrets;
    if (secrets === undefined) return;
    this.#foreign = entries.filter((e) => e.nodeId !== this.#o.nodeId && e.secretCheck !== undefined && !secrets.accepts(e.secretCheck)).map((e) => e.nodeId);
    for (const id of this.#foreign) {
      if (this.#warned.has(id) || this.#warned.size >= MAX_RELAYS) continue;
      this.#warned.add(id);
      this.#o.log.warn({ node_id: id }, `registry: node ${id} mints TURN credentials with a secret this node does not accept: the nodes of a fleet must share auth_secrets`);
    }
  }

  /**
   * The live relays of the last view (this node's own state as it is now). Empty once the store
   * has been unreachable for longer than staleMs after the last read.
   */
  live(): RelayEntry[] {
    const now = this.#now();
    const self = this.nodeId;
    let view: readonly Viewed[];
    if (this.#failingSince === undefined) view = this.#view.filter((v) => v.expiresAt > now);
    else view = this.#readAt >= 0 && now - this.#readAt <= this.#staleMs ? this.#view : [];
    return view.map((v) => (v.entry.nodeId === self && v.entry.state !== this.#state ? { ...v.entry, state: this.#state } : v.entry));
  }

  /** The live entries read from the store now (GET /v1/relays); rejects when it is unreachable. */
  async read(): Promise<RelayEntry[]> {
    const listed = await this.#o.store.list(this.#o.maxRelays ?? MAX_RELAYS);
    return listed.map((l) => l.entry);
  }

  /** Problems to report on /healthz: empty while the registry answers. */
  problems(): string[] {
    const out: string[] = [];
    if (this.#foreign.length > 0) {
      const named = this.#foreign.slice(0, MAX_NAMED).join(', ') + (this.#foreign.length > MAX_NAMED ? ` and ${this.#foreign.length - MAX_NAMED} more` : '');
      out.push(`auth_secrets: this node refuses the TURN credentials of ${named} (the nodes of a fleet must share auth_secrets)`);
    }
    if (this.#failingSince === undefined) return out;
    const since = new Date(this.#failingSince).toISOString();
    const age = this.#readAt < 0 ? 'no view read yet' : `serving the view read ${Math.round((this.#now() - this.#readAt) / 1000)} s ago`;
    out.push(`relay registry: storage unreachable since ${since} (${age})`);
    return out;
  }
}

/** An error's message only: a Redis error never carries the password, but a logged object might. */
function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
