/** A token bucket: holds at most `burst` tokens, refilled at `perSecond`; each message takes one. */
export interface TokenBucketLimits {
  burst: number;
  perSecond: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, ms. */
  at: number;
}

/**
 * Token buckets by key (a rack id, a presented key), at most `maxKeys` of them: the keys come from the bus,
 * where anyone can make up millions, so the least recently used bucket goes when a new key needs room. A
 * forgotten key starts again with a full bucket: past `maxKeys` active keys the limiter lets more through,
 * it never refuses an honest sender more.
 *
 * @example
 * const limiter = new KeyedRateLimiter({ burst: 5, perSecond: 1 }, 1_000);
 * if (!limiter.take(rackId, Date.now())) shed("rate_limited");
 */
export class KeyedRateLimiter {
  /** In least-recently-used order: a Map iterates in insertion order, and a used key is inserted again. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly limits: TokenBucketLimits,
    readonly maxKeys: number,
  ) {
    if (!(limits.burst >= 1 && limits.perSecond > 0 && Number.isInteger(maxKeys) && maxKeys >= 1)) {
      throw new RangeError(
        `rate limits need burst >= 1, perSecond > 0 and a positive integer maxKeys, not ${JSON.stringify({ ...limits, maxKeys })}`,
      );
    }
  }

  /** How many keys have a bucket now (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token from `key`'s bucket at time `now` (ms); false when it has none left. */
  take(key: string, now: number): boolean {
    const { burst, perSecond } = this.limits;
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key);
      // A clock that went back refills nothing and takes nothing away.
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1_000);
      bucket.at = Math.max(bucket.at, now);
    } else {
      if (this.#buckets.size >= this.maxKeys) {
        const oldest = this.#buckets.keys().next().value as string;
        this.#buckets.delete(oldest);
      }
      bucket = { tokens: burst, at: now };
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
