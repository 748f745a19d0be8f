// Two werift peers in this process connected relay-only through a TURN server, with a data channel
// from `a` to `b`. Offer/answer use full (non-trickle) descriptions, as both peers live here.
import './werift-quirks.js';
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import { until, withTimeout } from './wait.js';

export interface IceServer { urls: string; username: string; credential: string }

export interface WeriftPair {
  a: RTCPeerConnection;
  b: RTCPeerConnection;
  /** a's end of the data channel. */
  tx: RTCDataChannel;
  /** b's end. */
  rx: RTCDataChannel;
  close(): Promise<void>;
}

export interface ConnectPairOptions {
  /** The data channel's label. */
  readonly label: string;
  /** Runs once the offerer has gathered, before the answerer sees the offer (throw to give up). */
  readonly offerGathered?: (a: RTCPeerConnection) => void;
  /** Runs when b's data channel arrives, before waiting for both ends to open. */
  readonly remoteChannel?: (rx: RTCDataChannel) => void;
}

/** Resolves once `pc` has finished ICE gathering. */
export async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') { unSubscribe(); resolve(); }
    });
  });
}

/** Connects a and b through `server` with iceTransportPolicy 'relay'; on failure both are closed. */
export async function connectRelayPair(server: IceServer, opts: ConnectPairOptions): Promise<WeriftPair> {
  const cfg = { iceServers: [server], iceTransportPolicy: 'relay' as const };
  const a = new RTCPeerConnection(cfg);
  const b = new RTCPeerConnection(cfg);
  const close = async (): Promise<void> => { await Promise.allSettled([a.close(), b.close()]); };
  try {
    const tx = a.createDataChannel(opts.label);
    const rxP = new Promise<RTCDataChannel>((resolve) => b.onDataChannel.subscribe((ch) => resolve(ch)));
    await a.setLocalDescription(await a.createOffer());
    await withTimeout(gathered(a), 15_000, 'offerer ICE gathering');
    opts.offerGathered?.(a);
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await withTimeout(gathered(b), 15_000, 'answerer ICE gathering');
    await a.setRemoteDescription(b.localDescription!);
    const rx = await withTimeout(rxP, 20_000, 'remote data channel');
    opts.remoteChannel?.(rx);
    await until(() => tx.readyState === 'open' && rx.readyState === 'open', 20_000, 'data channels open');
    return { a, b, tx, rx, close };
  } catch (err) {
    await close();
    throw err;
  }
}
