/**
 * The relay registry (src/cluster/): this node's entry (public host, listening ports, region,
 * load, state) refreshed every cluster.heartbeat in Redis with cluster.ttl, and the view of the
 * fleet that /v1/ice-servers chooses relays from and /v1/relays lists. With SQLite storage the
 * registry is this node alone, in memory.
 *
 * `check` comes right after the store in the start list (app/ferry.ts): another live process with
 * this node id refuses the start (src/cluster/node-id-check.ts).
 *
 * Three places in the start/stop list (app/ferry.ts), so that a stop goes in the right order:
 * `exit` before the relay (start: connect to Redis; stop, after the relay closed: leave the
 * registry), `join` after the relay (start: register, once the listening ports are known) and
 * `drain` after signaling (stop, first of all: publish 'draining', then wait one heartbeat so every
 * node has read it before this one stops answering and relaying).
 */
import { networkInterfaces } from 'node:os';
import { MemoryRegistryStore } from '../../src/cluster/memory-store.js';
import { checkNodeIdFree } from '../../src/cluster/node-id-check.js';
import { RelayRegistry } from '../../src/cluster/registry.js';
import { acceptsCheck, secretCheck } from '../../src/cluster/secret-check.js';
import { pickRelays } from '../../src/cluster/select.js';
import type { RegistryStore, RelayEntry, RelayPorts, RelayTransport } from '../../src/cluster/types.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { isUnspecifiedIp } from '../../src/config/net.js';
import type { RelayTarget } from '../../src/credentials/ice-servers.js';
import type { Logger } from '../../src/logger.js';
import { packageVersion } from '../../src/package-version.js';
import { createRedis, isConnectionError } from '../../src/store/redis/client.js';
import { RedisRegistryStore } from '../../src/store/redis/registry.js';
import type { RelayFleet } from '../../signaling/deps.js';
import type { ClusterIdentity } from '../cluster/identity.js';
import { chooseRelayIps } from '../relay-options.js';
import type { Component } from './component.js';
import type { TurnComponent } from './turn.js';

/** A stop waits at most this long for the other nodes to read 'draining'. */
const MAX_DRAIN_WAIT_MS = 5_000;
/** Heartbeat and TTL of the one-node registry (nothing else reads it). */
const LOCAL_HEARTBEAT_MS = 2_000;
const LOCAL_TTL_MS = 10_000;
/** Relays handed out per /v1/ice-servers. */
const RELAYS_PER_REQUEST = 2;

export interface ClusterDeps {
  readonly config: LoadedConfig;
  /** null: one node (SQLite storage). */
  readonly identity: ClusterIdentity | null;
  readonly relay: TurnComponent;
  readonly log: Logger;
}

/** Where TURN URLs pointing at this node go: cluster.public_host, the listening IP, external_ip, a relay IP. */
export function defaultPublicHost(config: LoadedConfig, identity: ClusterIdentity | null): string {
  if (identity?.publicHost !== undefined) return identity.publicHost;
  const { host } = config.listen;
  if (!isUnspecifiedIp(host)) return host;
  const external = config.config.external_ip;
  const ext = typeof external === 'string' ? external : external?.[0];
  if (ext !== undefined) return ext;
  const ips = chooseRelayIps(config, networkInterfaces());
  return ips.ips4[0] ?? ips.ips6[0] ?? '127.0.0.1';
}

export class ClusterComponent {
  readonly registry: RelayRegistry;
  /** What signaling reads: /v1/relays, and the relays /v1/ice-servers hands out (a fleet only). */
  readonly fleet: RelayFleet;
  readonly check: Component;
  readonly exit: Component;
  readonly join: Component;
  readonly drain: Component;

  constructor(deps: ClusterDeps) {
    const { config, identity, relay, log } = deps;
    const clog = log.child({ component: 'cluster' });
    const redis = identity === null ? undefined : createRedis(identity.redisUrl, { role: 'registry' });
    // ioredis needs an 'error' listener; the registry logs the outage once, from its heartbeats.
    redis?.on('error', () => {});
    const store: RegistryStore = redis === undefined ? new MemoryRegistryStore() : new RedisRegistryStore(redis);
    // One node: cluster.node_id when set, else "local" (nothing else reads it).
    const nodeId = identity?.nodeId ?? config.config.cluster.node_id ?? 'local';
    const publicHost = defaultPublicHost(config, identity);
    const startedAt = Date.now();
    const version = packageVersion();
    const load = relayLoad(relay);
    const registry = new RelayRegistry({
      store,
      nodeId,
      heartbeatMs: identity?.heartbeatMs ?? LOCAL_HEARTBEAT_MS,
      ttlMs: identity?.ttlMs ?? LOCAL_TTL_MS,
      log: clog,
      // Only a fleet has other nodes to compare with.
      ...(identity !== null
        ? {
            secrets: {
              check: () => {
                const secret = relay.mintingSecret();
                return secret === undefined ? undefined : secretCheck(secret);
              },
              accepts: (check: string) => acceptsCheck(relay.acceptedSecrets(), check),
            },
          }
        : {}),
      describe: () => {
        const { transports, ports } = listeningPorts(relay);
        return {
          publicHost, transports, ports, ...(identity?.region !== undefined ? { region: identity.region } : {}), load: load(), startedAt, version,
          ...(identity !== null ? { bootId: identity.bootId, beatAt: Date.now() } : {}),
        };
      },
    });
    this.registry = registry;
    this.fleet = {
      nodeId,
      read: async () => {
        try {
          return await registry.read();
        } catch (err) {
          if (isConnectionError(err)) return null;
          throw err;
        }
      },
      pick: (region) => (identity === null ? undefined : pickRelays(registry.live(), { count: RELAYS_PER_REQUEST, ...(region !== undefined ? { region } : {}) }).map(targetOf)),
    };
    // Whether this node got past the node id check: a start refused for a duplicate id must not
    // remove, on its way out, the live node's entry under that id. The check is a component of
    // its own, started right after the store, before anything is written under the node id
    // (webhook leases, allocation counts, usage, the registry entry, the signaling alive key).
    let checked = false;
    let connecting: Promise<void> | undefined;
    // Not fatal: the store already needed Redis; heartbeats retry and report an outage.
    const connect = () => (connecting ??= redis?.connect().catch((err: unknown) => clog.warn({ err: (err as Error).message }, 'registry: Redis not reachable yet; retrying')));
    this.check = {
      name: 'cluster.check',
      async start() {
        if (identity !== null) {
          await connect();
          // Another live process with this node id: refuse to start (DuplicateNodeIdError), before
          // anything of this node is written under the id. Redis unreachable: not checked.
          await checkNodeIdFree({ store, nodeId, bootId: identity.bootId, heartbeatMs: identity.heartbeatMs, ttlMs: identity.ttlMs, log: clog }).catch((err: unknown) => {
            if (!isConnectionError(err)) throw err;
            clog.warn({ err: (err as Error).message }, 'registry: Redis not reachable; this node id was not checked for another live node');
          });
        }
        checked = true;
      },
      // A start refused here never starts `exit`: its connection is closed here (idempotent).
      async stop() {
        await store.close();
      },
    };
    this.exit = {
      name: 'cluster.exit',
      async start() {
        await connect();
      },
      async stop() {
        if (checked) await registry.leave();
        await store.close();
      },
    };
    this.join = {
      name: 'cluster.join',
      async start() {
        await registry.join();
        const self = registry.live().find((e) => e.nodeId === nodeId);
        clog.info({ node_id: nodeId, public_host: publicHost, ...(identity?.region !== undefined ? { region: identity.region } : {}), relays: registry.live().length }, `relay registry: joined as ${nodeId}${self === undefined ? ' (not confirmed yet)' : ''}`);
        if (identity !== null) clog.info('cluster mode: every node of the fleet must have the same auth_secrets, or the TURN credentials one node hands out are refused by the others');
      },
      async stop() {},
    };
    const drainWait = identity === null ? 0 : Math.min(identity.heartbeatMs, MAX_DRAIN_WAIT_MS);
    this.drain = {
      name: 'cluster.drain',
      async start() {},
      async stop() {
        await registry.drain();
        clog.info({ node_id: nodeId }, 'relay registry: draining (no new allocations are sent here)');
        if (drainWait > 0) await new Promise((r) => setTimeout(r, drainWait));
      },
    };
  }
}

function targetOf(e: RelayEntry): RelayTarget {
  return {
    host: e.publicHost,
    ...(e.ports.udp !== undefined ? { udpPort: e.ports.udp } : {}),
    ...(e.ports.tcp !== undefined ? { tcpPort: e.ports.tcp } : {}),
    ...(e.ports.tls !== undefined ? { tlsPort: e.ports.tls } : {}),
  };
}

/** The transports the relay listens on and the first port of each. */
function listeningPorts(relay: TurnComponent): { transports: RelayTransport[]; ports: RelayPorts } {
  const ports: { udp?: number; tcp?: number; tls?: number } = {};
  for (const l of relay.listening()) ports[l.transport] ??= l.port;
  const transports = (['udp', 'tcp', 'tls'] as const).filter((t) => ports[t] !== undefined);
  return { transports, ports };
}

/** Live allocations, and relayed bytes per second since the previous call (once per heartbeat). */
function relayLoad(relay: TurnComponent): () => { allocations: number; bps: number } {
  let lastBytes = 0;
  let lastAt = 0;
  return () => {
    let bytes = 0;
    let allocations = 0;
    for (const a of relay.server.live()) {
      bytes += a.bytesToPeer + a.bytesToClient;
      allocations += 1;
    }
    const now = Date.now();
    // Allocations that closed take their bytes with them: a drop reads as 0, never negative.
    const bps = lastAt > 0 && now > lastAt ? Math.max(0, ((bytes - lastBytes) * 1000) / (now - lastAt)) : 0;
    lastBytes = bytes;
    lastAt = now;
    return { allocations, bps };
  };
}
