import { describe, expect, it } from 'vitest';
import { PasswordHasher } from './password.js';

const fast = new PasswordHasher({ log2N: 10, r: 8, p: 1 });

describe('PasswordHasher', () => {
  it('verifies the password a hash was made from and refuses any other', async () => {
    const stored = await fast.hash('Password1!');
    expect(await fast.verify(stored, 'Password1!')).toBe(true);
    expect(await fast.verify(stored, 'Password1')).toBe(false);
    expect(await fast.verify(stored, 'password1!')).toBe(false);
    expect(await fast.verify(stored, '')).toBe(false);
  });

  it('salts every hash, so the same password never gives the same text', async () => {
    const a = await fast.hash('same password');
    const b = await fast.hash('same password');
    expect(a).not.toBe(b);
    expect(await fast.verify(a, 'same password')).toBe(true);
    expect(await fast.verify(b, 'same password')).toBe(true);
  });

  it('stores the scrypt parameters with the hash and never the password', async () => {
    const stored = await new PasswordHasher({ log2N: 11, r: 4, p: 2 }).hash('Tr0ub4dor&3');
    expect(stored).toMatch(/^\$scrypt\$ln=11,r=4,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(stored).not.toContain('Tr0ub4dor');
  });

  it('verifies hashes made with other parameters and says they need a rehash', async () => {
    const old = await new PasswordHasher({ log2N: 11, r: 8, p: 1 }).hash('Password1!');
    expect(await fast.verify(old, 'Password1!')).toBe(true);
    expect(fast.needsRehash(old)).toBe(true);
    expect(fast.needsRehash(await fast.hash('x'))).toBe(false);
  });

  it('treats equivalent Unicode spellings of a password as the same password', async () => {
    const composed = 'Caf\u00e9-2024!';
    const decomposed = 'Cafe\u0301-2024!';
    expect(await fast.verify(await fast.hash(composed), decomposed)).toBe(true);
  });

  it('answers false, never throws, for missing, empty or malformed stored hashes', async () => {
    for (const stored of [
      undefined,
      null,
      '',
      'plain text',
      '$scrypt$ln=10,r=8,p=1$short$short',
      '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '$bcrypt$whatever',
    ]) {
      expect(await fast.verify(stored, 'anything')).toBe(false);
    }
  });

  it('refuses passwords longer than the limit without verifying them against the hash', async () => {
    const long = 'A1!a'.repeat(300);
    const stored = await fast.hash(long);
    expect(await fast.verify(stored, long)).toBe(false);
  });

  it('refuses scrypt parameters outside the safe range', () => {
    expect(() => new PasswordHasher({ log2N: 25, r: 8, p: 1 })).toThrow(
      expect.objectContaining({ code: 'PASSWORD_HASH_INVALID' }),
    );
  });
});
