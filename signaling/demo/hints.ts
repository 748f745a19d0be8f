/**
 * What the demo page says when something goes wrong: a short title and a hint that tells the user
 * what to check or do next. Pure (no DOM), so both tabs word the same failure the same way.
 */

/** A failure as the page saw it. */
export interface Failure {
  /** FerryError code ('unauthorized', 'peer_unavailable', 'timeout', ...) or the page's own ('ice_failed', 'peer_left', 'credential_expired', ...). */
  readonly code: string;
  /** The error's own message, shown under the hint. */
  readonly message: string;
  /** HTTP status or WebSocket close code, when there was one. */
  readonly status?: number;
}

/** What the page knows that makes a hint concrete. */
export interface HintContext {
  /** The page's origin, where Ferry's API and signaling are. */
  readonly origin: string;
  /** The other peer's id. */
  readonly peer: string;
  /** Relay only (iceTransportPolicy 'relay'). */
  readonly relayOnly: boolean;
  /** The TURN URLs from /v1/ice-servers (e.g. turn:localhost:3478?transport=udp). */
  readonly turnUrls: readonly string[];
  /** The last icecandidateerror events, e.g. "turn:…: 701 TURN host lookup received error". */
  readonly candidateErrors: readonly string[];
}

export interface Hint {
  readonly title: string;
  readonly hint: string;
}

const TOKEN_HINT =
  'In the development setup, restart Ferry and open the two new demo URLs it prints; ' +
  'otherwise mint a fresh token with POST /v1/signal-tokens (API key) and put it after #token= in the URL.';

function turnWhere(ctx: HintContext): string {
  const urls = ctx.turnUrls.filter((u) => /^turns?:/i.test(u));
  return urls.length > 0 ? urls.join(', ') : 'the TURN URLs from /v1/ice-servers';
}

export function hintFor(f: Failure, ctx: HintContext): Hint {
  switch (f.code) {
    case 'unauthorized':
    case 'forbidden':
      return { title: 'Signaling token refused', hint: `The token is missing, expired or not valid for this Ferry. ${TOKEN_HINT}` };
    case 'credential_expired':
      return { title: 'Signaling token expired', hint: `Ferry closed the signaling connection because its token expired (calls in progress keep running). ${TOKEN_HINT}` };
    case 'account_closed':
      return { title: 'Account closed', hint: 'The account of this token was disabled, deleted or revoked by the operator; ask for it to be enabled, then use a fresh token.' };
    case 'replaced':
      return { title: 'Replaced by another tab', hint: `Another tab connected with the same peer id, so Ferry closed this one. Give each tab its own id (me=…).` };
    case 'network':
    case 'signaling_closed':
      return { title: 'Ferry not reachable', hint: `The signaling service at ${ctx.origin} did not answer or closed the connection: check that Ferry is running there, then reload this page.` };
    case 'rate_limited':
      return { title: 'Too many requests', hint: 'Ferry is limiting this account or address: wait a few seconds, then try again.' };
    case 'bad_peer':
      return { title: 'Bad peer id', hint: 'Peer ids are 1 to 64 characters of A-Z a-z 0-9 _ . - and a peer cannot call itself.' };
    case 'peer_unavailable':
      return { title: `${ctx.peer || 'The peer'} is not online`, hint: `No tab is connected as "${ctx.peer}": open the other demo URL (me=${ctx.peer}) in another tab, or check the peer id.` };
    case 'peer_left':
      return { title: `${ctx.peer} left the call`, hint: `${ctx.peer} hung up or closed the tab. Press Call to call again once ${ctx.peer} is back.` };
    case 'connection_lost':
      return { title: `Connection to ${ctx.peer} lost`, hint: `No packets came through for a while: ${ctx.peer}'s tab may have closed or the network (or relay) went away.` };
    case 'ice_failed':
      return ctx.relayOnly
        ? { title: 'ICE failed: no path through the relay worked', hint: `Relay only: check that the TURN server (${turnWhere(ctx)}) is reachable from this browser (its port over UDP and TCP, or TLS) and that Ferry's "peers" settings allow the relayed addresses.${errorsNote(ctx)}` }
        : { title: 'ICE failed: the two browsers found no working path', hint: `Neither a direct path nor the relay worked: check that the TURN server (${turnWhere(ctx)}) is reachable from this browser (its port over UDP and TCP).${errorsNote(ctx)}` };
    case 'timeout':
      return { title: 'The call did not connect in time', hint: `${ctx.peer} did not answer or ICE took too long: check that ${ctx.peer}'s tab is open and connected, then press Call again.${errorsNote(ctx)}` };
    case 'rejected':
      return { title: `${ctx.peer} hung up`, hint: `${ctx.peer} ended the call before it connected. Press Call to try again.` };
    case 'token_in_query':
      return { title: 'Put the token after #', hint: 'The token belongs in the URL fragment (/demo#token=…), which the browser never sends to the server; a token in the query string (?token=) ends up in server logs. Move it after #, then reload.' };
    default:
      return { title: 'Something went wrong', hint: 'See the message below; reload both tabs to start over.' };
  }
}

function errorsNote(ctx: HintContext): string {
  return ctx.candidateErrors.length > 0 ? ` The browser reported: ${ctx.candidateErrors.slice(-3).join('; ')}.` : '';
}

/** The failure a closed signaling socket means, from its close code and reason; null for a normal close. */
export function closeFailure(code: number | undefined, reason: string | undefined): Failure | null {
  const message = `signaling closed (${code ?? 'no code'}${reason ? ` ${reason}` : ''})`;
  if (code === 1000) return null;
  if (code === 4401) return { code: /expired/i.test(reason ?? '') ? 'credential_expired' : 'unauthorized', message, status: code };
  if (code === 4000) return { code: 'replaced', message, status: code };
  if (code === 1008 && /account/i.test(reason ?? '')) return { code: 'account_closed', message, status: code };
  return { code: 'signaling_closed', message, ...(code !== undefined ? { status: code } : {}) };
}
