// Ferry's TURN engine with nothing of the metering stack: the same config file and relay options
// as `ferry start` (app/relay-options.ts), but no usage ledger or flushes, no usage limits, no
// webhooks, no metrics listeners and no signaling. The relay bench runs it beside Ferry
// ("ferry-unmetered") so the difference is what metering costs. The per-allocation counters stay:
// they are plain additions on the data path that the sessions API and quotas also read.
// Usage: node dist/bench/unmetered-relay.js CONFIG_FILE
import { loadConfig } from '../src/config/load.js';
import { buildRelayPlan } from '../app/relay-options.js';
import { TurnServer } from '../turn/index.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: unmetered-relay CONFIG_FILE');
  process.exit(64);
}
const loaded = await loadConfig(file);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const plan = await buildRelayPlan(loaded, { log: quiet });
const server = new TurnServer({ ...plan.options, log: quiet });
await server.start();
console.log(`ready ${JSON.stringify(server.listening())}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
