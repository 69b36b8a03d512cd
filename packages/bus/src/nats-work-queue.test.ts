import { describe, expect, it } from 'vitest';
import { pullExpiresMs } from './nats-work-queue.js';

describe('the expiry of a pull request', () => {
  const now = 1_000_000;

  it('is the configured long poll when no delayed nak falls due near its end', () => {
    expect(pullExpiresMs(now, 5_000, [])).toBe(5_000);
    expect(pullExpiresMs(now, 5_000, [now + 1_000, now + 9_000])).toBe(5_000);
  });

  it('reaches past a delayed nak that would fall due as the request expires', () => {
    // A nak of 1 s made just before a 1 s pull: the request would expire with the job.
    expect(pullExpiresMs(now, 1_000, [now + 1_000])).toBe(1_100);
    expect(pullExpiresMs(now, 1_000, [now + 960])).toBe(1_060);
    expect(pullExpiresMs(now, 1_000, [now + 1_040])).toBe(1_140);
  });

  it('settles among several due times, never ending within the guard of any', () => {
    const due = [now + 1_000, now + 1_090, now + 1_180];
    const expires = pullExpiresMs(now, 1_000, due);
    for (const d of due) expect(Math.abs(now + expires - d)).toBeGreaterThanOrEqual(100);
    expect(expires).toBe(1_280);
  });
});
