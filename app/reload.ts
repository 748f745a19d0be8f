/**
 * Config reload (SIGHUP) as a loop over the components: each declares the keys it applies live
 * (next to the code that applies them) and checks them in validate(next) before any applies
 * them in apply(next). RESTART_KEYS (src/config/reload.ts) lists the rest; a unit test holds
 * every config key to exactly one of the two.
 */
import type { LoadedConfig } from '../src/config/load.js';
import { applyLive, diffConfig, RESTART_KEYS, type ConfigDiff, type ReloadKeys } from '../src/config/reload.js';
import type { Config } from '../src/config/schema.js';
import type { Component } from './components/component.js';
import { LIMITS_KEYS } from './components/limits.js';
import { LOGGING_KEYS } from './components/logging.js';
import { METERING_KEYS } from './components/metering.js';
import { SIGNALING_KEYS } from './components/signaling.js';
import { TURN_KEYS } from './components/turn.js';
import { WEBHOOKS_KEYS } from './components/webhooks.js';

/** The keys applied without dropping allocations or WebSockets, in the order a reload reports them. */
export const LIVE_KEYS: readonly string[] = [...TURN_KEYS, ...LOGGING_KEYS, ...SIGNALING_KEYS, ...METERING_KEYS, ...LIMITS_KEYS, ...WEBHOOKS_KEYS];

export const RELOAD_KEYS: ReloadKeys = { live: LIVE_KEYS, restart: RESTART_KEYS };

/**
 * Throws unless the components own LIVE_KEYS, each key once: checked when Ferry starts, so a
 * component's key missing from LIVE_KEYS (never diffed, never applied) cannot go unnoticed.
 */
export function checkKeyOwners(components: readonly Component[]): void {
  const owned = components.flatMap((c) => c.keys ?? []);
  const missing = LIVE_KEYS.filter((k) => !owned.includes(k));
  const extra = owned.filter((k, i) => !LIVE_KEYS.includes(k) || owned.indexOf(k) !== i);
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`reload keys: ${missing.length > 0 ? `no component applies ${missing.join(', ')}` : ''}${missing.length > 0 && extra.length > 0 ? '; ' : ''}${extra.length > 0 ? `not in LIVE_KEYS or owned twice: ${extra.join(', ')}` : ''}`);
  }
}

export interface ReloadStep {
  /** Runs after every validate and before any apply: the one step that may still fail (TLS files). */
  readonly beforeApply?: () => void;
}

/**
 * Validates `next` with every component (nothing changes if one throws), runs `step.beforeApply`
 * (nothing changes if it throws), then applies `next` to every component. Returns the diff and
 * the running config it becomes: `current` with the live keys of `next`, the restart-only keys as
 * they were.
 */
export function reloadComponents(components: readonly Component[], current: Config, next: LoadedConfig, step: ReloadStep = {}): { diff: ConfigDiff; config: Config } {
  const diff = diffConfig(current, next.config, RELOAD_KEYS);
  for (const c of components) c.validate?.(next);
  step.beforeApply?.();
  const changed = new Set(diff.live);
  for (const c of components) c.apply?.(next, changed);
  return { diff, config: applyLive(current, next.config, LIVE_KEYS) };
}
