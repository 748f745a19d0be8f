import type { SocketOptions } from 'node:dgram';

type DgramLookup = NonNullable<SocketOptions['lookup']>;

/**
 * dgram resolves every send and bind target through `lookup`; Node's default defers even an IP
 * literal to the next tick. Ferry only ever passes IP literals, so this lookup answers at once:
 * sends happen synchronously (no queued closure per packet) and binds complete before
 * `bind()` returns.
 */
export const syncLookup: DgramLookup = (hostname, options, callback) => {
  const family = typeof options === 'number' ? options : hostname.includes(':') ? 6 : 4;
  callback(null, hostname, family);
};
