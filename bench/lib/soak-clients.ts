// The clients of the soak bench (bench/soak.ts): one UDP socket and one allocation each, channel
// 0x4000 bound to an echo peer; set up with bounded concurrency, then driven by one ticker that
// refreshes each allocation every `refreshS` seconds and sends each a ChannelData every
// `intervalS` seconds, both spread evenly over time (each client has its own phase).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestTurnClient } from '../../test/helpers/turn-client.js';
import * as C from '../../turn/codec/constants.js';

export interface Addr {
  readonly address: string;
  readonly port: number;
}

export interface SoakServer {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

interface Client {
  readonly c: TestTurnClient;
  nextRefresh: number;
  nextSend: number;
  live: boolean;
  refreshing: boolean;
}

/**
 * A UDP echo peer that counts what it echoes and keeps nothing. Its receive buffer is 4 MB (the
 * kernel caps it at net.core.rmem_max): the bench process is busy with N client sockets, and the
 * peer's drops would otherwise count as Ferry's loss.
 */
export async function echoPeer(host: string): Promise<{ address: Addr; echoed(): number; close(): void }> {
  const s: UdpSocket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  let n = 0;
  s.on('message', (m, from) => {
    n++;
    s.send(m, from.port, from.address);
  });
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return { address: { address: host, port: s.address().port }, echoed: () => n, close: () => s.close() };
}

const count = (m: Record<string, number>, key: string): void => {
  m[key] = (m[key] ?? 0) + 1;
};

export class SoakClients {
  private readonly clients: Client[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshInFlight = 0;
  readonly stats = {
    setup_failures: {} as Record<string, number>,
    refreshes: 0,
    refresh_failures: {} as Record<string, number>,
    lost: 0,
    sent: 0,
    received: 0,
    granted_lifetime_s: null as number | null,
  };

  constructor(
    private readonly server: SoakServer,
    private readonly peer: Addr,
    private readonly o: { lifetimeS: number; refreshS: number; intervalS: number; payload: number; concurrency: number },
  ) {}

  get live(): number {
    let n = 0;
    for (const c of this.clients) if (c.live) n++;
    return n;
  }

  /** Opens `n` allocations, `concurrency` at a time; failures are counted by reason. Bounded by `deadline` (ms, performance.now()). */
  async open(n: number, deadline: number, progress: (done: number) => void): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n && performance.now() < deadline) {
        next++;
        const c = await TestTurnClient.connect({ ...this.server });
        try {
          const r = await c.allocate((w) => w.addUint32(C.ATTR_LIFETIME, this.o.lifetimeS));
          if (r.code !== 0) throw new Error(`allocate ${r.code}`);
          this.stats.granted_lifetime_s ??= r.uint32(C.ATTR_LIFETIME);
          const b = await c.channelBind(0x4000, this.peer);
          if (b.code !== 0) throw new Error(`channel-bind ${b.code}`);
          const now = performance.now();
          this.clients.push({ c, nextRefresh: now + this.o.refreshS * 1000, nextSend: now + Math.random() * this.o.intervalS * 1000, live: true, refreshing: false });
        } catch (err) {
          count(this.stats.setup_failures, (err as Error).message);
          c.close();
        }
        if (this.clients.length % 1000 === 0) progress(this.clients.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, n) }, worker));
  }

  /** Starts the ticker: refreshes and trickling ChannelData. */
  start(): void {
    const payload = Buffer.alloc(this.o.payload, 0x5a);
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const cl of this.clients) {
        if (!cl.live) continue;
        if (now >= cl.nextSend) {
          cl.nextSend += this.o.intervalS * 1000;
          this.drain(cl);
          cl.c.sendChannelData(0x4000, payload);
          this.stats.sent++;
        }
        if (now >= cl.nextRefresh && !cl.refreshing && this.refreshInFlight < this.o.concurrency) {
          cl.nextRefresh += this.o.refreshS * 1000;
          void this.refresh(cl, this.o.lifetimeS);
        }
      }
    }, 100);
  }

  private drain(cl: Client): void {
    void (async () => {
      for (let i = 0; i < 1000 && (await cl.c.nextData(0)) !== null; i++) this.stats.received++;
    })();
  }

  private async refresh(cl: Client, lifetime: number): Promise<boolean> {
    cl.refreshing = true;
    this.refreshInFlight++;
    try {
      const r = await cl.c.refresh(lifetime);
      if (r.code === 0 && lifetime === 0) return true;
      if (r.code === 0) {
        this.stats.refreshes++;
        // A permission lasts 300 s (RFC 8656 §9): as a real client does, the ChannelBind is sent
        // again with each refresh, which renews the channel and its permission.
        const b = await cl.c.channelBind(0x4000, this.peer);
        if (b.code === 0) return true;
        count(this.stats.refresh_failures, `channel-bind ${b.code}`);
        return false;
      }
      count(this.stats.refresh_failures, String(r.code));
      if (r.code === 437) {
        cl.live = false;
        this.stats.lost++;
      }
    } catch (err) {
      count(this.stats.refresh_failures, (err as Error).message);
    } finally {
      cl.refreshing = false;
      this.refreshInFlight--;
    }
    return false;
  }

  /** Stops the ticker, counts the last echoes, and deletes every allocation (Refresh 0), `concurrency` at a time. */
  async close(deadline: number): Promise<{ closed: number; failed: number }> {
    clearInterval(this.timer);
    await sleep(1000);
    for (const cl of this.clients) this.drain(cl);
    await sleep(100);
    let closed = 0;
    let failed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.clients.length && performance.now() < deadline) {
        const cl = this.clients[next++];
        if (!cl.live) continue;
        while (cl.refreshing && performance.now() < deadline) await sleep(50);
        if (await this.refresh(cl, 0)) closed++;
        else failed++;
        cl.live = false;
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    for (const cl of this.clients) cl.c.close();
    return { closed, failed };
  }

  /** Closes every socket at once (on error paths). */
  destroy(): void {
    clearInterval(this.timer);
    for (const cl of this.clients) cl.c.close();
  }
}
