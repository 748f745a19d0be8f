/**
 * The one shape of every part the composition root wires (app/ferry.ts): built in dependency
 * order with everything it needs passed in, then started, stopped and reloaded through one list
 * (app/lifecycle.ts, app/reload.ts).
 */
import type { LoadedConfig } from '../../src/config/load.js';

export interface Component {
  /** For logs and errors. */
  readonly name: string;
  /**
   * Takes what the component holds (sockets, timers, the database's rows). A failed start may
   * leave part of it taken: stop() releases that too.
   */
  start(): Promise<void>;
  /** Releases what start() took, also after a failed or partial start; called once. */
  stop(): Promise<void>;
  /**
   * The config keys this component applies on reload (top-level, or dotted below signaling and
   * network_usage: 'signaling.admin_token'), declared next to the code that applies them.
   */
  readonly keys?: readonly string[];
  /** Throws, naming the key, when apply(next) could not take `next`; changes nothing. */
  validate?(next: LoadedConfig): void;
  /**
   * Takes this component's keys from `next` (validated); does not throw. `changed` holds the
   * live keys that differ from the running config, for what is worth a log line.
   */
  apply?(next: LoadedConfig, changed: ReadonlySet<string>): void;
}
