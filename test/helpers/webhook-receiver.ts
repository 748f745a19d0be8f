// A local webhook receiver on 127.0.0.1 for the webhook tests: keeps every request's raw body,
// headers and arrival time. Each response closes its connection, so close() is clean: a request
// in flight is answered first and nothing is half delivered (no event seen here and retried).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  /** The exact body bytes (what Ferry-Signature covers) and the same as text. */
  readonly raw: Buffer;
  readonly body: string;
  /** Date.now() when the body had arrived. */
  readonly receivedAt: number;
  readonly json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

export class Receiver {
  readonly received: Received[] = [];
  /** Status answered per request (n: its 1-based number); default 200. */
  status: (n: number) => number = () => 200;
  /** The port listened on (kept after close(), to listen again on it). */
  port = 0;
  #server: Server | undefined;

  /** Listens on `port` (0: any free port); resolves with the port. */
  async listen(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = raw.toString('utf8');
        this.received.push({ headers: req.headers, raw, body, receivedAt: Date.now(), json: JSON.parse(body) as Received['json'] });
        res.writeHead(this.status(this.received.length), { connection: 'close' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops accepting; requests in flight are answered first. */
  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeIdleConnections();
    await closed;
  }

  /** The events whose data names `account` (null: the global ones), of `type` when given. */
  of(account: string | null, type?: string): Received[] {
    return this.received.filter((h) => h.json.data.account === account && (type === undefined || h.json.type === type));
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
