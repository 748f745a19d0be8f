// A minimal client of Node's inspector protocol, for benches that need a process's heap as it is
// after a full garbage collection (RSS alone moves with V8's collection schedule): the process is
// started with --inspect=127.0.0.1:PORT (see startFerry's env), and the bench connects here.
import WebSocket from 'ws';

export interface HeapAfterGc {
  /** V8 heap in use after a full collection. */
  readonly heap_used_kb: number;
  readonly rss_kb: number;
}

export class InspectorSession {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (msg.id !== undefined) this.waiting.get(msg.id)?.(msg.result);
    });
  }

  /** Connects to the inspector on `port` (retried for up to `timeoutMs` while the process starts). */
  static async connect(port: number, timeoutMs = 10_000): Promise<InspectorSession> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2000) })).json()) as { webSocketDebuggerUrl: string }[];
        const ws = new WebSocket(list[0].webSocketDebuggerUrl);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        ws.on('error', () => {});
        return new InspectorSession(ws);
      } catch (err) {
        if (performance.now() > deadline) throw new Error(`no inspector on 127.0.0.1:${port}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** One protocol call; rejects after `timeoutMs`. */
  call(method: string, params: object = {}, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`inspector ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (result) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(result);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Runs a full garbage collection in the process, then reads its heap and RSS. */
  async heapAfterGc(): Promise<HeapAfterGc> {
    await this.call('HeapProfiler.collectGarbage');
    const r = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
    const m = JSON.parse(r.result.value) as { heapUsed: number; rss: number };
    return { heap_used_kb: Math.round(m.heapUsed / 1024), rss_kb: Math.round(m.rss / 1024) };
  }

  close(): void {
    this.ws.close();
  }
}
