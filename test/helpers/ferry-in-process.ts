// Ferry started in this process (startFerry) on a free loopback port with its own relay range and
// an in-memory store, for tests of FerryHandle.reload: `reload(extra)` applies the base config
// with `extra` merged in, as a SIGHUP with an edited file would.
import { parseConfig } from '../../src/config/load.js';
import type { ConfigDiff } from '../../src/config/reload.js';
import { createLogger } from '../../src/logger.js';
import { startFerry, type FerryHandle } from '../../app/ferry.js';
import { freePort, reservePortRange } from './ports.js';

export interface InProcessFerry {
  readonly handle: FerryHandle;
  /** The STUN/TURN port (UDP and TCP) on 127.0.0.1. */
  readonly port: number;
  reload(extra: Record<string, unknown>): ConfigDiff;
  stop(): Promise<void>;
}

const NO_FILE = '/nonexistent/config.json';

/** Starts Ferry with the base config plus `base` (kept on reload) and `initial` (start only). */
export async function startInProcessFerry(base: Record<string, unknown> = {}, initial: Record<string, unknown> = {}): Promise<InProcessFerry> {
  const port = await freePort();
  const range = await reservePortRange();
  const config = {
    address: `127.0.0.1:${port}`,
    relay_ip: '127.0.0.1',
    relay_ports: `${range.lo}-${range.hi}`,
    signaling: { address: '127.0.0.1:0' },
    storage: 'sqlite::memory:',
    ...base,
  };
  let handle: FerryHandle;
  try {
    handle = await startFerry(parseConfig({ ...config, ...initial }, NO_FILE), createLogger('info', { write: () => {} }));
  } catch (err) {
    range.release();
    throw err;
  }
  return {
    handle,
    port,
    reload: (extra) => handle.reload(parseConfig({ ...config, ...extra }, NO_FILE)),
    async stop() {
      try {
        await handle.stop();
      } finally {
        range.release();
      }
    },
  };
}
