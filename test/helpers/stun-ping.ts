// STUN Binding over UDP, to tell when a server is up (independent of its log wording). The probe
// itself is the CLI's (`ferry start` waits for its child the same way).
import { stunBinding } from '../../app/cli/stun-probe.js';

/** One Binding request; resolves true when a success response with our transaction id arrives. */
export function stunPing(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return stunBinding(host, port, timeoutMs);
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
