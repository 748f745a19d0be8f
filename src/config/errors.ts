import type { core } from 'zod';
import { knownKeys } from './schema.js';
import { suggestKey } from './suggest.js';

export { suggestKey } from './suggest.js';

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
