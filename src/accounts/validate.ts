/**
 * Validation of what the account API and CLI accept: names, usage limits, bandwidth caps. Bad
 * input throws an AccountError with code 'invalid' whose message names the field.
 */
import { AccountError } from './errors.js';
import { parseSize, UnitError } from '../config/units.js';

export const MAX_NAME_LENGTH = 100;

/** A positive whole number of bytes or a size string (`key` names it in errors); null: none. */
function validateBytes(key: string, value: unknown, example: string): number | null {
  if (value === null) return null;
  let bytes: number;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    try {
      bytes = parseSize(value);
    } catch (err) {
      if (err instanceof UnitError) throw new AccountError('invalid', `${key}: ${err.message}`);
      throw err;
    }
  } else throw new AccountError('invalid', `${key} must be a number of bytes, a size such as "${example}", or null`);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new AccountError('invalid', `${key} must be a positive whole number of bytes`);
  return bytes;
}

/** A usage limit as given in the API: a positive whole number of bytes or a size string; null: none. */
export function validateLimit(limit: unknown): number | null {
  return validateBytes('limit', limit, '10GB');
}

/** A bandwidth cap as given in the API: bytes per second, a number or a size string; null: none. */
export function validateMaxBps(maxBps: unknown): number | null {
  return validateBytes('max_bps', maxBps, '1MB');
}

/**
 * Trims and validates an account name: 1..100 characters, no control characters (C0, DEL, C1) and
 * no invisible formatting characters (zero-width, bidirectional overrides and isolates, BOM): names
 * are shown in tables and accepted where an account is named, so they must read as what they are.
 */
export function validateAccountName(name: unknown): string {
  if (typeof name !== 'string') throw new AccountError('invalid', 'name must be a string');
  const trimmed = name.trim();
  const length = [...trimmed].length;
  if (length === 0 || length > MAX_NAME_LENGTH) {
    throw new AccountError('invalid', `name must be 1..${MAX_NAME_LENGTH} characters (after trimming)`);
  }
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) throw new AccountError('invalid', 'name must not contain control characters');
  if (/[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/.test(trimmed)) {
    throw new AccountError('invalid', 'name must not contain invisible formatting characters (zero-width, bidirectional controls)');
  }
  return trimmed;
}
