/**
 * One timer for every connection: each tick ends the connections whose credential (a signaling
 * token) has expired, terminates the sockets that stayed silent since the previous tick (no pong,
 * no frame), and pings the others. Browsers answer pings on their own.
 */
import type { SignalConnection } from './connection.js';

export class Heartbeat {
  private readonly connections = new Set<SignalConnection>();
  private timer: NodeJS.Timeout | undefined;

  /** `expire` closes a connection whose credential has expired (its close event removes it). */
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly expire: (c: SignalConnection) => void,
  ) {}

  sockets(): SignalConnection['socket'][] {
    return [...this.connections].map((c) => c.socket);
  }

  add(c: SignalConnection): void {
    this.connections.add(c);
    if (!this.timer) {
      this.timer = setInterval(this.tick, this.intervalMs);
      this.timer.unref();
    }
  }

  delete(c: SignalConnection): void {
    this.connections.delete(c);
    if (this.connections.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    const now = this.now();
    for (const c of this.connections) {
      if (c.session.expiresAt <= now) {
        this.connections.delete(c); // once: a close that takes a while is not asked again
        this.expire(c);
        continue;
      }
      if (!c.alive) {
        c.socket.terminate(); // its close event removes it
        continue;
      }
      c.alive = false;
      try {
        c.socket.ping();
      } catch {
        /* not open any more: its close event removes it */
      }
    }
  };
}
