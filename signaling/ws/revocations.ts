/**
 * The last revocations, for the sockets whose upgrade was in flight when one happened: a socket is
 * admitted (its credential checked) before the WebSocket handshake ends and it joins the hub, and
 * a revocation in between finds nothing to close. The socket is checked against what was revoked
 * since its admission before it is attached. A fixed number is kept; when more than that happened
 * during one upgrade, the socket is refused to be safe (its client reconnects).
 */
export interface Revocable {
  readonly accountId: string;
  readonly apiKeyId?: string;
}

/** What a revocation closed: a whole account, or one API key's sockets. */
export type RevocationKind = 'account' | 'api-key';

interface Revocation {
  readonly epoch: number;
  readonly accountId: string;
  readonly apiKeyId: string | undefined;
}

export class RecentRevocations {
  private epoch = 0;
  private readonly ring: Revocation[] = [];

  constructor(private readonly size = 64) {}

  /** A mark to compare with later (taken at admission). */
  get mark(): number {
    return this.epoch;
  }

  record(accountId: string, apiKeyId?: string): void {
    this.ring.push({ epoch: ++this.epoch, accountId, apiKeyId });
    if (this.ring.length > this.size) this.ring.shift();
  }

  /** What revoked `who` after `mark`, or null; 'account' when too many came to tell. */
  since(mark: number, who: Revocable): RevocationKind | null {
    if (mark === this.epoch) return null;
    if (this.ring[0].epoch > mark + 1) return 'account';
    for (const r of this.ring) {
      if (r.epoch <= mark || r.accountId !== who.accountId) continue;
      if (r.apiKeyId === undefined) return 'account';
      if (r.apiKeyId === who.apiKeyId) return 'api-key';
    }
    return null;
  }
}
