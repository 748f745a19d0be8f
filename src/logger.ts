/** Ferry's logger: pino, JSON lines, with secrets redacted wherever they might be logged. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';
import { stdoutDestination } from './log-destination.js';

export type { Logger } from 'pino';

const SECRET_KEYS = ['password', 'passwords', 'secret', 'secrets', 'users', 'auth_secrets', 'nonceSecret', 'admin_token', 'api_key', 'authorization'];

/**
 * Paths whose values are replaced by "[redacted]": secret-bearing keys at the top of a log
 * object, one level down (`{ config: { users } }`) and two levels down. Nothing should log them
 * in the first place; this is the safety net.
 */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, destination ?? stdoutDestination());
}
