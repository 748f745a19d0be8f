/**
 * The fleet keys of the config: `storage` (SQLite for one node, Redis for a fleet) and `cluster`
 * (this node's identity and heartbeat in the relay registry). Cluster mode is on exactly when
 * `storage` is a redis:// or rediss:// URL. All of them need a restart.
 */
import { z } from 'zod';
import { normalizeHost } from '../credentials/ice-servers.js';
import { ipFamily } from './net.js';
import { parseDuration, UnitError } from './units.js';

/** A DNS name or an IP address (IPv6 with or without brackets), as put in a turn: URL. */
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
export const publicHost = z
  .string({ error: 'expected a host name or an IP address' })
  .refine((s) => (DNS_NAME.test(s) || ipFamily(s.replace(/^\[(.*)\]$/, '$1')) !== 0) && normalizeHost(s) !== null, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a host name or an IP address (no scheme, no port)`,
  });

const STORAGE = /^(sqlite:.+|rediss?:\/\/.*)$/i;

/** True when `url` names a Redis server (cluster mode). */
export const isRedisUrl = (url: string): boolean => /^rediss?:\/\//i.test(url);

/** What is wrong with a redis:// URL, or null: host, optional port 1-65535, optional /db 0-15. */
export function redisUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL such as "redis://127.0.0.1:6379/0"';
  }
  if (url.hostname === '') return 'names no host (expected "redis://host:port/db")';
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !(/^\d{1,2}$/.test(db) && Number(db) <= 15)) return `the database must be a number 0-15 after the port; got "/${db}"`;
  if (url.search !== '' || url.hash !== '') return 'must have no query or fragment';
  return null;
}

export const StorageSchema = z
  .string({ error: 'expected a string "sqlite:<file>" or "redis://host:port/db"' })
  .regex(STORAGE, { error: 'expected "sqlite:<file>" (e.g. sqlite:data/ferry.db), "sqlite::memory:", or "redis://[user:pass@]host:port/db" (rediss:// for TLS)' })
  .superRefine((s, ctx) => {
    if (!isRedisUrl(s)) return;
    const problem = redisUrlProblem(s);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .default('sqlite:data/ferry.db')
  .describe('Where accounts, API keys, revocations, the usage ledger, session records and the webhook outbox are stored. "sqlite:<file>" (one node; relative paths start at the config file\'s directory, the working directory without a config file; "sqlite::memory:" keeps nothing across restarts), or "redis://[user:pass@]host:port/db" ("rediss://" for TLS): shared by every node of a fleet, which turns cluster mode on (see cluster). A change needs a restart.');

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const durationMs = (def: string, minMs: number, maxMs: number) =>
  z
    .string({ error: 'expected a duration such as 2s or 500ms' })
    .default(def)
    .transform((v, ctx) => {
      try {
        const ms = parseDuration(v);
        if (ms < minMs || ms > maxMs) {
          ctx.addIssue({ code: 'custom', message: `must be between ${minMs} ms and ${maxMs / 1000} s; got ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return v;
      } catch (err) {
        if (!(err instanceof UnitError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
    });

export const ClusterSchema = z
  .strictObject({
    node_id: z
      .string({ error: 'expected a string' })
      .regex(NODE_ID, { error: 'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit' })
      .optional()
      .describe('This node\'s id in the relay registry. Not set: an id generated once and kept in node-id next to the pid file (data/node-id by default), so a restarted node keeps its id.'),
    public_host: publicHost
      .optional()
      .describe('Host name or IP put in the TURN URLs that point at this node (every node hands them out). Default: signaling.public_host; with neither, the node\'s listening address when it is a specific IP, else the first relay_ip.'),
    region: z
      .string({ error: 'expected a string' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'expected 1-63 letters, digits, ".", "_" or "-"' })
      .optional()
      .describe('This node\'s region (e.g. "eu-west"); POST /v1/ice-servers with {"region": ...} prefers relays of that region. Not set: none.'),
    heartbeat: durationMs('2s', 100, 60_000).describe('How often this node refreshes its registry entry (load, state) in Redis (100ms to 60s).'),
    ttl: durationMs('10s', 500, 600_000).describe('How long a registry entry lives without a heartbeat: a node that stops heartbeating (crash, partition) leaves the pool within it (500ms to 600s, more than two heartbeats).'),
  }, { error: 'expected an object {"node_id": "...", "public_host": "...", "region": "...", "heartbeat": "2s", "ttl": "10s"}' })
  .refine((c) => parseDuration(c.ttl) > 2 * parseDuration(c.heartbeat), { path: ['ttl'], error: 'must be more than twice cluster.heartbeat (one lost heartbeat must not drop the node)' })
  .prefault({})
  .describe('A fleet of relays sharing one Redis (cluster mode, on when storage is redis://): each node registers in the relay registry with a TTL refreshed every heartbeat; any node\'s /v1/ice-servers hands out the least loaded live relays. Ignored with SQLite storage. Changes need a restart.');

export type ClusterConfig = z.infer<typeof ClusterSchema>;
