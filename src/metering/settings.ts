/** The `network_usage` config keys, converted (the schema has validated them already). */
import { resolve } from 'node:path';
import { configDir, type LoadedConfig } from '../config/load.js';
import { parseDuration, parseIntervalOrOff, parsePercent, parseSize, parseTimeframe } from '../config/units.js';
import type { TimeframeLength } from './timeframe.js';

export interface MeteringSettings {
  /** A length in ms, or 'month' (calendar months, UTC). */
  readonly timeframe: TimeframeLength;
  readonly writeIntervalMs: number;
  /** Absolute path; undefined: closed timeframes stay in the store only. */
  readonly archiveDir?: string;
  /** Bytes per timeframe across all accounts (src/limits/ enforces it). */
  readonly globalLimitBytes?: number;
  readonly softLimit: number;
  readonly hardLimit: number;
  /** usage.report interval; 0: no reports. */
  readonly reportIntervalMs: number;
}

export function meteringSettings(loaded: Pick<LoadedConfig, 'config' | 'source'>): MeteringSettings {
  const nu = loaded.config.network_usage;
  return {
    timeframe: parseTimeframe(nu.timeframe),
    writeIntervalMs: parseDuration(nu.write_interval),
    ...(nu.archive_dir !== undefined ? { archiveDir: resolve(configDir(loaded), nu.archive_dir) } : {}),
    ...(nu.global_limit !== undefined ? { globalLimitBytes: parseSize(nu.global_limit) } : {}),
    softLimit: parsePercent(nu.soft_limit),
    hardLimit: parsePercent(nu.hard_limit),
    reportIntervalMs: parseIntervalOrOff(nu.report_interval),
  };
}
