// A Ferry logger (src/logger.ts) whose JSON lines are kept in memory, parsed, for tests to inspect.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';
import type { LogLevel } from '../../src/config/schema.js';

export interface CapturedLog {
  /** Every line written so far, parsed. */
  readonly lines: Record<string, unknown>[];
  readonly logger: Logger;
}

export function captureLog(level: LogLevel): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger(level, sink) };
}
