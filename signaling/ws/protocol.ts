/**
 * The signaling WebSocket protocol (`GET /v1/signal`): JSON text frames, one object per frame.
 *
 * Connect: `wss://HOST/v1/signal?peer_id=ID` with `Authorization: Bearer <api key>`, or
 * `?peer_id=ID&token=<signaling token>` (browsers cannot set headers). `peer_id` is 1..64 characters
 * of [A-Za-z0-9_.-]. A refused upgrade is an HTTP error with a JSON body (`{error: {code, message}}`):
 * 400 bad peer_id, 401 missing or wrong credentials, 429 too many peers in the account.
 *
 * Client → server (`ClientFrame`; every frame may carry `id`, a client message id echoed in errors):
 *   {type: 'offer',     to, payload: {type: 'offer', sdp}}
 *   {type: 'answer',    to, payload: {type: 'answer' | 'pranswer', sdp}}
 *   {type: 'candidate', to, payload: {candidate, sdpMid?, sdpMLineIndex?, usernameFragment?} | null}
 *   {type: 'bye',       to, payload?: any JSON}
 *   {type: 'ping'}                                         → {type: 'pong'}
 *
 * Server → client (`ServerFrame`):
 *   {type: 'welcome', peer_id}                              first frame, once the peer is registered
 *   {type: 'offer'|'answer'|'candidate'|'bye', from, payload}   a message from a peer of the same account
 *   {type: 'pong'}
 *   {type: 'error', code, message, id?, to?}
 *
 * Routing: messages go only to peers of the same account. A message to a peer that is not connected
 * is queued (at most `maxQueuedPerPeer` per target and `maxQueuedPerAccount` per account) for
 * `queueTtlMs` and delivered in order when that peer connects; if it expires first, the sender gets
 * `peer_unavailable` with the `to` and `id` of the message. `bye` is never queued (a peer that is
 * gone needs no goodbye). A second connection with the same peer_id replaces the first, which is
 * closed with code 4000 "replaced".
 *
 * Errors never close the connection, except: a frame over `maxFrameBytes` (close 1009), sustained
 * flooding (close 1008), a missed heartbeat pong (terminated), replacement (4000), shutdown (1001),
 * the account disabled, deleted or revoked (1008 "account closed"), the API key the socket was
 * opened with revoked (4401 "credential revoked"), the signaling token it was opened with expired
 * (4401 "credential expired", at the first heartbeat after the expiry).
 */
import { z } from 'zod';
import { NO_PAYLOAD, payloadSpan } from './splice.js';

export const PEER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const PeerId = z.string().regex(PEER_ID_PATTERN, 'must be 1..64 characters of [A-Za-z0-9_.-]');

/** A client's own message id, echoed back in error frames about that message. */
export const MessageId = z.union([z.string().max(64), z.number().finite()]);

// Payload objects are loose: members beyond these are forwarded unchanged.
const SessionDescription = (types: readonly [string, ...string[]]) =>
  z.looseObject({
    type: z.enum(types),
    sdp: z.string(),
  });

/** RTCIceCandidateInit as produced by RTCIceCandidate.toJSON() (absent members may be null). */
export const CandidateInit = z.looseObject({
  candidate: z.string(),
  sdpMid: z.string().nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(65535).nullable().optional(),
  usernameFragment: z.string().nullable().optional(),
});

export const OfferFrame = z.strictObject({
  type: z.literal('offer'),
  to: PeerId,
  payload: SessionDescription(['offer']),
  id: MessageId.optional(),
});

export const AnswerFrame = z.strictObject({
  type: z.literal('answer'),
  to: PeerId,
  payload: SessionDescription(['answer', 'pranswer']),
  id: MessageId.optional(),
});

export const CandidateFrame = z.strictObject({
  type: z.literal('candidate'),
  to: PeerId,
  /** null: end of candidates. */
  payload: CandidateInit.nullable(),
  id: MessageId.optional(),
});

export const ByeFrame = z.strictObject({
  type: z.literal('bye'),
  to: PeerId,
  payload: z.unknown().optional(),
  id: MessageId.optional(),
});

export const PingFrame = z.strictObject({
  type: z.literal('ping'),
  id: MessageId.optional(),
});

export const ClientFrame = z.discriminatedUnion('type', [OfferFrame, AnswerFrame, CandidateFrame, ByeFrame, PingFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;
/** The frames routed to another peer. */
export type RoutedFrame = Exclude<ClientFrame, { type: 'ping' }>;

export const ERROR_CODES = [
  'bad_frame',
  'too_large',
  'rate_limited',
  'peer_unavailable',
  'binary_not_supported',
] as const;
export type SignalErrorCode = (typeof ERROR_CODES)[number];

export const WelcomeFrame = z.strictObject({ type: z.literal('welcome'), peer_id: PeerId });
export const PongFrame = z.strictObject({ type: z.literal('pong') });
export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  id: MessageId.optional(),
  to: z.string().optional(),
});
const delivered = <T extends 'offer' | 'answer' | 'candidate' | 'bye', P extends z.ZodType>(type: T, payload: P) =>
  z.strictObject({ type: z.literal(type), from: PeerId, payload });

export const ServerFrame = z.discriminatedUnion('type', [
  WelcomeFrame,
  PongFrame,
  ErrorFrame,
  delivered('offer', OfferFrame.shape.payload),
  delivered('answer', AnswerFrame.shape.payload),
  delivered('candidate', CandidateFrame.shape.payload),
  delivered('bye', ByeFrame.shape.payload),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** WebSocket close codes the server uses. */
export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  replaced: 4000,
  /** The API key the socket was opened with was revoked, or its signaling token expired. */
  credentialEnded: 4401,
} as const;

// ---- encoding (one JSON.stringify per outgoing frame) ----

export function welcomeText(peerId: string): string {
  return JSON.stringify({ type: 'welcome', peer_id: peerId });
}

export const PONG_TEXT = '{"type":"pong"}';

export function errorText(
  code: SignalErrorCode,
  message: string,
  id?: string | number,
  to?: string,
): string {
  return JSON.stringify({ type: 'error', code, message, id, to });
}

/**
 * The frame a target receives for a routed message: `{"type","from","payload"}`. With `source` (the
 * text the frame was parsed from) the payload's source text is reused rather than serialized again
 * (see ./splice.ts); `type` and `from` are a literal and a peer id, safe to write unescaped.
 */
export function deliveredText(frame: RoutedFrame, from: string, source?: string): string {
  if (source !== undefined) {
    const start = payloadSpan(source, spanEnd);
    if (start === NO_PAYLOAD && frame.payload === undefined) return `{"type":"${frame.type}","from":"${from}"}`;
    if (start >= 0) return `{"type":"${frame.type}","from":"${from}","payload":${source.slice(start, spanEnd[0])}}`;
  }
  return JSON.stringify({ type: frame.type, from, payload: frame.payload });
}
const spanEnd: [number] = [0];

/** One line naming the first failing field, e.g. `payload.sdp: Invalid input: expected string…`. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid frame';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'frame';
  const more = error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : '';
  return `${where}: ${issue.message}${more}`;
}

/** The `id` of an unparsable-by-schema frame, when it has a usable one (to echo it back). */
export function salvageId(value: unknown): string | number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return MessageId.safeParse(id).success ? (id as string | number) : undefined;
}
