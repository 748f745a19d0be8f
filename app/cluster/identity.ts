/**
 * Who this node is in a fleet (cluster mode: storage is redis://). The node id is cluster.node_id,
 * or an id generated once and kept in `<data dir>/node-id` (the data directory beside the config
 * file, or the working directory's without one), so a restarted node keeps its id. The boot id
 * is new for every start of the process: what a node writes with it (usage flush sequence
 * numbers) never collides with what an earlier run of the same node wrote.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isRedisUrl } from '../../src/config/cluster.js';
import { configDir, type LoadedConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/units.js';

export interface ClusterIdentity {
  readonly redisUrl: string;
  readonly nodeId: string;
  /** 16 hex characters, new for each start of the process. */
  readonly bootId: string;
  readonly region?: string;
  /** cluster.public_host, else signaling.public_host; absent: the node's addresses decide. */
  readonly publicHost?: string;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The generated node id kept in `file`, made (and written) on first use. */
export function storedNodeId(file: string): string {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (NODE_ID.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = `node-${randomBytes(6).toString('hex')}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}

/** The node's identity in the fleet; null when storage is not Redis (one node, no fleet). */
export function clusterIdentity(loaded: LoadedConfig): ClusterIdentity | null {
  if (!isRedisUrl(loaded.storageUrl)) return null;
  const c = loaded.config.cluster;
  const publicHost = c.public_host ?? loaded.config.signaling.public_host;
  return {
    redisUrl: loaded.storageUrl,
    nodeId: c.node_id ?? storedNodeId(join(configDir(loaded), 'data', 'node-id')),
    bootId: randomBytes(8).toString('hex'),
    ...(c.region !== undefined ? { region: c.region } : {}),
    ...(publicHost !== undefined ? { publicHost } : {}),
    heartbeatMs: parseDuration(c.heartbeat),
    ttlMs: parseDuration(c.ttl),
  };
}
