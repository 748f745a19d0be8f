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
 * closed with code 4000 "replaced". In a fleet (storage on Redis) all of this holds across nodes;
 * a message to a peer on another node while Redis is unreachable gets `unavailable`.
 *
 * Errors never close the connection, except: a frame over `maxFrameBytes` (close 1009), sustained
 * flooding (close 1008), a missed heartbeat pong (terminated), replacement (4000), shutdown (1001),
 * the account disabled, deleted or revoked (1008 "account closed"), the API key the socket was
 * opened with revoked (4401 "credential revoked"), the signaling token it was opened with expired
 * (4401 "credential expired", at the first heartbeat after the expiry).
 *
 * This module is the one definition of the frames, shared by the server (signaling/ws/) and the
 * SDK (client/, which imports its types only: it ships to browsers without zod). Encoding and
 * the server's own parsing shortcuts stay in signaling/ws/ (frames.ts, splice.ts).
 */
import { z } from 'zod';

export const PEER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const PeerId = z.string().regex(PEER_ID_PATTERN, 'must be 1..64 characters of [A-Za-z0-9_.-]');

/** A client's own message id, echoed back in error frames about that message. */
export const MessageId = z.union([z.string().max(64), z.number().finite()]);

// Payload objects are loose: members beyond these are forwarded unchanged.
const SessionDescription = <const T extends readonly [string, ...string[]]>(types: T) =>
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
export type OfferFrame = z.infer<typeof OfferFrame>;
export type AnswerFrame = z.infer<typeof AnswerFrame>;
export type CandidateFrame = z.infer<typeof CandidateFrame>;
export type ByeFrame = z.infer<typeof ByeFrame>;
export type PingFrame = z.infer<typeof PingFrame>;
export type CandidateInit = z.infer<typeof CandidateInit>;
/** The frames routed to another peer. */
export type RoutedFrame = Exclude<ClientFrame, { type: 'ping' }>;

export const ERROR_CODES = [
  'bad_frame',
  'too_large',
  'rate_limited',
  'peer_unavailable',
  'binary_not_supported',
  'unavailable',
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
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;
export type PongFrame = z.infer<typeof PongFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** WebSocket close codes the server uses. */
export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  replaced: 4000,
  /** The API key the socket was opened with was revoked, or its signaling token expired. */
  credentialEnded: 4401,
} as const;
