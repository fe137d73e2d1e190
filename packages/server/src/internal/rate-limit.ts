// Token buckets (docs/protocol/09 §9.9): per remote address for every request, per account for bearer
// requests. A bucket holds up to `capacity` tokens and refills continuously; a request takes one or
// is refused with the seconds until one is back (429 Retry-After). Keys are kept in memory only.
import { MAX_RATE_LIMIT_BUCKETS, type TokenBucketSettings } from '../limits.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #settings: TokenBucketSettings;
  readonly #maxBuckets: number;

  constructor(settings: TokenBucketSettings, maxBuckets = MAX_RATE_LIMIT_BUCKETS) {
    this.#settings = settings;
    this.#maxBuckets = maxBuckets;
  }

  /** Takes a token for `key` at time `now`; returns 0 when allowed, else seconds until one is back. */
  take(key: string, now: number): number {
    const { capacity, refillPerSecond } = this.#settings;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxBuckets) this.prune(now);
      if (this.#buckets.size >= this.#maxBuckets) {
        // Still full of active buckets: drop the oldest-inserted one (Map order) rather than grow.
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
      b = { tokens: capacity, updatedAt: now };
      this.#buckets.set(key, b);
    } else {
      const elapsed = Math.max(0, now - b.updatedAt) / 1000;
      b.tokens = Math.min(capacity, b.tokens + elapsed * refillPerSecond);
      b.updatedAt = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / refillPerSecond));
  }

  /** Drops buckets that would be full again by `now` (they carry no information). */
  prune(now: number): void {
    const { capacity, refillPerSecond } = this.#settings;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (Math.max(0, now - b.updatedAt) / 1000) * refillPerSecond >= capacity) this.#buckets.delete(key);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
