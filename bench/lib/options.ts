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

/** A logger to stderr that tags each line with the bench's name and the time of day. */
export function benchLog(tag: string): (msg: string) => void {
  return (msg) => void process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The positive number of `--name` (`fallback` when absent); exits 64 with a message otherwise. */
export function positiveArg(name: string, fallback: number, integer: boolean, log: (msg: string) => void): number {
  const v = Number(arg(name) ?? fallback);
  if (!(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)))) {
    log(`--${name} takes a positive ${integer ? 'integer' : 'number'}; got ${JSON.stringify(arg(name))}`);
    process.exit(64);
  }
  return v;
}

/** The JSON object of `--name` ({} when absent); exits 64 with a message when it is not valid JSON. */
export function jsonArg(name: string, log: (msg: string) => void): Record<string, unknown> {
  try {
    return JSON.parse(arg(name) ?? '{}') as Record<string, unknown>;
  } catch (err) {
    log(`--${name}: not valid JSON (${(err as Error).message})`);
    process.exit(64);
  }
}
