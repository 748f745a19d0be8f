// STUN Binding over UDP, to tell when a server is up (independent of its log wording).
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const MAGIC_COOKIE = 0x2112a442;

/** One Binding request; resolves true when a success response with our transaction id arrives. */
export function stunPing(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(MAGIC_COOKIE, 4);
    const transaction = randomBytes(12);
    transaction.copy(request, 8);
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('message', (m) => {
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(transaction)) done(true);
    });
    socket.send(request, port, host, (err) => err && done(false));
  });
}

/** Polls with Binding requests until one is answered or `deadlineMs` passes. */
export async function waitForStun(
  port: number,
  deadlineMs: number,
  host = '127.0.0.1',
  abort?: () => string | undefined,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const why = abort?.();
    if (why) throw new Error(why);
    if (await stunPing(port, host)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no STUN Binding response from ${host}:${port} within ${deadlineMs} ms`);
}
