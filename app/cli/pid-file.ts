/** The pid file of a daemonized Ferry, and checks on the process it names. */
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Writes the pid file afresh: whatever is at its path is removed first and the file is created
 * exclusively, so a link planted there (e.g. in a shared directory) is never written through.
 */
export function writePid(file: string, pid: number): void {
  mkdirSync(dirname(file), { recursive: true });
  // A background start's parent and its child both write it (the same pid): a few tries settle
  // the race between one's unlink and the other's create.
  for (let attempt = 1; ; attempt++) {
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      writeFileSync(file, `${pid}\n`, { mode: 0o644, flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 3) throw err;
    }
  }
}

/** Removes the pid file if it still names `pid` (a newer Ferry may have replaced it). */
export function removePid(file: string, pid: number): void {
  if (readPid(file) !== pid) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** The process exists and is not a zombie (exited, waiting to be reaped by a parent that may never do it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) is all we know
  }
}

/**
 * True when `pid` is alive and (where /proc tells) runs ferry: a pid file left by a crash may
 * name a pid reused by another program, which must be neither signalled nor called "running".
 */
export function isFerry(pid: number): boolean {
  if (!alive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc: trust the pid file
  }
  return /ferry/.test(cmdline);
}

/** The running Ferry a pid file names, or undefined (no file, stale pid, or another program). */
export function runningPid(file: string): number | undefined {
  const pid = readPid(file);
  return pid !== undefined && isFerry(pid) ? pid : undefined;
}

/** When the process started, from the pid file's modification time (written at spawn). */
export function startedAt(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
