/**
 * One signaling WebSocket: the per-frame path. Rate limit, size check, one JSON.parse, one
 * safeParse, then the hub routes it. No logging here, and nothing a client sends can throw out.
 */
import type { WebSocket, RawData } from 'ws';
import type { Hub, PeerSession } from './hub.js';
import type { SignalLimits } from './limits.js';
import { ClientFrame, CLOSE } from '../../protocol/signaling.js';
import { PONG_TEXT, describeIssues, salvageId } from './frames.js';
import { TokenBucket } from './rate-limiter.js';

export class SignalConnection {
  /** Set by any traffic from the client (pong or frame); cleared by each heartbeat ping. */
  alive = true;
  private readonly bucket: TokenBucket;
  /** The rate_limited message, built once (a flood refuses many frames in a row). */
  private readonly rateLimitedMessage: string;

  constructor(
    readonly socket: WebSocket,
    readonly session: PeerSession,
    private readonly hub: Hub,
    private readonly limits: SignalLimits,
    private readonly now: () => number,
  ) {
    this.bucket = TokenBucket.perSecond(limits.ratePerSecond, limits.rateBurst, limits.abuseCloseMs, now());
    this.rateLimitedMessage = `over ${limits.ratePerSecond} frames/s (burst ${limits.rateBurst}): frame dropped`;
    socket.on('message', this.onMessage);
    socket.on('pong', this.onPong);
  }

  private readonly onPong = (): void => {
    this.alive = true;
  };

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    this.alive = true;
    const session = this.session;
    if (!session.open) return;
    const verdict = this.bucket.take(this.now());
    if (verdict !== 'ok') {
      if (verdict === 'abusive') {
        this.hub.detach(session); // no more frames routed from or to it
        this.socket.close(CLOSE.policy, 'rate limit exceeded');
        return;
      }
      session.sendError('rate_limited', this.rateLimitedMessage);
      return;
    }
    if (isBinary) {
      session.sendError('binary_not_supported', 'frames are JSON text; binary frames are not accepted');
      return;
    }
    // Text frames arrive as one Buffer (ws joins fragments).
    const bytes = data as Buffer;
    if (bytes.length > this.limits.maxMessageBytes) {
      session.sendError('too_large', `frame of ${bytes.length} bytes is over the ${this.limits.maxMessageBytes}-byte limit`);
      return;
    }
    const text = bytes.toString();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      session.sendError('bad_frame', 'not JSON');
      return;
    }
    const parsed = ClientFrame.safeParse(value);
    if (!parsed.success) {
      session.sendError('bad_frame', describeIssues(parsed.error), salvageId(value));
      return;
    }
    const frame = parsed.data;
    if (frame.type === 'ping') {
      session.link.send(PONG_TEXT);
      return;
    }
    this.hub.route(session, frame, text);
  };
}
