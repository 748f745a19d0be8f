// Minimal STUN Binding over UDP, to tell when a server is up (independent of its log wording).
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;

/** One Binding request; resolves true when a success response with our transaction id arrives. */
export function stunPing(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const req = Buffer.alloc(20);
    req.writeUInt16BE(BINDING_REQUEST, 0);
    req.writeUInt16BE(0, 2);
    req.writeUInt32BE(MAGIC_COOKIE, 4);
    const tid = randomBytes(12);
    tid.copy(req, 8);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('message', (msg) => {
      if (msg.length >= 20 && msg.readUInt16BE(0) === BINDING_SUCCESS && msg.subarray(8, 20).equals(tid)) {
        finish(true);
      }
    });
    sock.send(req, port, host, (err) => { if (err) finish(false); });
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
