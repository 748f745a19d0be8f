/**
 * The signaling hub, without I/O: peers by account id → peer id, routing, the queue for absent
 * peers, and replacement. A peer is reached through a PeerLink (a `ws` WebSocket is one); tests
 * drive the hub with fake links and a fake clock.
 */
import type { SignalLimits } from './limits.js';
import { ExpiryFifo } from '../../src/expiry-fifo.js';
import { PendingTable, type Pending } from './pending.js';
import { CLOSE, type RoutedFrame, type SignalErrorCode } from '../../protocol/signaling.js';
import { deliveredText, errorText, welcomeText } from './frames.js';
import type { LocalPeers, RoutedPeer, SignalRouter } from '../../src/signaling/router.js';

/** What the hub needs of a connection. */
export interface PeerLink {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Bytes accepted by send() but not yet written to the network. */
  readonly bufferedAmount: number;
}

/** How a connection authenticated, beyond its account: what else ends it. */
export interface SignalGrant {
  /** Opened with this API key: closed when the key is revoked. */
  readonly apiKeyId?: string;
  /** Opened with a signaling token that expires then (ms since the epoch): closed once it has. */
  readonly expiresAt?: number;
}

interface Account {
  readonly id: string;
  readonly peers: Map<string, PeerSession>;
  readonly pending: PendingTable;
}

export class PeerSession {
  /** False once detached or replaced: its late events change nothing. */
  open = true;
  readonly apiKeyId: string | undefined;
  /** When the credential it was opened with expires (ms since the epoch); Infinity for none. */
  readonly expiresAt: number;

  get accountId(): string {
    return this.account.id;
  }

  constructor(
    /** This connection among the hub's, never reused: a reply meant for it finds it, not a later one. */
    readonly connId: number,
    readonly account: Account,
    readonly peerId: string,
    readonly link: PeerLink,
    private readonly maxBufferedBytes: number,
    grant: SignalGrant,
  ) {
    this.apiKeyId = grant.apiKeyId;
    this.expiresAt = grant.expiresAt ?? Number.POSITIVE_INFINITY;
  }

  /** Error frames are dropped for a connection that does not read (they are advisory). */
  sendError(code: SignalErrorCode, message: string, id?: string | number, to?: string): void {
    if (this.link.bufferedAmount > this.maxBufferedBytes) return;
    this.link.send(errorText(code, message, id, to));
  }
}

export interface HubStats {
  /** Accounts with at least one connected peer. */
  accounts: number;
  peers: number;
  queued: number;
}

export class Hub implements LocalPeers {
  private readonly accounts = new Map<string, Account>();
  /** Expiry order over all tables. */
  private readonly fifo = new ExpiryFifo<Pending>();
  private nextConnId = 1;

  /** `router`: where messages to peers not connected here go (a fleet); absent, they are queued here. */
  constructor(
    private readonly limits: SignalLimits,
    private readonly now: () => number,
    private readonly router?: SignalRouter,
  ) {
    router?.bind(this, limits);
  }

  /** Counted when asked (a metrics scrape): a queued message keeps its account in the map. */
  stats(): HubStats {
    let accounts = 0;
    let peers = 0;
    let queued = 0;
    for (const account of this.accounts.values()) {
      if (account.peers.size > 0) accounts += 1;
      peers += account.peers.size;
      queued += account.pending.count;
    }
    if (this.router) queued += this.router.stats().queued;
    return { accounts, peers, queued };
  }

  /** Whether attach() would accept this peer now (a replacement always fits). */
  canAttach(accountId: string, peerId: string): boolean {
    const account = this.accounts.get(accountId);
    return !account || account.peers.has(peerId) || account.peers.size < this.limits.maxPeersPerAccount;
  }

  /**
   * Registers a connected peer: sends `welcome`, then the messages queued for it, in order. An
   * existing peer with the same id is replaced (closed with 4000 "replaced"). Returns null when the
   * account is full.
   */
  attach(accountId: string, peerId: string, link: PeerLink, grant: SignalGrant = {}): PeerSession | null {
    if (!this.canAttach(accountId, peerId)) return null;
    let account = this.accounts.get(accountId);
    if (!account) {
      account = { id: accountId, peers: new Map(), pending: new PendingTable(accountId) };
      this.accounts.set(accountId, account);
    }
    const session = new PeerSession(this.nextConnId++, account, peerId, link, this.limits.maxBufferedBytes, grant);
    const old = account.peers.get(peerId);
    account.peers.set(peerId, session);
    if (old) {
      old.open = false;
      old.link.close(CLOSE.replaced, 'replaced');
      this.router?.detached(old);
    }
    link.send(welcomeText(peerId));
    if (account.pending.size(peerId) > 0) this.flush(account, session);
    // In a fleet: claims the peer id (a connection of it on another node is replaced) and brings
    // the messages queued for it anywhere in the fleet.
    this.router?.attached(session);
    return session;
  }

  /** LocalPeers: the open session of a peer connected here. */
  find(accountId: string, peerId: string): PeerSession | undefined {
    return this.accounts.get(accountId)?.peers.get(peerId);
  }

  /** LocalPeers: the peer id registered again on another node; this connection is closed as a local replacement would be. */
  replace(peer: RoutedPeer): void {
    const session = this.find(peer.accountId, peer.peerId);
    if (session !== peer || !session.open) return;
    session.open = false;
    const account = session.account;
    account.peers.delete(session.peerId);
    session.link.close(CLOSE.replaced, 'replaced');
    this.dropIfEmpty(account);
  }

  /** Unregisters a peer whose connection closed. Does nothing for a replaced (or already detached) session. */
  detach(session: PeerSession): void {
    if (!session.open) return;
    session.open = false;
    const account = session.account;
    if (account.peers.get(session.peerId) !== session) return;
    account.peers.delete(session.peerId);
    this.router?.detached(session);
    this.dropIfEmpty(account);
  }

  /**
   * Delivers a message to a peer of the sender's account, or queues it while that peer is absent.
   * `source`: the text `frame` was parsed from (its payload is reused as is).
   */
  route(from: PeerSession, frame: RoutedFrame, source?: string): void {
    if (!from.open) return;
    const account = from.account;
    const target = account.peers.get(frame.to);
    if (target) {
      if (target.link.bufferedAmount > this.limits.maxBufferedBytes) {
        from.sendError('peer_unavailable', `peer ${frame.to} is not reading its connection`, frame.id, frame.to);
        return;
      }
      target.link.send(deliveredText(frame, from.peerId, source));
      return;
    }
    if (this.router) {
      this.router.forward(from, frame, deliveredText(frame, from.peerId, source));
      return;
    }
    if (frame.type === 'bye') return; // a goodbye to a peer that is gone is not kept
    const pending = account.pending;
    if (pending.size(frame.to) >= this.limits.maxQueuedPerPeer || pending.count >= this.limits.maxQueuedPerAccount) {
      from.sendError('peer_unavailable', `peer ${frame.to} is not connected and its queue is full`, frame.id, frame.to);
      return;
    }
    const p: Pending = {
      table: pending,
      target: frame.to,
      text: deliveredText(frame, from.peerId, source),
      from: from.peerId,
      sender: from,
      id: frame.id,
      expiresAt: this.now() + this.limits.queueTtlMs,
      done: false,
    };
    pending.add(p);
    this.fifo.push(p);
  }

  /** Expires queued messages whose time is up; their senders (if connected) get `peer_unavailable`. */
  sweep(): void {
    const now = this.now();
    for (let p = this.fifo.shiftExpired(now); p !== undefined; p = this.fifo.shiftExpired(now)) if (!p.done) this.expire(p);
  }

  /** Closes every connection of one account (e.g. its credentials were revoked) and drops its queue. */
  closeAccount(accountId: string, code: number, reason: string): number {
    const account = this.accounts.get(accountId);
    if (!account) {
      this.router?.accountClosed(accountId);
      return 0;
    }
    const n = account.peers.size;
    for (const session of account.peers.values()) {
      session.open = false;
      session.link.close(code, reason);
      this.router?.detached(session);
    }
    account.peers.clear();
    this.router?.accountClosed(accountId);
    for (const target of [...account.pending.byTarget.keys()]) {
      for (const p of account.pending.take(target)) p.text = '';
    }
    this.accounts.delete(accountId);
    return n;
  }

  /**
   * Closes the account's connections opened with one API key (it was revoked); the account's other
   * connections and its queue stay. Returns how many.
   */
  closeApiKey(accountId: string, apiKeyId: string, code: number, reason: string): number {
    const account = this.accounts.get(accountId);
    if (!account) return 0;
    let n = 0;
    for (const session of account.peers.values()) {
      if (session.apiKeyId !== apiKeyId) continue;
      session.open = false;
      account.peers.delete(session.peerId); // deleting the current entry keeps the iteration valid
      session.link.close(code, reason);
      this.router?.detached(session);
      n += 1;
    }
    this.dropIfEmpty(account);
    return n;
  }

  /** The accounts with connections opened with API keys, and those keys' ids (a resync checks them). */
  apiKeysInUse(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const account of this.accounts.values()) {
      for (const session of account.peers.values()) {
        if (session.apiKeyId === undefined) continue;
        const keys = out.get(account.id) ?? new Set<string>();
        keys.add(session.apiKeyId);
        out.set(account.id, keys);
      }
    }
    return out;
  }

  /** Closes every connection (e.g. 1001 on shutdown) and drops every queued message. */
  closeAll(code: number, reason: string): void {
    for (const account of this.accounts.values()) {
      for (const session of account.peers.values()) {
        session.open = false;
        session.link.close(code, reason);
        this.router?.detached(session);
      }
    }
    this.accounts.clear();
    this.fifo.clear();
  }

  private flush(account: Account, session: PeerSession): void {
    const now = this.now();
    const queue = account.pending.take(session.peerId);
    for (const p of queue) {
      if (p.expiresAt <= now) this.notifyExpired(p);
      else session.link.send(p.text);
      p.text = '';
    }
  }

  private expire(p: Pending): void {
    // A table with a message in it keeps its account in the map (dropIfEmpty).
    const account = this.accounts.get(p.table.accountId);
    p.table.remove(p);
    this.notifyExpired(p);
    if (account) this.dropIfEmpty(account);
  }

  /** Tells the connection that queued `p` (if still open; not a later one of the same peer id). */
  private notifyExpired(p: Pending): void {
    if (p.sender.open) p.sender.sendError('peer_unavailable', `peer ${p.target} did not connect within ${this.limits.queueTtlMs} ms`, p.id, p.target);
  }

  private dropIfEmpty(account: Account): void {
    if (account.peers.size === 0 && account.pending.count === 0) this.accounts.delete(account.id);
  }
}
