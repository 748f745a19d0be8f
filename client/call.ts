/**
 * One peer-to-peer session: an RTCPeerConnection with one data channel, negotiated through the
 * signaling socket. The caller offers and creates the channel; the callee answers and receives
 * it. ICE trickles both ways: local candidates are held until our description has been sent (so
 * the other side never sees a candidate before the offer it belongs to), remote candidates until
 * the remote description is set.
 */
import type { CandidateInit } from '../protocol/signaling.js';
import { FerryChannel } from './channel.js';
import { FerryError } from './errors.js';
import { candidateToJson, descriptionMessage, type ClientMessage } from './messages.js';
import { pathFromStats, selectedPair, type SelectedPair } from './path.js';
import type { CallPath, DataChannelLike, IceCandidateInit, PeerConnectionLike, SessionDescriptionInit } from './types.js';

export type CallRole = 'caller' | 'callee';

/** What a Call needs from its client. */
export interface CallHost {
  send(msg: ClientMessage): boolean;
  /** The call ended; the client forgets it. */
  ended(call: Call): void;
}

export const CHANNEL_LABEL = 'ferry';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Call {
  /** Fired once when the call ends: 'local' (close()), 'remote' (bye), or why it failed. */
  onclose: ((reason: string) => void) | null = null;
  private channelWrapper: FerryChannel | undefined;
  private remoteSet = false;
  private descriptionSent = false;
  private readonly remoteQueue: IceCandidateInit[] = [];
  private readonly localQueue: CandidateInit[] = [];
  private endedReason: string | undefined;
  private answered = false;
  private openResolve!: () => void;
  private openReject!: (err: Error) => void;
  /** Resolves when the data channel is open; rejects if the call ends first. */
  readonly opened: Promise<void>;

  constructor(
    private readonly host: CallHost,
    /** The other peer's id. */
    readonly peerId: string,
    readonly role: CallRole,
    /** The underlying RTCPeerConnection (of whichever implementation was injected). */
    readonly pc: PeerConnectionLike,
  ) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.openResolve = resolve;
      this.openReject = reject;
    });
    this.opened.catch(() => { /* observed by whoever awaits it */ });
    pc.onicecandidate = (ev) => {
      const c = ev?.candidate;
      if (!c || !c.candidate) return; // end of candidates: nothing to relay
      const json = candidateToJson(c);
      if (this.descriptionSent) this.host.send({ type: 'candidate', to: this.peerId, payload: json });
      else this.localQueue.push(json);
    };
    pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      if (state === 'failed') this.end('connection failed', false);
      else if (state === 'closed') this.end('connection closed', false);
    };
    if (role === 'callee') {
      pc.ondatachannel = (ev) => { if (!this.channelWrapper) this.attach(ev.channel); };
    }
  }

  /** The data channel; present once the call has been handed to the application. */
  get channel(): FerryChannel {
    if (!this.channelWrapper) throw new FerryError('not_ready', 'the call has no data channel yet');
    return this.channelWrapper;
  }

  get closed(): boolean {
    return this.endedReason !== undefined;
  }

  /** Why the call ended, if it has. */
  get closeReason(): string | undefined {
    return this.endedReason;
  }

  /** Caller side: create the channel, offer, send the offer. */
  async start(): Promise<void> {
    this.attach(this.pc.createDataChannel(CHANNEL_LABEL, { ordered: true }));
    const offer = await this.pc.createOffer();
    if (this.closed) return;
    await this.pc.setLocalDescription({ type: 'offer', sdp: offer.sdp });
    if (this.closed) return;
    this.sendDescription('offer', offer.sdp);
  }

  /** Callee side: apply the offer, answer, send the answer. */
  async answer(offer: SessionDescriptionInit): Promise<void> {
    await this.applyRemote(offer);
    if (this.closed) return;
    const answer = await this.pc.createAnswer();
    if (this.closed) return;
    await this.pc.setLocalDescription({ type: 'answer', sdp: answer.sdp });
    if (this.closed) return;
    this.sendDescription('answer', answer.sdp);
  }

  /** True while the caller waits for the answer (used to detect glare). */
  get awaitingAnswer(): boolean {
    return this.role === 'caller' && !this.answered && !this.closed;
  }

  /** Caller side: the answer arrived (a provisional one, pranswer, keeps the call awaiting the final one). */
  async handleAnswer(answer: SessionDescriptionInit): Promise<void> {
    if (!this.awaitingAnswer) return;
    if (answer.type !== 'pranswer') this.answered = true;
    try {
      await this.applyRemote(answer);
    } catch (err) {
      this.end(`could not apply the answer: ${(err as Error)?.message ?? err}`, true);
    }
  }

  /** A remote candidate; queued until the remote description is set. */
  handleCandidate(candidate: IceCandidateInit | null): void {
    if (candidate === null || candidate.candidate === '' || this.closed) return;
    const c = { ...candidate };
    if ((c.sdpMid === null || c.sdpMid === undefined) && (c.sdpMLineIndex === null || c.sdpMLineIndex === undefined)) {
      c.sdpMLineIndex = 0; // one m-line: the data channel
    }
    if (!this.remoteSet) this.remoteQueue.push(c);
    else this.addCandidate(c);
  }

  /**
   * 'relay' when the selected candidate pair has a relay candidate at either end, else 'direct'.
   * Polls getStats() until a pair is selected (up to `timeoutMs`).
   */
  async path(timeoutMs = 5000): Promise<CallPath> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const path = pathFromStats(await this.pc.getStats());
      if (path) return path;
      if (Date.now() >= end) throw new FerryError('no_selected_pair', 'no selected ICE candidate pair in getStats()');
      await sleep(100);
    }
  }

  /** The selected candidate pair with its local and remote candidate stats, or null. */
  async selectedPair(): Promise<SelectedPair | null> {
    return selectedPair(await this.pc.getStats());
  }

  /** Ends the call: tells the other peer (bye) and closes the connection. */
  close(): void {
    this.end('local', true);
  }

  /** @internal Ends the call; `notify` sends a bye to the other peer. */
  end(reason: string, notify: boolean): void {
    if (this.endedReason !== undefined) return;
    this.endedReason = reason;
    if (notify) this.host.send({ type: 'bye', to: this.peerId });
    this.openReject(new FerryError(reason === 'glare' ? 'glare' : 'closed', `call with ${this.peerId} ended before it opened: ${reason}`));
    this.channelWrapper?.close();
    try {
      Promise.resolve(this.pc.close()).catch(() => { /* closing anyway */ });
    } catch { /* already closed */ }
    this.channelWrapper?.fireClose();
    this.host.ended(this);
    this.onclose?.(reason);
  }

  private attach(raw: DataChannelLike): void {
    const ch = new FerryChannel(raw);
    this.channelWrapper = ch;
    ch.whenOpen().then(() => { if (!this.closed) this.openResolve(); });
    ch.whenClosed().then(() => this.end('channel closed', false));
  }

  private sendDescription(type: 'offer' | 'answer', fallbackSdp: string | undefined): void {
    let sdp: string | undefined;
    try { sdp = this.pc.localDescription?.sdp; } catch { /* node-datachannel throws before it has one */ }
    sdp ||= fallbackSdp;
    if (!sdp) {
      this.end(`no local ${type} SDP`, true);
      return;
    }
    if (!this.host.send(descriptionMessage(type, this.peerId, sdp))) {
      this.end('signaling is closed', false);
      return;
    }
    this.descriptionSent = true;
    for (const c of this.localQueue.splice(0)) this.host.send({ type: 'candidate', to: this.peerId, payload: c });
  }

  private async applyRemote(desc: SessionDescriptionInit): Promise<void> {
    await this.pc.setRemoteDescription({ type: desc.type, sdp: desc.sdp });
    this.remoteSet = true;
    for (const c of this.remoteQueue.splice(0)) this.addCandidate(c);
  }

  private addCandidate(c: IceCandidateInit): void {
    // A candidate from an older session or in a form this implementation rejects must not end the
    // call: ICE uses the others (and the SDP's own candidates).
    try {
      Promise.resolve(this.pc.addIceCandidate(c)).catch(() => { /* ignored */ });
    } catch { /* ignored */ }
  }
}
