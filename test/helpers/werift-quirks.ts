// werift 0.24 keeps a closed peer's TURN refresh loop asleep in `await timers/promises.setTimeout(
// 5/6 * lifetime)` (500 s by default): close() only flags the loop, so that ref'd timer holds the test
// process open for minutes after the last test. Importing this module makes long (>= 10 s) promise
// timers unref'd, which lets the process exit; short timers (DTLS/SCTP retransmits) are untouched.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const timersPromises = require('node:timers/promises') as typeof import('node:timers/promises');
const original = timersPromises.setTimeout;

(timersPromises as { setTimeout: typeof original }).setTimeout = ((delay?: number, value?: unknown, options?: { ref?: boolean; signal?: AbortSignal }) =>
  original(delay, value, (delay ?? 0) >= 10_000 ? { ...options, ref: false } : options)) as typeof original;

