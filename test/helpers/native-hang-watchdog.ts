// A watchdog for processes that load node-datachannel.
//
// node-datachannel 0.33.4 (the newest release) bundles a libdatachannel whose DTLS handshake over a
// TURN relay can deadlock: the libjuice poll thread holds the agent lock and waits for the DTLS
// mutex while a DTLS worker holds that mutex and waits for the agent lock (fixed upstream in
// libdatachannel pull request 1630, not yet in a node-datachannel release). The next call into the
// library from JavaScript (close(), cleanup()) then blocks the main thread for good, and no test
// timeout can fire. Seen here once in 25 and once in 100 runs of the SDK end-to-end test; in CI it
// held a whole run until its time limit.
//
// watchNativeHangs() starts a worker thread (native-hang-worker.ts) that watches, through /proc, for
// either sign of it: libjuice's poll thread waiting on a lock for `pollMs`, or the main thread no
// longer ticking and asleep on a lock for `mainMs` (longer than the 10 s node-datachannel's own
// cleanup() may legitimately wait for its threads). It then writes the evidence to stderr and, as
// one JSON line, to the file named by $FERRY_TEST_HANG_MARKER (scripts/run-tests.js sets it and
// runs a failed test file once more when it finds such a record), and kills the process: a
// deadlocked process never recovers.
import { Worker } from 'node:worker_threads';

const TICK_MS = 100;

export interface HangLimits {
  /** How long libjuice's poll thread may wait on a lock (default 5 s). */
  readonly pollMs?: number;
  /** How long the main thread may sleep on a lock without ticking (default 15 s). */
  readonly mainMs?: number;
}

let started = false;

/** Starts the watchdog once per process; it never keeps the process alive. */
export function watchNativeHangs(label: string, limits: HangLimits = {}): void {
  if (started || process.platform !== 'linux') return;
  started = true;
  const ticks = new Int32Array(new SharedArrayBuffer(4));
  setInterval(() => { Atomics.add(ticks, 0, 1); }, TICK_MS).unref();
  const worker = new Worker(new URL('./native-hang-worker.js', import.meta.url), {
    workerData: {
      ticks: ticks.buffer,
      pollMs: limits.pollMs ?? 5000,
      mainMs: limits.mainMs ?? 15_000,
      label,
      marker: process.env.FERRY_TEST_HANG_MARKER ?? '',
    },
  });
  worker.unref();
}
