/**
 * How much a TCP/TLS client connection may have queued for it (its socket's writableLength),
 * shared by STUN replies and relayed data.
 */

/**
 * Bytes queued for a slow stream client beyond which relayed packets are dropped (stream-link.ts), as
 * a UDP path would drop them, instead of growing memory without bound.
 */
export const RELAYED_BACKLOG_LIMIT = 1 << 20;

/**
 * From this many queued bytes on, a connection stops reading until its queue drains: a client
 * that sends requests and never reads their replies gets TCP backpressure, not server memory.
 */
export const PAUSE_READING_AT = RELAYED_BACKLOG_LIMIT;

/**
 * The hard bound: replies past this many queued bytes are dropped. Pausing keeps a connection
 * below it, as the replies to the rest of one read chunk (at most 64 KB of requests, a few
 * hundred KB of replies) come on top of PAUSE_READING_AT; so does relayed data, which stops at
 * RELAYED_BACKLOG_LIMIT plus one frame. It bounds the queue should a chunk ever be larger.
 */
export const REPLY_BACKLOG_LIMIT = PAUSE_READING_AT + (512 << 10);

/**
 * A connection without an allocation that has more than this queued is closed: it has no relayed
 * data, so the queue is replies it does not read (an honest client's exchange before Allocate is
 * a few hundred bytes), and an unauthenticated client must not hold a megabyte of server memory.
 */
export const UNALLOCATED_REPLY_LIMIT = 64 << 10;
