/**
 * What the Redis signal router keeps in Redis and sends between nodes: key names, the Lua scripts
 * (each one atomic, so a message and a registration never cross unseen: a message is either
 * published to the node that holds its peer or queued where that peer's registration drains it),
 * and the text of the notes nodes publish to each other, parsed defensively (they come from the
 * network).
 *
 * Keys (KEY_PREFIX "ferry:"):
 *   ferry:sig:peer:<account>:<peer>  "<node> <boot> <conn>": where a peer is connected (TTL DIRECTORY_TTL_MS, refreshed)
 *   ferry:sig:q:<account>:<peer>     list of "<expiresAt> <qid> <header JSON>\n<frame>": messages waiting for it (TTL queueTtl)
 *   ferry:sig:alive:<node>           the node's boot id while it runs (TTL cluster.ttl, set every heartbeat)
 * Channel ferry:sig:to:<node>: one subscriber per node.
 */
import { KEY_PREFIX } from './client.js';

const SIG = `${KEY_PREFIX}sig:`;
// Peer ids have no ':' (protocol PEER_ID_PATTERN), so "<account>:<peer>" splits one way only.
export const peerKey = (accountId: string, peerId: string): string => `${SIG}peer:${accountId}:${peerId}`;
export const queueKey = (accountId: string, peerId: string): string => `${SIG}q:${accountId}:${peerId}`;
export const ALIVE_PREFIX = `${SIG}alive:`;
export const CHANNEL_PREFIX = `${SIG}to:`;
export const channelOf = (nodeId: string): string => `${CHANNEL_PREFIX}${nodeId}`;

/** How long a directory entry lives without a refresh (a node refreshes its own every third of it). */
export const DIRECTORY_TTL_MS = 15 * 60_000;

/**
 * FORWARD keys: peer, queue. argv: alive prefix, channel prefix, note to publish, queue entry
 * ('' = never queue: a bye), max per peer, queue TTL ms.
 * Returns 1 published, 2 queued, 0 dropped (a bye to an absent peer), -1 queue full.
 * An entry whose node is no longer alive (or restarted) is deleted: its peer is absent.
 * A live owner whose subscriber is down (PUBLISH reached no one) gets the message queued: it
 * drains its peers' queues when its subscriber is back.
 */
export const FORWARD_LUA = `
local owner = redis.call('GET', KEYS[1])
if owner then
  local node, boot = string.match(owner, '^(%S+) (%S+) ')
  if node and redis.call('GET', ARGV[1] .. node) == boot then
    if redis.call('PUBLISH', ARGV[2] .. node, ARGV[3]) > 0 then return 1 end
  else
    redis.call('DEL', KEYS[1])
  end
end
if ARGV[4] == '' then return 0 end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 2
`;

/**
 * CLAIM keys: peer, queue. argv: "<node> <boot> <conn>", directory TTL ms, mode ('new' | 'resume'),
 * alive prefix, now (ms), queue TTL ms.
 * 'new' (a connection registered): takes the entry whoever holds it. 'resume' (a refresh, or
 * Redis back): keeps the entry when it is ours or its holder is gone, else answers {'lost'} (a
 * newer connection of this peer id registered elsewhere meanwhile).
 * Returns {previous entry or '', queued entries not expired...}; expired entries stay for the
 * node that queued them, which tells their sender.
 */
export const CLAIM_LUA = `
local old = redis.call('GET', KEYS[1])
if ARGV[3] == 'resume' and old and old ~= ARGV[1] then
  local node, boot = string.match(old, '^(%S+) (%S+) ')
  if node and redis.call('GET', ARGV[4] .. node) == boot then return {'lost'} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local out = {old or ''}
local items = redis.call('LRANGE', KEYS[2], 0, -1)
if #items > 0 then
  redis.call('DEL', KEYS[2])
  local now = tonumber(ARGV[5])
  local keep = {}
  for _, e in ipairs(items) do
    local exp = tonumber(string.match(e, '^(%d+) '))
    if exp and exp > now then out[#out + 1] = e else keep[#keep + 1] = e end
  end
  if #keep > 0 then
    redis.call('RPUSH', KEYS[2], unpack(keep))
    redis.call('PEXPIRE', KEYS[2], ARGV[6])
  end
end
return out
`;

/** RELEASE keys: peer. argv: the value to match (exact), or a prefix when argv[2] is 'prefix'. Deletes it only while it is ours. */
export const RELEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v == ARGV[1] or (ARGV[2] == 'prefix' and string.sub(v, 1, #ARGV[1]) == ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** TAKE keys: queue. argv: an entry's prefix "<expiresAt> <qid> ". Removes that entry; 1 if it was still there. */
export const TAKE_LUA = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for _, e in ipairs(items) do
  if string.sub(e, 1, #ARGV[1]) == ARGV[1] then
    redis.call('LREM', KEYS[1], 1, e)
    return 1
  end
end
return 0
`;

/** Who sent a message: enough to find its connection again, on its node. */
export interface SenderRef {
  readonly node: string;
  readonly boot: string;
  readonly conn: number;
  readonly peer: string;
  readonly id: string | number | null;
}

/** A message handed to another node ('d'), queued, or drained. */
export interface Carried {
  readonly accountId: string;
  readonly to: string;
  readonly from: SenderRef;
  readonly bye: boolean;
  /** The frame exactly as the target receives it. */
  readonly text: string;
}

/** Notes between nodes: d deliver, u undeliverable (to the sender's node), r replaced (to the old holder's node). */
export type Note =
  | ({ kind: 'd' } & Carried)
  | { kind: 'u'; accountId: string; peer: string; boot: string; conn: number; id: string | number | null; to: string; message: string }
  | { kind: 'r'; accountId: string; peer: string; boot: string; conn: number };

export function deliverNote(c: Carried): string {
  const f = c.from;
  return `d${JSON.stringify([c.accountId, c.to, f.node, f.boot, f.conn, f.peer, f.id, c.bye ? 1 : 0])}\n${c.text}`;
}

export function undeliverableNote(accountId: string, from: SenderRef, to: string, message: string): string {
  return `u${JSON.stringify([accountId, from.peer, from.boot, from.conn, from.id, to, message])}`;
}

export function replacedNote(accountId: string, peer: string, boot: string, conn: number): string {
  return `r${JSON.stringify([accountId, peer, boot, conn])}`;
}

/** A queue entry: "<expiresAt> <qid> <header>\n<text>"; its prefix up to the header finds it again. */
export function queueEntry(expiresAt: number, qid: string, c: Carried): { entry: string; prefix: string } {
  const f = c.from;
  const prefix = `${expiresAt} ${qid} `;
  return { prefix, entry: `${prefix}${JSON.stringify([f.node, f.boot, f.conn, f.peer, f.id])}\n${c.text}` };
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 256;
const isConn = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) > 0;
const isId = (x: unknown): x is string | number | null =>
  x === null || (typeof x === 'string' && x.length <= 64) || (typeof x === 'number' && Number.isFinite(x));

function header(text: string, from: number): { fields: unknown[]; rest: number } | null {
  const nl = text.indexOf('\n', from);
  const end = nl < 0 ? text.length : nl;
  try {
    const fields: unknown = JSON.parse(text.slice(from, end));
    return Array.isArray(fields) ? { fields, rest: nl < 0 ? -1 : nl + 1 } : null;
  } catch {
    return null;
  }
}

/** A note published by a node, or null when it is not one (never throws). */
export function parseNote(text: string): Note | null {
  const h = header(text, 1);
  if (h === null) return null;
  const f = h.fields;
  switch (text[0]) {
    case 'd': {
      const [accountId, to, node, boot, conn, peer, id, bye] = f;
      if (!isStr(accountId) || !isStr(to) || !isStr(node) || !isStr(boot) || !isConn(conn) || !isStr(peer) || !isId(id) || h.rest < 0) return null;
      return { kind: 'd', accountId, to, from: { node, boot, conn, peer, id }, bye: bye === 1, text: text.slice(h.rest) };
    }
    case 'u': {
      const [accountId, peer, boot, conn, id, to, message] = f;
      if (!isStr(accountId) || !isStr(peer) || !isStr(boot) || !isConn(conn) || !isId(id) || !isStr(to) || typeof message !== 'string') return null;
      return { kind: 'u', accountId, peer, boot, conn, id, to, message: message.slice(0, 200) };
    }
    case 'r': {
      const [accountId, peer, boot, conn] = f;
      if (!isStr(accountId) || !isStr(peer) || !isStr(boot) || !isConn(conn)) return null;
      return { kind: 'r', accountId, peer, boot, conn };
    }
    default:
      return null;
  }
}

/** A drained queue entry (for `accountId`, `to`), or null when malformed. */
export function parseQueueEntry(entry: string, accountId: string, to: string): Carried | null {
  const sp1 = entry.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : entry.indexOf(' ', sp1 + 1);
  if (sp2 < 0) return null;
  const h = header(entry, sp2 + 1);
  if (h === null || h.rest < 0) return null;
  const [node, boot, conn, peer, id] = h.fields;
  if (!isStr(node) || !isStr(boot) || !isConn(conn) || !isStr(peer) || !isId(id)) return null;
  return { accountId, to, from: { node, boot, conn, peer, id }, bye: false, text: entry.slice(h.rest) };
}
