/**
 * The native data plane's addon (native/, C++ over Node-API, built by node-gyp at install) as the
 * engine sees it: the type of what the addon exports, and its loader. The addon owns the UDP
 * listener sockets (one per relay thread and listening address, SO_REUSEPORT) and the relayed UDP
 * sockets of UDP clients; it relays ChannelData, Send and Data indications on its own threads and
 * hands every other datagram (STUN requests) up to the engine's handlers, whose outcome comes down
 * through the calls below. TCP and TLS clients stay on the TypeScript path.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Counters of one allocation slot, as `close` and `snapshot` write them (float64 each). */
export const COUNTER_FIELDS = [
  'bytesToPeer',
  'packetsToPeer',
  'bytesToClient',
  'packetsToClient',
  'cappedBytesToPeer',
  'cappedPacketsToPeer',
  'cappedBytesToClient',
  'cappedPacketsToClient',
  'droppedBytesToPeer',
  'droppedPacketsToPeer',
  'droppedBytesToClient',
  'droppedPacketsToClient',
] as const;
/** Float64 entries per slot in `snapshot`'s output (COUNTER_FIELDS and room to grow). */
export const SLOT_STRIDE = 16;

/**
 * A datagram the native threads do not relay themselves (anything but ChannelData and Send
 * indications from a known 5-tuple): called on the JS thread, in arrival order per thread.
 * `data` is the engine's own copy.
 */
export type StunHandler = (thread: number, group: number, address: string, port: number, data: Buffer) => void;

/** What the native threads counted outside any allocation (read for metrics and tests). */
export interface NativeStats {
  /** Datagrams handed up to the JS thread. */
  readonly up: number;
  /** Datagrams dropped because the queue to the JS thread was full. */
  readonly upDropped: number;
  /** ChannelData and Send indications from a 5-tuple with no allocation (dropped). */
  readonly noAllocation: number;
  /** Datagrams too short or of no known kind (dropped). */
  readonly malformed: number;
  /** Client packets dropped by 'relay-only' permissions, over every port table. */
  readonly relayOnlyDropped: number;
}

export interface NativeDataPlane {
  /** Relay threads (fixed at construction). */
  readonly threads: number;
  /**
   * Opens one UDP socket per thread on host:port (SO_REUSEPORT, after checking that nothing else
   * holds the port); returns the listening group's number. Throws an Error with `code`
   * (EADDRINUSE, EADDRNOTAVAIL, EACCES...) and `syscall: 'bind'` when it cannot.
   */
  listen(family: 4 | 6, host: string, port: number): number;
  /** The port a group is bound on (for port 0). */
  localPort(group: number): number;
  /** Starts the threads (after listen). */
  start(): void;
  /** Stops and joins the threads, closes the listeners. Slots still open are closed first. */
  stop(): void;
  /** Sends one datagram from a thread's listening socket of `group` (STUN responses). */
  send(thread: number, group: number, address: string, port: number, data: Buffer): boolean;
  /** Binds a non-blocking UDP socket for a relayed transport address: its fd, or -errno. */
  bindRelay(family: 4 | 6, ip: string, port: number): number;
  /** Closes a relayed socket's fd (after `close` of its slot, or one never opened in a slot). */
  closeRelay(fd: number): void;
  /** A new port table shared with the engine (65,536 bytes; 1 = live relayed port): its index and view. */
  portTable(): { readonly index: number; readonly table: Uint8Array };
  /**
   * Starts relaying for an allocation of the 5-tuple (thread, group, client address:port) with its
   * relayed sockets (fd or -1 per family); returns the slot number.
   */
  open(thread: number, group: number, address: string, port: number, relay4: number, relay6: number): number;
  /** Stops relaying for a slot and writes its final counters (COUNTER_FIELDS) into `out`. */
  close(slot: number, out: Float64Array): void;
  /** Installs or refreshes a permission (expiresAt in the engine's clock; portTable: -1 any port, a table index, -2 no port). */
  permission(slot: number, family: 4 | 6, ip: Buffer, expiresAt: number, portTable: number): void;
  removePermission(slot: number, family: 4 | 6, ip: Buffer): void;
  /** Binds or refreshes a channel to ip:port (its permission installed before). */
  channel(slot: number, number: number, family: 4 | 6, ip: Buffer, port: number, expiresAt: number): void;
  removeChannel(slot: number, number: number): void;
  /**
   * The engine's clock now (ms): lifetimes and caps are compared with it. `interpolate` (the real
   * clock): the threads add the monotonic time since; false (an injected clock, as in tests): they
   * read exactly this value until the next call, as the TypeScript path's cached clock does.
   */
  setClock(ms: number, interpolate: boolean): void;
  /** Per-allocation cap (bytes/s each way, 0 none) and the account bucket (key, -1 none) of a slot. */
  setCaps(slot: number, bps: number, account: number): void;
  /** The shared cap of an account key (bytes/s each way; 0 none). */
  setAccountRate(account: number, bps: number): void;
  /** Writes every open slot's counters at slot * SLOT_STRIDE; returns the number of slot places written. */
  snapshot(out: Float64Array): number;
  stats(): NativeStats;
}

export interface NativeAddon {
  readonly DataPlane: new (threads: number, onStun: StunHandler) => NativeDataPlane;
}

export type AddonLoad = { readonly ok: true; readonly addon: NativeAddon; readonly path: string } | { readonly ok: false; readonly reason: string };

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Where the addon may be: built by `npm install` for the Node that installed the package, or for
 * another Node ABI beside it (build/abi<N>/, as scripts/setup.sh builds one for Node 24).
 */
export function addonCandidates(): string[] {
  return [join(root, 'build', `abi${process.versions.modules}`, 'ferry_native.node'), join(root, 'build', 'Release', 'ferry_native.node')];
}

let loaded: AddonLoad | undefined;

/** Loads the addon once; says why not when it cannot (not built, built for another Node). */
export function loadNativeAddon(): AddonLoad {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  for (const path of addonCandidates()) {
    if (!existsSync(path)) continue;
    try {
      const addon = require(path) as NativeAddon;
      loaded = { ok: true, addon, path };
      return loaded;
    } catch (err) {
      reasons.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  loaded = { ok: false, reason: reasons.length > 0 ? reasons.join('; ') : `not built (no ${addonCandidates().join(' or ')})` };
  return loaded;
}
