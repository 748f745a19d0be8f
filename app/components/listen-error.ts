/**
 * A listener that could not be opened, named by its config key: one message for every listening
 * key (address, tls_address, signaling.address), in the foreground and from a background start:
 * `cannot listen on 127.0.0.1:3478 (address): address already in use`.
 */
import { formatHostPort } from '../../src/config/net.js';

/** The config keys Ferry listens on. */
export type ListenKey = 'address' | 'tls_address' | 'signaling.address';

export class ListenError extends Error {
  override name = 'ListenError';
  constructor(
    readonly key: ListenKey,
    readonly host: string,
    readonly port: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot listen on ${formatHostPort(host, port)} (${key}): ${reason}`, options);
  }
}

/** Why a bind or listen failed, in words (the system error's code when it is a known one). */
function reasonOf(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
      return 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)';
    case 'EADDRNOTAVAIL':
      return 'no such address on this host';
    default:
      return err.message;
  }
}

/** The ListenError for `err` (from bind or listen on `host`:`port`, the listener of `key`). */
export function listenError(key: ListenKey, host: string, port: number, err: unknown): ListenError {
  return new ListenError(key, host, port, reasonOf(err as NodeJS.ErrnoException), { cause: err });
}

export interface KeyedListener {
  readonly key: ListenKey;
  readonly host: string;
  readonly port: number;
  /** 'bind' for a UDP listener, 'listen' for TCP and TLS (the failing syscall). */
  readonly syscalls: readonly string[];
}

/**
 * The ListenError for a system error from starting several listeners at once (the engine's
 * start), found by the syscall, address and port the error carries; `err` itself otherwise.
 */
export function keyedListenError(err: unknown, listeners: readonly KeyedListener[]): unknown {
  const e = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.port !== 'number') return err;
  const fits = (l: KeyedListener) => l.port === e.port && (e.syscall === undefined || l.syscalls.includes(e.syscall));
  const l = listeners.find((c) => fits(c) && c.host === e.address) ?? listeners.find(fits);
  return l === undefined ? err : listenError(l.key, l.host, l.port, err);
}
