/**
 * "did you mean" for a mistyped command or subcommand, with the edit-distance rule the config
 * errors use for unknown keys (src/config/errors.ts suggestKey).
 */
import { suggestKey } from '../../src/config/errors.js';
import { EXIT_USAGE, usageError, type CliIo } from './common.js';

/** `unknown <what> "word" (did you mean "x"?)`, or `missing <what>` when there is no word. */
export function unknownMessage(what: string, word: string | undefined, known: readonly string[]): string {
  if (word === undefined) return `missing ${what}`;
  const hint = suggestKey(word, known);
  return `unknown ${what} ${JSON.stringify(word)}${hint !== undefined ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
}

/**
 * The usage error (exit 2) for a missing or unknown command word. With a suggestion, the message and
 * the usage's first line are enough (a typo needs no page of help); otherwise the whole usage.
 */
export function unknownWord(io: CliIo, what: string, word: string | undefined, known: readonly string[], usage: string): number {
  const message = unknownMessage(what, word, known);
  if (word !== undefined && suggestKey(word, known) !== undefined) {
    io.stderr(`ferry: ${message}\n${usage.split('\n', 1)[0]}\n`);
    return EXIT_USAGE;
  }
  return usageError(io, message, usage);
}
