/**
 * The data plane keys of the config: which path relays UDP clients (`data_plane`) and how many
 * relay threads the native one runs (`relay_threads`). Both are read once at start: the native
 * plane's threads and their listening sockets are fixed for the life of the process.
 */
import { z } from 'zod';
import { suggestKey } from './suggest.js';

export const DATA_PLANES = ['auto', 'native', 'js'] as const;
export type DataPlaneSetting = (typeof DATA_PLANES)[number];

/**
 * The most relay threads a config may ask for. Each thread holds a listening socket per listening
 * address (with its own receive buffer), its own tables and a stack, and threads beyond the cores
 * add only context switches: the bound keeps a typo (4000 for 4) from taking thousands of threads
 * and sockets, and is above the core count of common servers. The default is the cores, at most this.
 */
export const MAX_RELAY_THREADS = 256;

const choices = DATA_PLANES.map((p) => JSON.stringify(p)).join(', ');

export const DataPlaneSchema = z
  .enum(DATA_PLANES, {
    error: (iss) => {
      const hint = typeof iss.input === 'string' ? suggestKey(iss.input, DATA_PLANES) : undefined;
      return `expected one of ${choices}${hint !== undefined ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
    },
  })
  .default('auto')
  .describe(
    'Which path relays UDP clients. "native": the native addon (C++, built by npm install with a C++ compiler; `npm rebuild ferry-relay` builds it again) relays ChannelData, Send and Data indications on relay_threads threads of its own, and hands STUN requests to the same handlers as the TypeScript path; Ferry refuses to start when the addon cannot be loaded, naming data_plane and the reason. "js": the TypeScript path, on the JS thread (the reference). "auto": native when the addon loads, otherwise the TypeScript path with one warning at start saying why. TCP and TLS clients are served by TypeScript on either plane. The plane in use is logged at start, shown by `ferry status` and in ferry_data_plane_info. A change needs a restart.',
  );

export const RelayThreadsSchema = z
  .int({ error: `expected a whole number of threads, 1 to ${MAX_RELAY_THREADS}` })
  .min(1, { error: `expected a whole number of threads, 1 to ${MAX_RELAY_THREADS}` })
  .max(MAX_RELAY_THREADS, { error: `must be at most ${MAX_RELAY_THREADS} (threads beyond the cores only add context switches)` })
  .optional()
  .describe(
    `Threads of the native data plane: each has its own listening socket per listening address (SO_REUSEPORT, so the kernel spreads clients by address and port) and serves the relayed sockets of its clients; each holds 2 MiB of receive buffers (32 datagrams of up to 64 KiB, read at once). 1 to ${MAX_RELAY_THREADS}. Not set: the number of CPU cores (os.availableParallelism(), at most ${MAX_RELAY_THREADS}). Used by the native plane only: the TypeScript path relays on the JS thread and ignores it (a warning at start says so when it is set). A change needs a restart.`,
  );
