// A UDP peer on loopback that records what it receives and can answer.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export class UdpPeer {
  readonly received: { data: Buffer; from: RemoteInfo }[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      this.received.push({ data, from });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(host = '127.0.0.1', echo = false): Promise<UdpPeer> {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const p = new UdpPeer(s);
    if (echo) s.on('message', (d, from) => s.send(d, from.port, from.address));
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    return p;
  }

  get address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  send(data: Buffer, to: { address: string; port: number }): void {
    this.socket.send(data, to.port, to.address);
  }

  /** Waits until `count` datagrams have arrived in total, or `timeoutMs` passed. */
  async waitFor(count: number, timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  close(): void {
    this.socket.close();
  }
}
