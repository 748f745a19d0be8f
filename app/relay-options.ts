/**
 * Config → TurnServerOptions: reads the TLS files, chooses the relay addresses, builds the
 * auth handler and the peer policy. Part of the composition root (it imports turn/).
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { AccountDirectory } from '../src/accounts/directory.js';
import { createAuthHandler, type UpdatableAuthHandler } from '../src/credentials/auth-handler.js';
import { ConfigError } from '../src/config/errors.js';
import { configDir, type LoadedConfig } from '../src/config/load.js';
import { ipFamily, isUnspecifiedIp } from '../src/config/net.js';
import { parseDuration, parseSize } from '../src/config/units.js';
import type { Config } from '../src/config/schema.js';
import {
  createPeerPolicy,
  type ConnectionLimits,
  type EngineLogger,
  type Quotas,
  type RateLimitOptions,
  type TlsCredentials,
  type TlsListenAddress,
  type TurnServerOptions,
} from '../turn/index.js';

export type InterfaceMap = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Where the relay addresses came from. */
export type RelayIpSource = 'relay_ip' | 'listening address' | 'network interfaces' | 'loopback fallback';

export interface RelayIps {
  readonly ips4: readonly string[];
  readonly ips6: readonly string[];
  readonly source: RelayIpSource;
}

export interface RelayPlan {
  readonly options: TurnServerOptions;
  /** The auth handler inside `options`, kept for reloading users and secrets. */
  readonly auth: UpdatableAuthHandler;
  readonly relay: RelayIps;
  /** Addresses (and ranges) the peer policy treats as the server's own. */
  readonly serverAddresses: readonly string[];
  /** The relay addresses (relay IPs and the external IPs in use): 'relay-only' peers. */
  readonly relayAddresses: readonly string[];
}

export interface RelayOptionsDeps {
  readonly log: EngineLogger;
  /** os.networkInterfaces by default; injectable for tests. */
  readonly interfaces?: () => InterfaceMap;
  /** Ferry's accounts: REST credentials minted for them are subject to revocation. */
  readonly accounts?: AccountDirectory;
}

const list = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

const isV4 = (a: NetworkInterfaceInfo) => a.family === 'IPv4' || (a.family as unknown) === 4;
const isV6 = (a: NetworkInterfaceInfo) => a.family === 'IPv6' || (a.family as unknown) === 6;
/** fe80::/10 needs a zone to be usable: never a relay address. */
const isLinkLocal6 = (ip: string) => /^fe[89ab]/i.test(ip);
const stripZone = (ip: string) => ip.split('%')[0];

/**
 * The relay addresses: `relay_ip` when set; else the listening IP when it is a specific one;
 * else the first non-internal IPv4 and the first non-internal, non-link-local IPv6 of the
 * machine; 127.0.0.1 when there is no such IPv4.
 */
export function chooseRelayIps(loaded: LoadedConfig, interfaces: InterfaceMap): RelayIps {
  const configured = list(loaded.config.relay_ip);
  if (configured.length > 0) {
    return {
      ips4: configured.filter((ip) => ipFamily(ip) === 4),
      ips6: configured.filter((ip) => ipFamily(ip) === 6),
      source: 'relay_ip',
    };
  }
  const { host, family } = loaded.listen;
  if (!isUnspecifiedIp(host)) {
    return { ips4: family === 4 ? [host] : [], ips6: family === 6 ? [host] : [], source: 'listening address' };
  }
  const all = Object.values(interfaces).flatMap((addrs) => addrs ?? []);
  const v4 = all.find((a) => !a.internal && isV4(a));
  const v6 = all.find((a) => !a.internal && isV6(a) && !isLinkLocal6(a.address));
  if (v4 === undefined) {
    return { ips4: ['127.0.0.1'], ips6: v6 ? [stripZone(v6.address)] : [], source: 'loopback fallback' };
  }
  return { ips4: [v4.address], ips6: v6 ? [stripZone(v6.address)] : [], source: 'network interfaces' };
}

/**
 * The addresses a client could reach the server on: the listening IPs (when listening on 0.0.0.0
 * or ::, every interface address and all of 127.0.0.0/8 and ::1, which reach a wildcard socket),
 * the relay IPs and the external IPs. The peer policy refuses them as peers (except relay
 * addresses, 'relay-only') so the relay never relays into itself.
 */
export function serverAddresses(loaded: LoadedConfig, relay: RelayIps, interfaces: InterfaceMap): string[] {
  const out = new Set<string>();
  for (const { host } of [loaded.listen, ...(loaded.tlsListen ? [loaded.tlsListen] : [])]) {
    if (isUnspecifiedIp(host)) {
      out.add('127.0.0.0/8');
      out.add('::1');
      for (const addrs of Object.values(interfaces)) for (const a of addrs ?? []) out.add(stripZone(a.address));
    } else {
      out.add(host);
    }
  }
  for (const ip of [...relay.ips4, ...relay.ips6, ...list(loaded.config.external_ip)]) out.add(ip);
  return [...out];
}

async function readPem(file: string, key: 'tls.cert' | 'tls.key'): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError(`${key}: cannot read ${file}: ${why}`, [{ path: key, message: `cannot read ${file}: ${why}` }]);
  }
}

/**
 * The certificate and key `tls` names, read and checked as a pair; undefined without
 * tls_address. Read at start and again on every reload, as renewed files replace the old ones in
 * place. Throws ConfigError naming tls.cert or tls.key.
 */
export async function readTlsFiles(loaded: LoadedConfig): Promise<TlsCredentials | undefined> {
  const { tls } = loaded.config;
  if (loaded.tlsListen === undefined || tls === undefined) return undefined;
  const base = configDir(loaded);
  const cert = await readPem(resolve(base, tls.cert), 'tls.cert');
  const key = await readPem(resolve(base, tls.key), 'tls.key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const message = `cannot use ${tls.cert} with ${tls.key}: ${(err as Error).message}`;
    throw new ConfigError(`tls.cert, tls.key: ${message}`, [{ path: 'tls', message }]);
  }
  return { cert, key };
}

async function tlsListeners(loaded: LoadedConfig): Promise<TlsListenAddress[] | undefined> {
  const files = await readTlsFiles(loaded);
  if (files === undefined || loaded.tlsListen === undefined) return undefined;
  return [{ host: loaded.tlsListen.host, port: loaded.tlsListen.port, ...files }];
}

/** The `quotas` config key as the engine takes it (at start and on reload). */
export function quotasOf(config: Config): { readonly quotas: Quotas; readonly maxBps: number; readonly connections: ConnectionLimits } {
  return {
    quotas: {
      allocationsPerUser: config.quotas.allocations_per_user,
      totalAllocations: config.quotas.total_allocations,
      permissionsPerAllocation: config.quotas.permissions_per_allocation,
      channelsPerAllocation: config.quotas.channels_per_allocation,
    },
    maxBps: parseSize(config.quotas.max_bps),
    connections: {
      perIp: config.quotas.connections_per_ip,
      total: config.quotas.total_connections,
      allocateTimeoutMs: parseDuration(config.quotas.allocate_timeout),
    },
  };
}

/** The `nonce` and `rate_limits` config keys as the engine takes them (at start and on reload). */
export function requestDefencesOf(config: Config): { readonly nonceTtlMs: number; readonly nonceSecret?: Buffer; readonly rateLimits: RateLimitOptions } {
  return {
    nonceTtlMs: parseDuration(config.nonce.lifetime),
    ...(config.nonce.secret !== undefined ? { nonceSecret: Buffer.from(config.nonce.secret, 'utf8') } : {}),
    rateLimits: {
      challengesPerIp: config.rate_limits.challenges_per_ip,
      authFailuresPerIp: config.rate_limits.auth_failures_per_ip,
    },
  };
}

export async function buildRelayPlan(loaded: LoadedConfig, deps: RelayOptionsDeps): Promise<RelayPlan> {
  const { config } = loaded;
  const interfaces = (deps.interfaces ?? networkInterfaces)();
  const relay = chooseRelayIps(loaded, interfaces);
  const fields = { relay_ips: [...relay.ips4, ...relay.ips6], chosen_from: relay.source };
  if (relay.source === 'loopback fallback') {
    deps.log.warn(fields, 'no non-internal IPv4 address found: relaying from 127.0.0.1, only local peers are reachable (set relay_ip)');
  } else {
    deps.log.info(fields, `relay addresses from ${relay.source}`);
  }

  const external = list(config.external_ip);
  const externalIp4 = external.find((ip) => ipFamily(ip) === 4);
  const externalIp6 = external.find((ip) => ipFamily(ip) === 6);
  if ((externalIp4 && relay.ips4.length === 0) || (externalIp6 && relay.ips6.length === 0)) {
    deps.log.warn({ external_ip: external, relay_ips: fields.relay_ips }, 'external_ip has a family with no relay address of that family; it is not used');
  }

  const own = serverAddresses(loaded, relay, interfaces);
  // The relay addresses peers of relay-only clients use: bound relay IPs, and the external IPs used.
  const relayAddresses = [...relay.ips4, ...relay.ips6];
  if (externalIp4 && relay.ips4.length > 0) relayAddresses.push(externalIp4);
  if (externalIp6 && relay.ips6.length > 0) relayAddresses.push(externalIp6);
  const auth = createAuthHandler({
    users: config.users,
    secrets: config.auth_secrets,
    ...(deps.accounts ? { accounts: deps.accounts } : {}),
  });
  const peerPolicy = createPeerPolicy({ allow: config.peers.allow, deny: config.peers.deny, serverAddresses: own, relayAddresses });
  const tls = await tlsListeners(loaded);

  const options: TurnServerOptions = {
    realm: config.realm,
    listen: [{ host: loaded.listen.host, port: loaded.listen.port }],
    ...(tls ? { tls } : {}),
    relay: {
      ips4: relay.ips4,
      ips6: relay.ips6,
      portMin: loaded.relayPorts.min,
      portMax: loaded.relayPorts.max,
      ...(externalIp4 ? { externalIp4 } : {}),
      ...(externalIp6 ? { externalIp6 } : {}),
    },
    auth,
    peerPolicy,
    ...quotasOf(config),
    ...requestDefencesOf(config),
    log: deps.log,
  };
  return { options, auth, relay, serverAddresses: own, relayAddresses };
}
