import { describe, expect, it } from 'vitest';
import { ValidationCache, type ValidatedSession } from './validation-cache.js';

function session(hash: string, userId: string, expiresAtMs: number): ValidatedSession {
  return {
    sessionIdHash: hash,
    csrfToken: `csrf-${hash}`,
    expiresAtMs,
    user: {
      userId,
      userName: userId,
      userRoles: ['Member'],
      sessionIdHash: hash,
      anonymous: false,
      timeZone: '',
      language: '',
      system: false,
    },
  };
}

function cacheAt(
  ttlMs: number,
  maxEntries = 100,
): { cache: ValidationCache; advance: (ms: number) => void; now: () => number } {
  let now = 1_000_000;
  const cache = new ValidationCache({ ttlMs, maxEntries, clock: () => now });
  return {
    cache,
    advance: (ms) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('ValidationCache', () => {
  it('serves a validation until its TTL has passed, never after', () => {
    const { cache, advance, now } = cacheAt(2000);
    cache.set(session('a', 'u1', now() + 600_000), cache.ticket());
    advance(1999);
    expect(cache.get('a')?.csrfToken).toBe('csrf-a');
    advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('never serves a session past its own expiry, even within the TTL', () => {
    const { cache, advance, now } = cacheAt(2000);
    cache.set(session('a', 'u1', now() + 500), cache.ticket());
    advance(499);
    expect(cache.get('a')).toBeDefined();
    advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops a logged-out session, every session of a user, or everything', () => {
    const { cache, now } = cacheAt(2000);
    const t = cache.ticket();
    cache.set(session('a', 'u1', now() + 60_000), t);
    cache.set(session('b', 'u1', now() + 60_000), t);
    cache.set(session('c', 'u2', now() + 60_000), t);
    cache.set(session('d', 'u3', now() + 60_000), t);
    cache.invalidateSession('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    cache.invalidateUser('u1');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    cache.invalidateAll();
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('d')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store a validation that was in flight when something was invalidated', () => {
    const { cache, now } = cacheAt(2000);
    const before = cache.ticket();
    cache.invalidateSession('elsewhere');
    cache.set(session('a', 'u1', now() + 60_000), before);
    expect(cache.get('a')).toBeUndefined();
    cache.set(session('a', 'u1', now() + 60_000), cache.ticket());
    expect(cache.get('a')).toBeDefined();
  });

  it('keeps at most its maximum, dropping the least recently used first', () => {
    const { cache, now } = cacheAt(2000, 2);
    cache.set(session('a', 'u1', now() + 60_000), cache.ticket());
    cache.set(session('b', 'u2', now() + 60_000), cache.ticket());
    cache.get('a');
    cache.set(session('c', 'u3', now() + 60_000), cache.ticket());
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    cache.invalidateUser('u2');
    expect(cache.size).toBe(2);
  });

  it('stores nothing when the TTL is 0', () => {
    const { cache, now } = cacheAt(0);
    cache.set(session('a', 'u1', now() + 60_000), cache.ticket());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
