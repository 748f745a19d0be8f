/**
 * FerryChannel wraps the implementation's RTCDataChannel with the same small surface (send,
 * onmessage, onopen, onclose, readyState) and one addition: messages that arrive before the
 * application sets `onmessage` are kept and handed over when it does, so nothing is lost between
 * the channel opening and the application's handler being attached.
 */
import type { DataChannelLike, MessageData } from './types.js';

export interface ChannelMessageEvent {
  /** string, or ArrayBuffer / Uint8Array (Node implementations) for binary messages. */
  readonly data: unknown;
}

const MAX_BUFFERED = 10_000;

export class FerryChannel {
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  private handler: ((ev: ChannelMessageEvent) => void) | null = null;
  private early: ChannelMessageEvent[] = [];
  private closedFired = false;
  private readonly openWaiters: Array<() => void> = [];
  private readonly closeWaiters: Array<() => void> = [];

  constructor(readonly raw: DataChannelLike) {
    if ('binaryType' in raw) {
      try { raw.binaryType = 'arraybuffer'; } catch { /* read-only in this implementation */ }
    }
    raw.onmessage = (ev) => {
      const msg = { data: ev.data };
      if (this.handler) this.handler(msg);
      else if (this.early.length < MAX_BUFFERED) this.early.push(msg);
    };
    raw.onopen = () => {
      for (const w of this.openWaiters.splice(0)) w();
      this.onopen?.();
    };
    raw.onclose = () => this.fireClose();
  }

  get label(): string {
    return this.raw.label;
  }

  get readyState(): string {
    return this.raw.readyState;
  }

  get onmessage(): ((ev: ChannelMessageEvent) => void) | null {
    return this.handler;
  }

  set onmessage(handler: ((ev: ChannelMessageEvent) => void) | null) {
    this.handler = handler;
    if (handler) {
      const early = this.early;
      this.early = [];
      for (const m of early) handler(m);
    }
  }

  send(data: MessageData): void {
    this.raw.send(data);
  }

  close(): void {
    try { this.raw.close(); } catch { /* already closed */ }
  }

  /** Resolves when the channel is open (at once if it is). */
  whenOpen(): Promise<void> {
    if (this.raw.readyState === 'open') return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  /** Resolves when the channel has closed. */
  whenClosed(): Promise<void> {
    if (this.closedFired) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** @internal Called by the Call when the peer connection goes away without a channel close event. */
  fireClose(): void {
    if (this.closedFired) return;
    this.closedFired = true;
    for (const w of this.closeWaiters.splice(0)) w();
    this.onclose?.();
  }
}
