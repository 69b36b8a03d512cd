import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSessionId, isSessionIdFormat, newCsrfToken, newSessionId, secretsEqual } from './tokens.js';

describe('session ids and CSRF tokens', () => {
  it('makes session ids of 256 random bits in base64url', () => {
    const id = newSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    expect(isSessionIdFormat(id)).toBe(true);
  });

  it('never repeats a session id or a CSRF token', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newSessionId()));
    const tokens = new Set(Array.from({ length: 2000 }, () => newCsrfToken()));
    expect(ids.size).toBe(2000);
    expect(tokens.size).toBe(2000);
  });

  it('hashes a session id with SHA-256 into 64 hex characters that do not contain the id', () => {
    const id = newSessionId();
    const hash = hashSessionId(id);
    expect(hash).toBe(createHash('sha256').update(id).digest('hex'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(id);
  });

  it('refuses values that are not session ids before any lookup', () => {
    for (const v of ['', 'abc', `${newSessionId()}x`, "' or 1=1 --".padEnd(43, 'a'), 'a'.repeat(42) + '=']) {
      expect(isSessionIdFormat(v)).toBe(false);
    }
  });

  it('compares secrets exactly, whatever their lengths', () => {
    const t = newCsrfToken();
    expect(secretsEqual(t, t)).toBe(true);
    expect(secretsEqual(t, `${t.slice(0, -1)}x`)).toBe(false);
    expect(secretsEqual(t, '')).toBe(false);
    expect(secretsEqual('', t)).toBe(false);
    expect(secretsEqual(t, t + t)).toBe(false);
  });
});
