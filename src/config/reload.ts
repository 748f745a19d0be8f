/**
 * What a config reload (SIGHUP) may change in a running Ferry: `diffConfig(old, next, keys)` sorts
 * the changed keys into those applied live and those that only take effect after a restart. The
 * live keys are declared by the components that apply them (app/reload.ts collects them); the
 * restart-only ones are listed here. Keys are top-level or dotted ('signaling.admin_token').
 */
import type { Config } from './schema.js';

/**
 * Keys that need a restart: sockets, relay addresses, the data plane and its threads (the native
 * plane's threads own the listening sockets, one per thread, for the life of the process),
 * storage, URLs handed out, the metrics token, the usage timeframe (a new length mid-window would
 * be ambiguous), and the pid file (the CLI finds the running process by it: moving it would lose
 * the process).
 */
export const RESTART_KEYS = [
  'address',
  'relay_ip',
  'tls_address',
  'external_ip',
  'relay_ports',
  'data_plane',
  'relay_threads',
  'storage',
  'cluster',
  'signaling.address',
  'signaling.public_host',
  'network_usage.timeframe',
  'metrics',
  'pid_file',
] as const;

export type RestartKey = (typeof RESTART_KEYS)[number];

/** The keys a reload applies (live) and those it leaves until a restart, disjoint. */
export interface ReloadKeys {
  readonly live: readonly string[];
  readonly restart: readonly string[];
}

export interface ConfigDiff {
  /** Changed keys that a reload applies, in the order of `keys.live`. */
  readonly live: string[];
  /** Changed keys that are ignored until the next restart, in the order of `keys.restart`. */
  readonly restart: string[];
}

function valueAt(config: Config, key: string): unknown {
  let v: unknown = config;
  for (const part of key.split('.')) v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[part];
  return v;
}

/** Stable JSON (sorted object keys) so `{a, b}` and `{b, a}` compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

const changed = (a: Config, b: Config, key: string) => canonical(valueAt(a, key)) !== canonical(valueAt(b, key));

/**
 * What a running process's config becomes on reload: `old` with the values of `next` at the
 * `live` key paths, the other keys as in `old`. A live key absent in `next` is absent in the
 * result. Neither argument is changed (the objects on the way to a nested key are copied).
 */
export function applyLive(old: Config, next: Config, live: readonly string[]): Config {
  const out: Record<string, unknown> = { ...old };
  const copies = new Set<unknown>(); // the objects already copied into `out`
  for (const key of live) {
    const parts = key.split('.');
    const last = parts.pop() as string;
    let into = out;
    for (const part of parts) {
      if (!copies.has(into[part])) {
        into[part] = { ...(into[part] as Record<string, unknown>) };
        copies.add(into[part]);
      }
      into = into[part] as Record<string, unknown>;
    }
    const v = valueAt(next, key);
    if (v === undefined) delete into[last];
    else into[last] = v;
  }
  return out as Config;
}

export function diffConfig(old: Config, next: Config, keys: ReloadKeys): ConfigDiff {
  return {
    live: keys.live.filter((k) => changed(old, next, k)),
    restart: keys.restart.filter((k) => changed(old, next, k)),
  };
}
