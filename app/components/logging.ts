/** The log level: the one setting of the logger a reload changes. */
import type { LoadedConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import type { Component } from './component.js';

export const LOGGING_KEYS = ['log_level'] as const;

export class LoggingComponent implements Component {
  readonly name = 'logging';
  readonly keys = LOGGING_KEYS;
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  apply(next: LoadedConfig): void {
    this.#log.level = next.config.log_level;
  }
}
