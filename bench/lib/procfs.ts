// /proc sampling: CPU time and resident memory of a whole process group (the server and anything
// it forked), so a server that spawns workers is measured in full.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

export const CLK_TCK = clockTicks();

interface StatFields {
  readonly ppid: number;
  readonly pgrp: number;
  /** utime + stime, in clock ticks (all threads of the process). */
  readonly ticks: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited meanwhile
  }
  // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0]=state, [1]=ppid, [2]=pgrp, ..., [11]=utime, [12]=stime
  return { ppid: Number(rest[1]), pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** PIDs whose process group is `pgid`. */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const st = readStat(pid);
    if (st && st.pgrp === pgid) out.push(pid);
  }
  return out;
}

export interface CpuMark {
  readonly ticks: number;
  /** processes found in the group; 0 = the group is gone */
  readonly procs: number;
  /** per-process ticks, when processes may come and go between marks (othersMark) */
  readonly perPid?: ReadonlyMap<number, number>;
  /** performance.now() in ms when read. */
  readonly at: number;
}

export function cpuMark(pgid: number): CpuMark {
  let ticks = 0;
  const pids = groupPids(pgid);
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return { ticks, procs: pids.length, at: performance.now() };
}

/**
 * CPU of every user process on the machine outside the given process groups and outside this
 * process (kernel threads excluded: softirq work our own traffic causes lands there): the
 * background load that competes with a measurement.
 */
export function othersMark(excludePgids: readonly number[]): CpuMark {
  const skip = new Set(excludePgids);
  const perPid = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 2 || pid === process.pid) continue;
    const st = readStat(pid);
    if (!st || st.ppid === 2 || skip.has(st.pgrp)) continue;
    perPid.set(pid, st.ticks);
  }
  return { ticks: 0, procs: perPid.size, perPid, at: performance.now() };
}

/**
 * CPU used between two marks, as % of one core (may exceed 100 for multi-threaded servers); null
 * when the group vanished in between (its ticks went with it).
 */
export function cpuPercent(a: CpuMark, b: CpuMark): number | null {
  const wallS = (b.at - a.at) / 1000;
  if (wallS <= 0) return null;
  if (a.perPid && b.perPid) {
    // processes started in between count in full; those that exited in between are lost
    let d = 0;
    for (const [pid, t] of b.perPid) d += Math.max(0, t - (a.perPid.get(pid) ?? 0));
    return round1((d / CLK_TCK / wallS) * 100);
  }
  if (a.procs === 0 || b.procs === 0 || b.ticks < a.ticks) return null;
  return round1(((b.ticks - a.ticks) / CLK_TCK / wallS) * 100);
}

function statusField(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of VmRSS (kB) over the process group. */
export function groupRssKb(pgid: number): number {
  let kb = 0;
  for (const pid of groupPids(pgid)) kb += statusField(pid, 'VmRSS');
  return kb;
}

/** Thread count over the process group. */
export function groupThreads(pgid: number): number {
  let n = 0;
  for (const pid of groupPids(pgid)) n += statusField(pid, 'Threads');
  return n;
}

export interface SystemMark {
  /** jiffies over all CPUs: busy (everything but idle and iowait) and total */
  readonly busy: number;
  readonly total: number;
}

/** Whole-machine CPU counters from the first line of /proc/stat. */
export function systemMark(): SystemMark {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Share of all the machine's CPUs that was busy between two marks, in %. */
export function systemBusyPercent(a: SystemMark, b: SystemMark): number {
  const total = b.total - a.total;
  return total > 0 ? round1(((b.busy - a.busy) / total) * 100) : 0;
}

/** Per local UDP port: the kernel's receive-drop counter (last column of /proc/net/udp), summed. */
export function udpDropsByPort(): Map<number, number> {
  const out = new Map<number, number>();
  let text = '';
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1].split(':')[1], 16);
    out.set(port, (out.get(port) ?? 0) + Number(f[f.length - 1]));
  }
  return out;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Waits until the processes outside the groups `ours` used at most `noiseLimit` % of a core over a
 * one-second sample, or `maxMs` has passed (then returns anyway).
 */
export async function waitQuiet(ours: readonly number[], noiseLimit: number, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  while (performance.now() < end) {
    const a = othersMark(ours);
    await sleep(1000);
    if ((cpuPercent(a, othersMark(ours)) ?? 0) <= noiseLimit) return;
  }
}
