/**
 * The signaling protocol of `GET /v1/signal` as the SDK sees it. Server frames are checked by
 * hand (the SDK ships to browsers without a schema library); anything malformed is dropped.
 */
import type { IceCandidateInit } from './types.js';

export type ServerMessage =
  | { type: 'welcome'; peer_id: string }
  | { type: 'offer' | 'answer'; from: string; payload: { type: 'offer' | 'answer'; sdp: string } }
  | { type: 'candidate'; from: string; payload: IceCandidateInit | null }
  | { type: 'bye'; from: string }
  | { type: 'error'; code: string; message: string; to?: string; id?: string }
  | { type: 'pong' };

export type ClientMessage =
  | { type: 'offer' | 'answer'; to: string; payload: { type: 'offer' | 'answer'; sdp: string } }
  | { type: 'candidate'; to: string; payload: IceCandidateInit | null }
  | { type: 'bye'; to: string }
  | { type: 'ping' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || v === null || check(v);

function parseCandidate(p: unknown): IceCandidateInit | null | undefined {
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
    case 'offer':
    case 'answer': {
      const p = v.payload;
      if (!isString(v.from) || !isObject(p) || p.type !== v.type || !isString(p.sdp)) return null;
      return { type: v.type, from: v.from, payload: { type: v.type, sdp: p.sdp } };
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
export function candidateToJson(c: IceCandidateInit): IceCandidateInit {
  return {
    candidate: c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    ...(c.usernameFragment ? { usernameFragment: c.usernameFragment } : {}),
  };
}
