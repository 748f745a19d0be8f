/**
 * Which data plane relays UDP clients (config `data_plane`, `relay_threads`): decided once at
 * start from the setting and the outcome of loading the native addon, by a pure function so that
 * every case (the addon missing included, which a machine that built it cannot produce) is tested
 * without a machine to match. The composition root loads the addon (turn/'s loadNativeAddon) and
 * logs what this returns.
 */
import { ConfigError } from '../src/config/errors.js';
import { MAX_RELAY_THREADS, type DataPlaneSetting } from '../src/config/data-plane.js';
import type { AddonLoad, NativeAddon } from '../turn/index.js';

/** How an operator builds the addon where it is missing (the warning and the error say it). */
export const BUILD_ADDON = 'npm rebuild ferry-relay (needs a C++ compiler and Python for node-gyp)';

export interface DataPlaneInput {
  /** `data_plane` as configured. */
  readonly setting: DataPlaneSetting;
  /** `relay_threads` as configured; undefined when not set. */
  readonly relayThreads: number | undefined;
  /** What loading the native addon gave. */
  readonly load: AddonLoad;
  /** os.availableParallelism(): the default number of relay threads. */
  readonly cores: number;
}

/** The plane chosen: the native one with its addon and threads, or the TypeScript path (one thread, the JS thread). */
export type DataPlaneChoice =
  | { readonly plane: 'native'; readonly addon: NativeAddon; readonly addonPath: string; readonly threads: number }
  | { readonly plane: 'js'; readonly threads: 1 };

export type DataPlaneDecision =
  | { readonly ok: true; readonly choice: DataPlaneChoice; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ConfigError };

/** relay_threads, or the cores within 1..MAX_RELAY_THREADS when it is not set. */
export function relayThreadsOf(relayThreads: number | undefined, cores: number): number {
  return relayThreads ?? Math.min(MAX_RELAY_THREADS, Math.max(1, Math.floor(cores)));
}

/**
 * auto: native when the addon loaded, else the TypeScript path with one warning (the loader's
 * reason and how to get the addon); native: the addon or a ConfigError naming data_plane; js: the
 * TypeScript path. relay_threads set while the TypeScript path runs is not used, and a warning says so.
 */
export function chooseDataPlane(input: DataPlaneInput): DataPlaneDecision {
  const { setting, relayThreads, load } = input;
  const js = { plane: 'js', threads: 1 } as const;
  if (setting === 'js') {
    const warnings = relayThreads === undefined ? [] : [`data_plane is "js": relay_threads (${relayThreads}) is not used: the TypeScript path relays on the JS thread`];
    return { ok: true, choice: js, warnings };
  }
  if (load.ok) {
    return { ok: true, choice: { plane: 'native', addon: load.addon, addonPath: load.path, threads: relayThreadsOf(relayThreads, input.cores) }, warnings: [] };
  }
  const { reason } = load;
  if (setting === 'native') {
    const message = `"native" needs the native addon, which cannot be loaded: ${reason}. Build it with ${BUILD_ADDON}, or set data_plane to "auto" or "js"`;
    return { ok: false, error: new ConfigError(`data_plane: ${message}`, [{ path: 'data_plane', message }]) };
  }
  const ignored = relayThreads === undefined ? '' : `; relay_threads (${relayThreads}) is not used`;
  return {
    ok: true,
    choice: js,
    warnings: [`data_plane "auto": the native data plane is not available (${reason}), so UDP is relayed on the TypeScript path, on the JS thread${ignored}. To use it, build the addon with ${BUILD_ADDON} and restart`],
  };
}

/** What start logs of a choice (the fields and the message), in the style of the other start lines. */
export function dataPlaneLogLine(choice: DataPlaneChoice): { readonly fields: Record<string, unknown>; readonly message: string } {
  return choice.plane === 'native'
    ? { fields: { data_plane: 'native', relay_threads: choice.threads, addon: choice.addonPath }, message: `data plane: native, ${choice.threads} relay thread${choice.threads === 1 ? '' : 's'}` }
    : { fields: { data_plane: 'js' }, message: 'data plane: js (TypeScript, on the JS thread)' };
}
