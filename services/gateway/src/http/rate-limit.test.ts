import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

function limiter(perMinute: number, maxKeys?: number) {
  let now = 1_000_000;
  const l = new RateLimiter({ perMinute, clock: () => now, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { l, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('lets a burst of the per-minute rate through, then answers how long until the next token', () => {
    const { l } = limiter(6);
    for (let i = 0; i < 6; i++) expect(l.take('10.0.0.1')).toBe(0);
    expect(l.take('10.0.0.1')).toBe(10_000);
    expect(l.take('10.0.0.2')).toBe(0);
  });

  it('gives tokens back evenly over the minute, never more than the burst', () => {
    const { l, advance } = limiter(6);
    for (let i = 0; i < 6; i++) l.take('a');
    advance(9_999);
    expect(l.take('a')).toBeGreaterThan(0);
    advance(1);
    expect(l.take('a')).toBe(0);
    advance(600_000);
    for (let i = 0; i < 6; i++) expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBeGreaterThan(0);
  });

  it('throws 429 RATE_LIMITED with the wait in its details', () => {
    const { l } = limiter(1);
    l.check('a', 'sign-in attempts');
    expect(() => {
      l.check('a', 'sign-in attempts');
    }).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        status: 'rate_limited',
        details: { retryAfterMs: 60_000 },
      }),
    );
  });

  it('keeps at most its maximum of keys, forgetting the least recently used', () => {
    const { l } = limiter(1, 2);
    l.take('a');
    l.take('b');
    l.take('c');
    expect(l.size).toBe(2);
    expect(l.take('a')).toBe(0);
  });

  it('does nothing with a rate of 0', () => {
    const { l } = limiter(0);
    for (let i = 0; i < 100; i++) expect(l.take('a')).toBe(0);
    expect(l.size).toBe(0);
  });
});
