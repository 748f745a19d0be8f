/**
 * Lifetimes (TTLs) of minted credentials, one parser for the HTTP API (`ttl` of /v1/ice-servers and
 * /v1/signal-tokens) and the CLI (`ferry credentials --ttl`), so both accept the same values:
 *   - a whole number of seconds: 3600 (JSON number) or "3600" (a string, as a CLI argument is);
 *   - a duration in the config's forms (src/config/units.ts parseDuration): "90s", "15m", "1h",
 *     "1h30m", "1d"; it must come to whole seconds ("1500ms" is refused, not rounded).
 * A value outside the range of its kind is refused with a message that gives the range: nothing
 * is raised, lowered or rounded behind the caller's back (a credential that lives longer or
 * shorter than asked for is a surprise at the worst moment).
 */
import { parseDuration, UnitError } from '../config/units.js';

export interface TtlRange {
  /** Shortest accepted lifetime, seconds. */
  readonly min: number;
  /** Longest accepted lifetime, seconds. */
  readonly max: number;
  /** Used when no ttl is given, seconds. */
  readonly default: number;
}

/**
 * TURN credentials (/v1/ice-servers, `ferry credentials`): at least a minute, so a client has time
 * to allocate with them; at most the one day the TURN REST draft recommends (the auth handler dates
 * plain `<expiry>:<account>` credentials by that maximum, src/credentials/rest.ts).
 */
export const ICE_TTL: TtlRange = { min: 60, max: 86_400, default: 3600 };

/** Signaling tokens (/v1/signal-tokens): a browser opens its WebSocket with one right away. */
export const SIGNAL_TOKEN_TTL: TtlRange = { min: 1, max: 86_400, default: 600 };

/** `90` → "90s", `3600` → "1h", `5400` → "1h30m": seconds in the duration form the parser reads back. */
export function formatSeconds(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length === 0 ? '0s' : parts.join('');
}

/** "from 1m to 1d (60 to 86400 seconds)": the range as the error messages and the docs give it. */
export function describeTtlRange(range: TtlRange): string {
  return `from ${formatSeconds(range.min)} to ${formatSeconds(range.max)} (${range.min} to ${range.max} seconds)`;
}

export class TtlError extends Error {
  override name = 'TtlError';
}

const WHOLE_SECONDS = /^\d{1,15}$/;
/** The longest TTL text accepted ("1d23h59m59s" is 11 characters). */
const MAX_TTL_TEXT = 32;

/**
 * A TTL in whole seconds within `range`. Throws TtlError with a message for the caller (without
 * the field name: the API prefixes `body.ttl: `, the CLI `--ttl: `).
 */
export function parseTtl(input: unknown, range: TtlRange): number {
  const forms = `expected a whole number of seconds or a duration such as "90s", "15m" or "1h", ${describeTtlRange(range)}`;
  let seconds: number;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) throw new TtlError(`${forms}; got ${input}`);
    seconds = input;
  } else if (typeof input === 'string') {
    // No TTL form is this long: a longer string is refused without being parsed or quoted back.
    if (input.length > MAX_TTL_TEXT) throw new TtlError(`${forms}; got a string of ${input.length} characters`);
    const s = input.trim();
    if (WHOLE_SECONDS.test(s)) {
      seconds = Number(s);
    } else {
      let ms: number;
      try {
        ms = parseDuration(s);
      } catch (err) {
        if (!(err instanceof UnitError)) throw err;
        throw new TtlError(`${forms}; got ${JSON.stringify(input)}`);
      }
      if (ms % 1000 !== 0) throw new TtlError(`must be whole seconds, ${describeTtlRange(range)}; got ${JSON.stringify(input)}`);
      seconds = ms / 1000;
    }
  } else {
    throw new TtlError(`${forms}; got ${input === null ? 'null' : typeof input}`);
  }
  if (seconds < range.min || seconds > range.max) {
    throw new TtlError(`must be ${describeTtlRange(range)}; got ${typeof input === 'string' ? JSON.stringify(input) : input}`);
  }
  return seconds;
}
