// Command-line options of the benchmarks: `--name value` on the command line, else the environment
// variable BENCH_NAME (upper case, dashes as underscores).

const envName = (name: string): string => `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;

/** The value of `--name`, else of BENCH_NAME; undefined when neither is given. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.env[envName(name)];
}

/** true when `--name` is on the command line or BENCH_NAME is "1". */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`) || process.env[envName(name)] === '1';
}
