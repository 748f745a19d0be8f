// The worker thread of native-hang-watchdog.ts. It must not rely on the main thread in any way
// (console output from a worker goes through it), so it reads /proc and writes with writeSync.
//
// Two signs of the deadlock, each held at every check for its limit:
// - libjuice's poll thread ("juice poll") waits in futex(2) for `pollMs`: in normal work it waits
//   in poll(2) and holds a mutex for microseconds at a time; in the deadlock it waits for the DTLS
//   mutex. This is the sign seen in the real deadlock, seconds before anything else.
// - the main thread has stopped ticking and sleeps in futex(2) for `mainMs`: a call into the
//   library (close(), cleanup()) that waits for a lock that never comes.
import { appendFileSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

interface Data { ticks: SharedArrayBuffer; pollMs: number; mainMs: number; label: string; marker: string }
const { ticks, pollMs, mainMs, label, marker } = workerData as Data;
const view = new Int32Array(ticks);
const CHECK_MS = 250;
/** futex(2): 202 on x86_64, 98 on arm64 (the generic syscall table). */
const FUTEX = process.arch === 'arm64' ? 98 : 202;
const NATIVE = /juice|RTC|SCTP|DTLS/;

interface ThreadState { tid: number; name: string; state: string; syscall: number | null }

function readOr(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function thread(tid: number): ThreadState {
  const base = `/proc/self/task/${tid}`;
  const stat = readOr(`${base}/stat`);
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  const nr = Number.parseInt(readOr(`${base}/syscall`), 10);
  return { tid, name: readOr(`${base}/comm`).trim(), state, syscall: Number.isNaN(nr) ? null : nr };
}

const asleepInFutex = (t: ThreadState): boolean => (t.state === 'S' || t.state === 'D') && t.syscall === FUTEX;

function threads(): ThreadState[] {
  try { return readdirSync('/proc/self/task').map((t) => thread(Number(t))); } catch { return []; }
}

let last = Atomics.load(view, 0);
/** Since when each sign has been seen at every check. */
let mainSince: number | undefined;
let pollSince: number | undefined;
let loaded = false;

setInterval(() => {
  const now = Date.now();
  loaded ||= readOr('/proc/self/maps').includes('node_datachannel');
  if (!loaded) return;
  const all = threads();
  const native = all.filter((t) => t.tid !== process.pid && NATIVE.test(t.name));
  const nativeInFutex = native.filter(asleepInFutex).map((t) => t.name);

  const poll = native.filter((t) => t.name.startsWith('juice poll'));
  pollSince = poll.length > 0 && poll.some(asleepInFutex) ? (pollSince ?? now) : undefined;

  const t = Atomics.load(view, 0);
  const main = all.find((x) => x.tid === process.pid);
  const stalled = t === last;
  last = t;
  mainSince = stalled && main !== undefined && asleepInFutex(main) ? (mainSince ?? now) : undefined;

  const trigger = pollSince !== undefined && now - pollSince >= pollMs ? 'juice-poll-blocked'
    : mainSince !== undefined && now - mainSince >= mainMs ? 'main-blocked' : undefined;
  if (trigger === undefined) return;
  const since = trigger === 'juice-poll-blocked' ? pollSince ?? now : mainSince ?? now;
  const record = {
    kind: 'node-datachannel-deadlock', trigger, label, pid: process.pid, blocked_ms: now - since,
    at: new Date(now).toISOString(), main: main && { state: main.state, syscall: main.syscall },
    native_threads_in_futex: nativeInFutex,
  };
  const line = JSON.stringify(record);
  writeSync(2, `\nnative-hang-watchdog: ${trigger === 'juice-poll-blocked' ? "libjuice's poll thread" : 'the main thread'} ` +
    `has waited on a lock for ${now - since} ms (node-datachannel's DTLS/TURN deadlock); killing the process. ${line}\n`);
  if (marker !== '') {
    try { appendFileSync(marker, `${line}\n`); } catch { /* the kill below still ends the hang */ }
  }
  process.kill(process.pid, 'SIGKILL');
}, CHECK_MS);
