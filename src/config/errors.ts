import type { core } from 'zod';
import { knownKeys } from './schema.js';

/** One thing wrong with a config: the dotted key path (e.g. `quotas.total_allocations`) and why. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * The config cannot be used. `message` is meant for the operator as is: a header naming the
 * file, then one `<key.path>: <message>` line per problem.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }

  static fromProblems(source: string, problems: readonly ConfigProblem[]): ConfigError {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
    return new ConfigError([`invalid configuration in ${source}:`, ...lines].join('\n'), problems);
  }
}

/** `quotas.total_allocations`, `peers.allow[2]`, `users["bob.smith"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(segment))) out += out === '' ? String(segment) : `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(top level)' : out;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The known key closest to a misspelt one, when it is close enough to be a likely typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Zod issues → one problem per key (an unknown-keys issue becomes one line per unknown key). */
export function problemsFromIssues(issues: readonly core.$ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const hint = suggestKey(key, known);
        problems.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}
