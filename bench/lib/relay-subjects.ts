// The servers the relay bench compares (bench/relay.ts): what each subject is, how it is started,
// and which data plane and threads it runs with.
import type { PortRange as RelayRange } from '../../test/helpers/ports.js';
import { startBareNode, startCoturn, startFerry, type Server } from './servers.js';

export type Kind = 'coturn' | 'ferry' | 'ferry-unmetered' | 'ferry-native' | 'ferry-native-unmetered' | 'node-bare';

/**
 * coturn; Ferry on the TypeScript path (ferry) and on the native plane (ferry-native), each also as
 * its TURN engine without the metering stack (bench/unmetered-relay.ts: what metering costs); and
 * node-bare, a Node dgram relay with no TURN logic (the ceiling of a Node data path; data ladders only).
 */
export const KINDS: readonly Kind[] = ['coturn', 'ferry', 'ferry-unmetered', 'ferry-native', 'ferry-native-unmetered', 'node-bare'];

export const isNative = (kind: Kind): boolean => kind === 'ferry-native' || kind === 'ferry-native-unmetered';

/** Subjects that speak TURN (the loadgen sets up allocations): all but node-bare. */
export const isTurn = (kind: Kind): boolean => kind !== 'node-bare';

/**
 * The subjects of a run without --only. With more than one relay thread: coturn and ferry-native
 * only, as the TypeScript path and node-bare relay on one JS thread whatever the setting.
 */
export function defaultKinds(threads: number): Kind[] {
  return threads === 1 ? [...KINDS] : ['coturn', 'ferry-native'];
}

/** The relay threads a subject runs with `threads` asked for (coturn and the native plane use them). */
export function threadsOf(kind: Kind, threads: number): number {
  return kind === 'coturn' || isNative(kind) ? threads : 1;
}

/**
 * Ferry's data plane keys for a subject (they override --ferry-config's, so a subject's name always
 * says what it measured). Always explicit: "auto" (the default) takes the native
 * plane whenever the addon is built, which would make `ferry` measure the wrong plane; "native"
 * refuses to start without the addon, so a ferry-native figure is always the native plane's.
 */
export function planeConfig(kind: Kind, threads: number): Record<string, unknown> {
  return isNative(kind) ? { data_plane: 'native', relay_threads: threads } : { data_plane: 'js' };
}

export interface StartInput {
  readonly repoRoot: string;
  readonly port: number;
  readonly relay: RelayRange;
  readonly tmp: string;
  readonly readyMs: number;
  /** Keys merged into every Ferry config (quotas, rate limits, --ferry-config); the plane's keys win. */
  readonly ferryExtra: Record<string, unknown>;
  /** Relay threads asked for (--threads). */
  readonly threads: number;
  /** The echo peer (node-bare relays to it without TURN). */
  readonly echoPort: number;
}

export async function startSubject(kind: Kind, i: StartInput): Promise<Server> {
  switch (kind) {
    case 'coturn':
      return startCoturn(i.port, i.relay, i.tmp, i.readyMs, i.threads);
    case 'node-bare':
      return startBareNode(i.repoRoot, i.port, i.echoPort, i.tmp, i.readyMs);
    default: {
      const extra = { ...i.ferryExtra, ...planeConfig(kind, i.threads) };
      return startFerry(i.repoRoot, i.port, i.relay, i.tmp, i.readyMs, extra, { name: kind, unmetered: kind.endsWith('-unmetered') });
    }
  }
}
