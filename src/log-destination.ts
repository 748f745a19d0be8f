/**
 * Where log lines go: standard output, written synchronously (logs are never on the per-packet
 * path). pino's default writer (sonic-boom) retries a failing write forever when the reader of
 * stdout has gone away (EPIPE), which would keep Ferry from ever exiting; this one stops logging
 * instead, and drops a line rather than block when the pipe is full.
 */
import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

const EAGAIN_RETRIES = 50;

export function stdoutDestination(fd = 1): DestinationStream & { readonly broken: boolean } {
  let broken = false;
  return {
    get broken() {
      return broken;
    },
    write(line: string): void {
      if (broken) return;
      const buf = Buffer.from(line, 'utf8');
      let off = 0;
      for (let tries = 0; off < buf.length && tries <= EAGAIN_RETRIES; ) {
        try {
          off += writeSync(fd, buf, off, buf.length - off);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') {
            tries++;
            continue;
          }
          broken = true; // EPIPE, EBADF, ...: nobody reads our logs any more
          return;
        }
      }
    },
  };
}
