/**
 * The signaling protocol of `GET /v1/signal` as the SDK sees it. The frames are defined once, in
 * protocol/signaling.ts; the SDK imports their types only (it ships to browsers without a schema
 * library), so server frames are checked here by hand and anything malformed is dropped.
 */
import type { CandidateInit, ClientFrame, ErrorFrame, ServerFrame } from '../protocol/signaling.js';
import type { IceCandidateInit } from './types.js';

type Delivered<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** The server frames the SDK acts on, as parseServerMessage returns them. */
export type ServerMessage =
  | Delivered<'welcome' | 'pong' | 'offer' | 'answer' | 'candidate'>
  /** A bye's payload is not read. */
  | Omit<Delivered<'bye'>, 'payload'>
  /** `code` is one of the protocol's SignalErrorCode, or one a newer server added. */
  | (Omit<ErrorFrame, 'code'> & { code: string });

/** The frames the SDK sends (no message ids: it does not match errors to messages). */
export type ClientMessage = ClientFrame extends infer F ? (F extends unknown ? Omit<F, 'id'> : never) : never;

/** The frame that carries the local description to `to`. */
export function descriptionMessage(type: 'offer' | 'answer', to: string, sdp: string): ClientMessage {
  return type === 'offer' ? { type, to, payload: { type, sdp } } : { type, to, payload: { type, sdp } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || v === null || check(v);

function parseCandidate(p: unknown): CandidateInit | null | undefined {
  if (p === null) return null;
  if (!isObject(p) || !isString(p.candidate)) return undefined;
  if (!optional(p.sdpMid, isString) || !optional(p.sdpMLineIndex, (x) => typeof x === 'number')) return undefined;
  if (!optional(p.usernameFragment, isString)) return undefined;
  return {
    candidate: p.candidate,
    sdpMid: (p.sdpMid as string | null | undefined) ?? null,
    sdpMLineIndex: (p.sdpMLineIndex as number | null | undefined) ?? null,
    ...(isString(p.usernameFragment) ? { usernameFragment: p.usernameFragment } : {}),
  };
}

/** The frame as a ServerMessage, or null when it is not JSON or not one the SDK understands. */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(v) || !isString(v.type)) return null;
  switch (v.type) {
    case 'welcome':
      return isString(v.peer_id) ? { type: 'welcome', peer_id: v.peer_id } : null;
    case 'offer': {
      const p = v.payload;
      if (!isString(v.from) || !isObject(p) || p.type !== 'offer' || !isString(p.sdp)) return null;
      return { type: 'offer', from: v.from, payload: { type: 'offer', sdp: p.sdp } };
    }
    case 'answer': {
      // As the server accepts (AnswerFrame): a final answer or a provisional one (pranswer).
      const p = v.payload;
      if (!isString(v.from) || !isObject(p) || (p.type !== 'answer' && p.type !== 'pranswer') || !isString(p.sdp)) return null;
      return { type: 'answer', from: v.from, payload: { type: p.type, sdp: p.sdp } };
    }
    case 'candidate': {
      if (!isString(v.from)) return null;
      const payload = parseCandidate(v.payload ?? null);
      return payload === undefined ? null : { type: 'candidate', from: v.from, payload };
    }
    case 'bye':
      return isString(v.from) ? { type: 'bye', from: v.from } : null;
    case 'error':
      if (!isString(v.code)) return null;
      return {
        type: 'error',
        code: v.code,
        message: isString(v.message) ? v.message : v.code,
        ...(isString(v.to) ? { to: v.to } : {}),
        ...(isString(v.id) ? { id: v.id } : {}),
      };
    case 'pong':
      return { type: 'pong' };
    default:
      return null;
  }
}

/** A candidate from an `icecandidate` event in the JSON form signaling carries ('a=' prefix removed). */
export function candidateToJson(c: IceCandidateInit): CandidateInit {
  return {
    candidate: c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    ...(c.usernameFragment ? { usernameFragment: c.usernameFragment } : {}),
  };
}
