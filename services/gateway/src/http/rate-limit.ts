import { ErrorStatus, UserError } from '@runplane/errors';

/** Settings of a {@link RateLimiter}. */
export interface RateLimiterSettings {
  /** Tokens per minute per key, which is also the burst; 0 turns the limiter off. */
  readonly perMinute: number;
  /** Most keys tracked; the least recently used go first (a forgotten key starts full). */
  readonly maxKeys?: number;
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/**
 * A token bucket per key (a client address), in this process: each key may spend `perMinute`
 * tokens at once and gets them back evenly over a minute. Per replica: with N gateway replicas
 * behind a balancer, a client gets up to N times the rate — still far below what password
 * guessing needs, and the session service blocks a user after repeated failures anyway.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: () => number;
  private readonly maxKeys: number;
  private readonly refillPerMs: number;

  constructor(private readonly settings: RateLimiterSettings) {
    this.clock = settings.clock ?? Date.now;
    this.maxKeys = settings.maxKeys ?? 100_000;
    this.refillPerMs = settings.perMinute / 60_000;
  }

  /** Spends one token of `key`; returns 0 when allowed, else how many ms until a token is back. */
  take(key: string): number {
    const { perMinute } = this.settings;
    if (perMinute <= 0) return 0;
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: perMinute, updatedAtMs: now };
    } else {
      this.buckets.delete(key);
      bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAtMs) * this.refillPerMs);
      bucket.updatedAtMs = now;
    }
    // Re-inserted last: the Map's order is least recently used first.
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.refillPerMs);
  }

  /** Spends a token of `key` or throws 429 `RATE_LIMITED` with `details.retryAfterMs`. */
  check(key: string, what: string): void {
    const waitMs = this.take(key);
    if (waitMs > 0) throw rateLimited(what, waitMs);
  }

  /** Keys tracked. */
  get size(): number {
    return this.buckets.size;
  }
}

/** 429: too many attempts from one address; the HTTP layer adds Retry-After from the details. */
export function rateLimited(what: string, retryAfterMs: number): UserError {
  return new UserError({
    code: 'RATE_LIMITED',
    status: ErrorStatus.RateLimited,
    message: `Too many ${what} from this address. Try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
    details: { retryAfterMs },
  });
}
