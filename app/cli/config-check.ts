/** `ferry config check FILE`: validates a config file without starting anything. */
import { EXIT_FAILURE, EXIT_OK, loadOrReport, parseCommand, type CliIo } from './common.js';
import { unknownWord } from './did-you-mean.js';

export const CONFIG_USAGE = `Usage: ferry config check FILE

Validates FILE as a Ferry config: exit 0 when valid, 1 when not, with one
"key.path: problem" line per problem on stderr. Does not read TLS files or open
the store.

Options:
  -h, --help   show this help
`;

export async function configCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(CONFIG_USAGE);
    return EXIT_OK;
  }
  if (sub !== 'check') return unknownWord(io, 'subcommand', sub, ['check'], CONFIG_USAGE);
  const p = parseCommand(io, rest, CONFIG_USAGE, {}, { min: 1, max: 1 });
  if (!p.ok) return p.code;
  const loaded = await loadOrReport(io, p.positionals[0]);
  if (loaded === null) return EXIT_FAILURE;
  io.stdout(`${loaded.source}: valid\n`);
  return EXIT_OK;
}
