// Raw TCP sockets for transport tests: connect (errors swallowed, the caller tracks the socket for
// cleanup) and wait for the server to close one.
import { connect, type Socket } from 'node:net';

/** A raw TCP connection to 127.0.0.1:`port` (from `localAddress` when given), once connected. */
export async function openTcp(port: number, localAddress?: string): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, ...(localAddress !== undefined ? { localAddress } : {}) });
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  return s;
}

/** Resolves true once `s` has closed, false when it is still open after `ms`. */
export function closesWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.closed) return Promise.resolve(true);
  return new Promise((r) => {
    const t = setTimeout(() => r(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      r(true);
    });
  });
}
