import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes in a session id: 256 bits. */
export const SESSION_ID_BYTES = 32;
/** Random bytes in a CSRF token: 256 bits. */
export const CSRF_TOKEN_BYTES = 32;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** A new session id: 256 random bits from the system's CSPRNG, base64url (43 characters). */
export function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}

/** A new CSRF token: 256 random bits, base64url (43 characters). */
export function newCsrfToken(): string {
  return randomBytes(CSRF_TOKEN_BYTES).toString('base64url');
}

/** True when `value` has the form of a session id this package issues (checked before any lookup). */
export function isSessionIdFormat(value: string): boolean {
  return SESSION_ID.test(value);
}

/**
 * The SHA-256 of a session id, in lowercase hex (64 characters): what the database stores
 * and what events and caches use as the key. A session id has 256 random bits, so an
 * unsalted fast hash is enough: the table leaks nothing that lets anyone use a session.
 */
export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

/** Compares two secrets in time that depends only on their lengths, never on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still compare something of the same length, so the early exit costs what a mismatch costs.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
