/**
 * The server's side of the signaling frames (protocol/signaling.ts): the text of outgoing frames
 * (one JSON.stringify per frame, or none when a routed payload's source text is reused) and how a
 * refused incoming frame is described back to its sender.
 */
import type { z } from 'zod';
import { MessageId, type RoutedFrame, type SignalErrorCode } from '../../protocol/signaling.js';
import { NO_PAYLOAD, payloadSpan } from './splice.js';

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
