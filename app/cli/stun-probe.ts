/** One STUN Binding request over UDP: tells whether a relay answers, whatever its log says. */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const MAGIC_COOKIE = 0x2112a442;

export function stunBinding(host: string, port: number, timeoutMs = 300): Promise<boolean> {
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

/** Polls until a Binding is answered (true), `stop()` says to give up, or `deadlineMs` passes. */
export async function waitForBinding(host: string, port: number, deadlineMs: number, stop: () => boolean): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end && !stop()) {
    if (await stunBinding(host, port)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
