/**
 * `ferry usage`: the current timeframe's usage per account, read from the configured store
 * (whether or not Ferry runs; a running Ferry writes every network_usage.write_interval). Each
 * row shows the account's name beside its id, from one read of the accounts (rows billed to a
 * static user or REST credential name have none).
 */
import { findAccountRef } from '../../src/accounts/names.js';
import { countersJson } from '../../src/metering/types.js';
import { table } from './account-access.js';
import { withStorage } from '../storage.js';
import { configPath, EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, str, type CliIo } from './common.js';

export const USAGE_USAGE = `Usage: ferry usage [--account A] [--json] [--config FILE]

Prints the relayed usage (application payload bytes and packets, each way) of the
current timeframe (network_usage.timeframe) per account, from the configured store.
A running Ferry writes its counters every network_usage.write_interval (and on
SIGUSR2), so the last few seconds may not show yet. Accounts show their name
beside their id.

Options:
  --account A          only this account: an account id or name, or the static
                       user or REST credential name usage is billed to
  --json               print JSON
  -c, --config FILE    the config file naming the store (default: ./config.json
                       when it exists, else data/ferry.db in the working directory)
  -h, --help           show this help
`;

export async function usageCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseCommand(io, args, USAGE_USAGE, {
    config: { type: 'string', short: 'c' },
    account: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!p.ok) return p.code;
  const loaded = await loadOrReport(io, configPath(str(p.values.config)));
  if (loaded === null) return EXIT_FAILURE;
  return withStorage(loaded.storageUrl, async (storage) => {
    const usage = storage.usage;
    const tf = await usage.timeframe();
    const accounts = await storage.accounts.listAccounts();
    const names = new Map(accounts.map((a) => [a.id, a.name]));
    const filter = str(p.values.account);
    const found = filter === undefined ? undefined : findAccountRef(accounts, filter);
    // Not an account: a static user or REST credential name, used as is.
    const account = found === undefined || typeof found === 'string' ? filter : found.id;
    const rows =
      tf === null ? [] : await usage.usage({ granularity: 'timeframe', from: tf.start, to: tf.start + 1, ...(account !== undefined ? { account } : {}) });
    if (p.values.json === true) {
      io.stdout(
        `${JSON.stringify({
          timeframe: tf === null ? null : { start: new Date(tf.start).toISOString(), end: new Date(tf.start + tf.lengthMs).toISOString() },
          usage: rows.map((r) => ({ account: r.account, name: names.get(r.account) ?? null, ...countersJson(r) })),
        })}\n`,
      );
      return EXIT_OK;
    }
    if (tf === null) {
      io.stdout('no usage recorded yet (metering starts with the first "ferry start")\n');
      return EXIT_OK;
    }
    io.stdout(`timeframe ${new Date(tf.start).toISOString()} .. ${new Date(tf.start + tf.lengthMs).toISOString()}\n`);
    if (rows.length === 0) {
      io.stdout('no usage in this timeframe\n');
      return EXIT_OK;
    }
    const cols = ['BYTES_TO_PEER', 'BYTES_TO_CLIENT', 'PACKETS_TO_PEER', 'PACKETS_TO_CLIENT'];
    const cells = rows.map((r) => [r.account, names.get(r.account) ?? '-', ...[r.bytesToPeer, r.bytesToClient, r.packetsToPeer, r.packetsToClient].map(String)]);
    io.stdout(table(['ACCOUNT', 'NAME', ...cols], cells, new Set([2, 3, 4, 5])));
    return EXIT_OK;
  });
}
