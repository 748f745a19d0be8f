// Ferry's TURN engine with nothing of the metering stack: the same config file and relay options
// as `ferry start` (app/relay-options.ts), but no usage ledger or flushes, no usage limits, no
// webhooks, no metrics listeners and no signaling. The relay bench runs it beside Ferry
// ("ferry-unmetered", "ferry-native-unmetered") so the difference is what metering costs. The
// per-allocation counters stay: they are plain additions on the data path (or in the native
// plane's slots) that the sessions API and quotas also read. The data plane is chosen from
// `data_plane` and `relay_threads` by the same function as `ferry start` (app/data-plane.ts).
// Usage: node dist/bench/unmetered-relay.js CONFIG_FILE
import { availableParallelism } from 'node:os';
import { loadConfig } from '../src/config/load.js';
import { chooseDataPlane } from '../app/data-plane.js';
import { buildRelayPlan } from '../app/relay-options.js';
import { loadNativeAddon, TurnServer } from '../turn/index.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: unmetered-relay CONFIG_FILE');
  process.exit(64);
}
const loaded = await loadConfig(file);
const { data_plane: setting, relay_threads: relayThreads } = loaded.config;
const decision = chooseDataPlane({ setting, relayThreads, load: loadNativeAddon(), cores: availableParallelism() });
if (!decision.ok) {
  console.error(decision.error.message);
  process.exit(78);
}
for (const warning of decision.warnings) console.error(warning);
const { choice } = decision;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const plan = await buildRelayPlan(loaded, { log: quiet });
const server = new TurnServer({
  ...plan.options,
  ...(choice.plane === 'native' ? { dataPlane: { addon: choice.addon, threads: choice.threads } } : {}),
  log: quiet,
});
await server.start();
console.log(`ready ${JSON.stringify(server.listening())} data_plane ${server.dataPlaneKind()} threads ${choice.threads}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
