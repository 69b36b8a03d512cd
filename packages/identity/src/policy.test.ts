import { describe, expect, it } from 'vitest';
import type { PasswordPolicy } from '@runplane/model';
import { checkPasswordPolicy, generatePassword } from './policy.js';

const strict: PasswordPolicy = {
  minLength: 8,
  requireDigit: true,
  requireUppercase: true,
  requireLowercase: true,
  requireSymbol: true,
};

describe('the password policy', () => {
  it('accepts a password that meets every rule', () => {
    expect(() => {
      checkPasswordPolicy('Password1!', strict);
    }).not.toThrow();
  });

  it.each([
    ['Pa1!', 'is shorter than 8 characters'],
    ['Password!', 'has no digit'],
    ['password1!', 'has no uppercase letter'],
    ['PASSWORD1!', 'has no lowercase letter'],
    ['Password12', 'has no symbol'],
    [`Aa1!${'x'.repeat(1100)}`, 'is longer than 1024 characters'],
  ])('refuses %j because it %s', (password, problem) => {
    expect(() => {
      checkPasswordPolicy(password, strict);
    }).toThrow(
      expect.objectContaining({ code: 'PASSWORD_POLICY', status: 'validation_failed', details: { problem } }),
    );
  });

  it('generates random passwords the policy accepts, longer when the policy asks', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword(strict);
      checkPasswordPolicy(p, strict);
      expect(p.length).toBe(24);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(generatePassword({ ...strict, minLength: 40 })).toHaveLength(40);
  });
});
