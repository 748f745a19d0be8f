// Ferry's signaling hub alone, for bench/signaling.ts: fastify + the signalingSocket plugin with a
// trivial authenticate (bearer "bench" → one account). The full app (SQLite accounts, API keys,
// tokens) is buildSignalingApp; only the WebSocket path is measured here, which the app shares.
// Usage: node dist/bench/signaling-server.js PORT ['{"ratePerSecond":...}']
import Fastify from 'fastify';
import { signalingSocket, type SignalLimits } from '../signaling/ws/index.js';

const port = Number(process.argv[2]);
const limits = JSON.parse(process.argv[3] ?? '{}') as Partial<SignalLimits>;
const app = Fastify({ logger: false });
await app.register(signalingSocket, {
  authenticate: async ({ bearer, token }) => ((bearer ?? token) === 'bench' ? { accountId: 'acc_bench' } : null),
  limits,
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`READY ${port}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    setTimeout(() => process.exit(0), 2000).unref();
    void app.close().then(() => process.exit(0));
  });
}
