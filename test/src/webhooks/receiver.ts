// A local webhook receiver on 127.0.0.1 for the webhook tests.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

export class Receiver {
  readonly received: Received[] = [];
  /** Status answered per request; default 200. */
  status: (n: number) => number = () => 200;
  #server: Server | undefined;

  /** Listens on `port` (0: any free port); resolves with the port. */
  async listen(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: req.headers, body, json: JSON.parse(body) as Received['json'] });
        res.statusCode = this.status(this.received.length);
        res.end('ok');
      });
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Waits until `n` requests arrived (false after `timeoutMs`). */
  async waitFor(n: number, timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }
}

/** A port nothing listens on (just freed). */
export async function freePort(): Promise<number> {
  const r = new Receiver();
  const port = await r.listen(0);
  await r.close();
  return port;
}
