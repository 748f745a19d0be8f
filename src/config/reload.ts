/**
 * What a config reload (SIGHUP) may change in a running Ferry: `diffConfig(old, next)` sorts the
 * changed keys into those applied live and those that only take effect after a restart.
 */
import type { Config } from './schema.js';

/** Keys applied to the running process without dropping allocations or WebSockets. */
export const LIVE_KEYS = [
  'users',
  'auth_secrets',
  'peers',
  'quotas',
  'realm',
  'log_level',
  // The certificate and key files are read again on every reload (renewed in place or moved).
  'tls',
  'signaling.admin_token',
  'network_usage.write_interval',
  'network_usage.archive_dir',
  'network_usage.global_limit',
  'network_usage.soft_limit',
  'network_usage.hard_limit',
  'network_usage.report_interval',
  'webhooks',
  'nonce',
  'rate_limits',
] as const;

/**
 * Keys that need a restart: sockets, relay addresses, storage, URLs handed out, the metrics
 * token, and the usage timeframe (a new length mid-window would be ambiguous).
 */
export const RESTART_KEYS = [
  'address',
  'relay_ip',
  'tls_address',
  'external_ip',
  'relay_ports',
  'storage',
  'signaling.address',
  'signaling.public_host',
  'network_usage.timeframe',
  'metrics',
] as const;

export type LiveKey = (typeof LIVE_KEYS)[number];
export type RestartKey = (typeof RESTART_KEYS)[number];

export interface ConfigDiff {
  /** Changed keys that a reload applies. */
  readonly live: LiveKey[];
  /** Changed keys that are ignored until the next restart. */
  readonly restart: RestartKey[];
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
 * LIVE_KEYS paths, the restart-only keys as in `old`. A live key absent in `next` is absent in
 * the result. Neither argument is changed (the objects on the way to a nested key are copied).
 */
export function applyLive(old: Config, next: Config): Config {
  const out: Record<string, unknown> = { ...old };
  const copies = new Set<unknown>(); // the objects already copied into `out`
  for (const key of LIVE_KEYS) {
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

export function diffConfig(old: Config, next: Config): ConfigDiff {
  return {
    live: LIVE_KEYS.filter((k) => changed(old, next, k)),
    restart: RESTART_KEYS.filter((k) => changed(old, next, k)),
  };
}
