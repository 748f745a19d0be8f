/**
 * Token bucket per connection, with a record of sustained abuse: a connection that keeps being
 * refused (at least once per second) for `abuseMs` is reported as abusive.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private streakStart = -1;
  private lastRefusal = -1;

  constructor(
    private readonly ratePerMs: number,
    private readonly burst: number,
    private readonly abuseMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  static perSecond(rate: number, burst: number, abuseMs: number, now: number): TokenBucket {
    return new TokenBucket(rate / 1000, burst, abuseMs, now);
  }

  /** 'ok' (a token was taken), 'refused', or 'abusive' (refused, and for too long). */
  take(now: number): 'ok' | 'refused' | 'abusive' {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (this.lastRefusal < 0 || now - this.lastRefusal > 1000) this.streakStart = now;
    this.lastRefusal = now;
    return now - this.streakStart >= this.abuseMs ? 'abusive' : 'refused';
  }
}
