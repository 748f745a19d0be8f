/**
 * A registry entry as stored (JSON, snake_case like the HTTP API), and its validation when read
 * back: whatever is in Redis is external input, so an entry that does not parse, is too big or
 * names an impossible host or port is dropped rather than handed to clients.
 */
import { z } from 'zod';
import { normalizeHost } from '../credentials/ice-servers.js';
import { parseJsonObject } from '../json-message.js';
import { MAX_ENTRY_BYTES, type RelayEntry } from './types.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const Port = z.int().min(1).max(65535);

const StoredEntry = z.object({
  node_id: z.string().regex(NAME),
  public_host: z.string().max(255).refine((h) => normalizeHost(h) !== null),
  transports: z.array(z.enum(['udp', 'tcp', 'tls'])).max(3),
  ports: z.object({ udp: Port.optional(), tcp: Port.optional(), tls: Port.optional() }),
  region: z.string().regex(NAME).optional(),
  load: z.object({ allocations: z.int().min(0).max(Number.MAX_SAFE_INTEGER), bps: z.number().min(0).max(Number.MAX_SAFE_INTEGER) }),
  state: z.enum(['active', 'draining']),
  started_at: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  version: z.string().max(64),
  secret_check: z.string().max(64).optional(),
  boot_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  beat_at: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export function encodeEntry(e: RelayEntry): string {
  return JSON.stringify({
    node_id: e.nodeId,
    public_host: e.publicHost,
    transports: e.transports,
    ports: e.ports,
    ...(e.region !== undefined ? { region: e.region } : {}),
    load: { allocations: e.load.allocations, bps: Math.round(e.load.bps) },
    state: e.state,
    started_at: e.startedAt,
    version: e.version,
    ...(e.secretCheck !== undefined ? { secret_check: e.secretCheck } : {}),
    ...(e.bootId !== undefined ? { boot_id: e.bootId } : {}),
    ...(e.beatAt !== undefined ? { beat_at: e.beatAt } : {}),
  });
}

/** The entry in `text`, or null when it is not one (malformed, too big). */
export function decodeEntry(text: string): RelayEntry | null {
  const raw = parseJsonObject(text, MAX_ENTRY_BYTES);
  if (raw === undefined) return null;
  const r = StoredEntry.safeParse(raw);
  if (!r.success) return null;
  const s = r.data;
  const ports = { ...(s.ports.udp !== undefined ? { udp: s.ports.udp } : {}), ...(s.ports.tcp !== undefined ? { tcp: s.ports.tcp } : {}), ...(s.ports.tls !== undefined ? { tls: s.ports.tls } : {}) };
  return {
    nodeId: s.node_id,
    publicHost: s.public_host,
    transports: [...new Set(s.transports)],
    ports,
    ...(s.region !== undefined ? { region: s.region } : {}),
    load: { allocations: s.load.allocations, bps: s.load.bps },
    state: s.state,
    startedAt: s.started_at,
    version: s.version,
    ...(s.secret_check !== undefined ? { secretCheck: s.secret_check } : {}),
    ...(s.boot_id !== undefined ? { bootId: s.boot_id } : {}),
    ...(s.beat_at !== undefined ? { beatAt: s.beat_at } : {}),
  };
}
