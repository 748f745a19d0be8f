/**
 * Shared enforcement (src/limits/fleet-limits.ts): the allocation gate over the usage limits,
 * allocations_per_user across nodes, the rate limits, and the bandwidth share. On one node
 * (SQLite storage) the rate limits are counted in memory and nothing else is shared. In a fleet
 * (Redis storage) it holds two Redis connections of its own (commands, and one subscribed to
 * the count and block channels): the counts are published every heartbeat and on every change,
 * the rate counts batched into Redis, and usage webhook events claimed once per fleet. Built
 * before the limits (which take `claim`), its gate made once from the limiter (gate()), before
 * the relay. Started before the relay listens; stopped after it (its allocations closed, the
 * node's counts are removed). rate_limits and quotas are read again on every reload (the relay
 * component owns those keys and validates them).
 */
import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../../src/config/load.js';
import { BlockTable } from '../../src/limits/block-table.js';
import { FleetLimits, type FleetLimitSettings, type UsageFlags } from '../../src/limits/fleet-limits.js';
import type { Claim } from '../../src/limits/once-per-fleet.js';
import { MemoryRateCounter, type RateCounter } from '../../src/limits/rate-counter.js';
import { RemoteCounts } from '../../src/limits/remote-counts.js';
import type { Logger } from '../../src/logger.js';
import type { FerryMetrics } from '../../src/metrics/index.js';
import { createRedis, redactRedisUrl } from '../../src/store/redis/client.js';
import { RedisFleetCounts } from '../../src/store/redis/fleet-counts.js';
import { claimOnce } from '../../src/store/redis/fleet-once.js';
import { RedisRateCounter } from '../../src/store/redis/fleet-rates.js';
import type { ClusterIdentity } from '../cluster/identity.js';
import type { Component } from './component.js';

export function fleetLimitSettings(c: LoadedConfig['config']): FleetLimitSettings {
  return {
    allocationsPerUser: c.quotas.allocations_per_user,
    allocationsPerAccount: c.rate_limits.allocations_per_account,
    allocationsPerIp: c.rate_limits.allocations_per_ip,
    authFailuresPerIp: c.rate_limits.auth_failures_per_ip,
  };
}

export interface FleetLimitsDeps {
  readonly config: LoadedConfig;
  /** Null on one node (SQLite storage). */
  readonly identity: ClusterIdentity | null;
  readonly metrics: FerryMetrics;
  readonly log: Logger;
}

interface Fleet {
  readonly identity: ClusterIdentity;
  readonly redis: Redis;
  readonly subscriber: Redis;
  readonly remote: RemoteCounts;
  readonly rates: RedisRateCounter;
}

export class FleetLimitsComponent implements Component {
  readonly name = 'fleet-limits';
  readonly #deps: FleetLimitsDeps;
  readonly #log: Logger;
  readonly #blocks = new BlockTable();
  readonly #fleet: Fleet | undefined;
  readonly #rates: RateCounter;
  #limits: FleetLimits | undefined;
  #counts: RedisFleetCounts | undefined;
  /** Once per fleet for the usage webhook events; absent on one node. */
  readonly claim: Claim | undefined;

  constructor(deps: FleetLimitsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'fleet-limits' });
    const id = deps.identity;
    if (id === null) {
      this.#rates = new MemoryRateCounter(this.#blocks);
      return;
    }
    const redis = createRedis(id.redisUrl, { role: 'fleet-limits' });
    const subscriber = createRedis(id.redisUrl, { role: 'fleet-limits-sub' });
    // Errors surface as refused allocations and logged heartbeats; the listeners keep them from being thrown.
    for (const r of [redis, subscriber]) r.on('error', () => {});
    const rates = new RedisRateCounter({ redis, subscriber, blocks: this.#blocks, log: this.#log });
    this.#rates = rates;
    this.#fleet = { identity: id, redis, subscriber, remote: new RemoteCounts(), rates };
    this.claim = (name, ttlMs) => claimOnce(redis, name, ttlMs);
  }

  /** /healthz's problems: in a fleet, the allocation counts out of sync with Redis (Allocate refused meanwhile). */
  problems(): string[] {
    if (this.#fleet === undefined || this.#counts?.available() === true) return [];
    return ['fleet limits: Redis unreachable or the allocation counts not in sync yet (new allocations are refused: storage unavailable)'];
  }

  /** The allocation gate over `usage` (the limiter); made once, before the relay is built. */
  gate(usage: UsageFlags): FleetLimits {
    if (this.#limits !== undefined) throw new Error('fleet limits: gate() is called once');
    const { metrics, config } = this.#deps;
    const f = this.#fleet;
    const limits = new FleetLimits({
      settings: fleetLimitSettings(config.config),
      usage,
      blocks: this.#blocks,
      rates: this.#rates,
      refused: (reason) => metrics.allocationRefused(reason),
      rateLimited: (kind) => metrics.rateLimited(kind),
      ...(f !== undefined ? { remote: f.remote, link: { publishCount: (a, c) => this.#counts?.publishCount(a, c), available: () => this.#counts?.available() ?? false } } : {}),
    });
    if (f !== undefined) {
      this.#counts = new RedisFleetCounts({
        redis: f.redis,
        subscriber: f.subscriber,
        nodeId: f.identity.nodeId,
        heartbeatMs: f.identity.heartbeatMs,
        ttlMs: f.identity.ttlMs,
        remote: f.remote,
        local: () => [...limits.localAccounts()].map((a) => [a, limits.localCount(a)] as const),
        log: this.#log,
      });
    }
    this.#limits = limits;
    return limits;
  }

  /** Other nodes' counts (bandwidth share changes); absent on one node. */
  get remote(): RemoteCounts | undefined {
    return this.#fleet?.remote;
  }

  async start(): Promise<void> {
    const f = this.#fleet;
    if (f === undefined) return;
    const where = redactRedisUrl(f.identity.redisUrl);
    try {
      await Promise.all([f.redis.connect(), f.subscriber.connect()]);
      await f.rates.start();
      if (this.#counts === undefined) throw new Error('fleet limits: gate() was not called before start');
      await this.#counts.start();
    } catch (err) {
      throw new Error(`fleet limits: cannot use Redis at ${where}: ${(err as Error).message}`, { cause: err });
    }
    this.#log.info({ node_id: f.identity.nodeId }, 'fleet limits: allocation counts and rate limits shared through Redis');
  }

  async stop(): Promise<void> {
    const f = this.#fleet;
    if (f === undefined) return;
    await this.#counts?.stop().catch(() => {});
    await f.rates.stop().catch(() => {});
    f.subscriber.disconnect();
    f.redis.disconnect();
  }

  apply(next: LoadedConfig): void {
    this.#limits?.update(fleetLimitSettings(next.config));
  }
}
