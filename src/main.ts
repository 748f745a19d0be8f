/**
 * The composition root: config in, running relay out. The only place (with src/cli/) that wires
 * turn/ to the domain modules.
 */
import type { LoadedConfig } from './config/load.js';
import type { Logger } from './logger.js';
import { buildRelayPlan, type RelayPlan } from './relay-options.js';
import { TurnServer } from '../turn/server.js';

export interface Listener {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

export interface FerryHandle {
  /** The sockets actually listening (ports resolved). */
  listening(): Listener[];
  allocationCount(): number;
  readonly plan: RelayPlan;
  /** Closes the listeners and every allocation; idempotent. */
  stop(): Promise<void>;
}

const hostText = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** Builds the engine from the config, starts it and logs where it listens. */
export async function startFerry(config: LoadedConfig, logger: Logger): Promise<FerryHandle> {
  const { users, auth_secrets: secrets } = config.config;
  logger.info(
    { config: config.source ?? 'embedded defaults', static_user_count: Object.keys(users).length, rest_secret_count: secrets.length },
    'configuration loaded',
  );
  if (Object.keys(users).length === 0 && secrets.length === 0) {
    logger.warn('no users and no auth_secrets configured: only STUN Binding works, every Allocate gets 401');
  }

  const plan = await buildRelayPlan(config, { log: logger.child({ component: 'relay-options' }) });
  const server = new TurnServer({ ...plan.options, log: logger.child({ component: 'turn' }) });
  await server.start();

  for (const l of server.listening()) {
    logger.info({ transport: l.transport, address: l.address, port: l.port }, `listening on ${l.transport} ${hostText(l.address)}:${l.port}`);
  }
  const { relay } = plan.options;
  logger.info(
    {
      relay_ips: [...relay.ips4, ...relay.ips6],
      relay_ports: `${relay.portMin}-${relay.portMax}`,
      ...(relay.externalIp4 || relay.externalIp6
        ? { external_ip: [relay.externalIp4, relay.externalIp6].filter((x) => x !== undefined) }
        : {}),
    },
    `relaying from ${[...relay.ips4, ...relay.ips6].map(hostText).join(', ') || 'no address'} ports ${relay.portMin}-${relay.portMax}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    plan,
    listening: () => server.listening(),
    allocationCount: () => server.allocationCount(),
    stop() {
      const p = stopping ?? server.stop().then(() => logger.info('stopped'));
      stopping = p;
      return p;
    },
  };
}
