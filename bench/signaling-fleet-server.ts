// One signaling node for bench/signaling-fleet.ts: fastify + the signalingSocket plugin with a
// trivial authenticate (bearer "bench" → one account), and, given a Redis URL, the fleet's
// RedisSignalRouter (as app/components/signaling.ts wires it in cluster mode).
// Usage: node dist/bench/signaling-fleet-server.js PORT NODE_ID REDIS_URL|- ['{"ratePerSecond":...}']
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { RedisSignalRouter } from '../src/store/redis/signal-router.js';
import { signalingSocket, type SignalLimits } from '../signaling/ws/index.js';

const port = Number(process.argv[2]);
const nodeId = process.argv[3] ?? 'bench-node';
const redisUrl = process.argv[4] ?? '-';
const limits = JSON.parse(process.argv[5] ?? '{}') as Partial<SignalLimits>;
let router: RedisSignalRouter | undefined;
if (redisUrl !== '-') {
  router = new RedisSignalRouter({ redisUrl, nodeId, bootId: randomBytes(8).toString('hex'), heartbeatMs: 2000, ttlMs: 10_000 });
  await router.start();
}
const app = Fastify({ logger: false });
await app.register(signalingSocket, {
  authenticate: async ({ bearer, token }) => ((bearer ?? token) === 'bench' ? { accountId: 'acc_bench' } : null),
  limits,
  ...(router ? { router } : {}),
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`READY ${port}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    setTimeout(() => process.exit(0), 2000).unref();
    void app
      .close()
      .then(() => router?.close())
      .then(() => process.exit(0));
  });
}
