import { randomInt } from 'node:crypto';
import { ErrorStatus } from '@runplane/errors';
import { passwordProblem, type PasswordPolicy } from '@runplane/model';
import { IdentityErrorCode, identityUserError } from './errors.js';
import { MAX_PASSWORD_LENGTH } from './password.js';

/**
 * Checks a new password against the model's password policy (minimum length, digit,
 * upper- and lowercase letter, symbol) and {@link MAX_PASSWORD_LENGTH}. Throws
 * `PASSWORD_POLICY` (validation_failed) naming the first rule it breaks.
 */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy): void {
  const problem =
    password.length > MAX_PASSWORD_LENGTH
      ? `is longer than ${MAX_PASSWORD_LENGTH} characters`
      : passwordProblem(password, policy);
  if (problem !== undefined) {
    throw identityUserError(
      IdentityErrorCode.PasswordPolicy,
      `The password ${problem}.`,
      ErrorStatus.ValidationFailed,
      { problem },
    );
  }
}

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '!#%+-=?@_';
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] ?? '';
}

/**
 * A random password that the policy accepts: at least 24 characters (more when the policy
 * asks), one of each character class, from the CSPRNG. Look-alike characters are left out
 * so that it can be typed from a terminal.
 */
export function generatePassword(policy: PasswordPolicy): string {
  const length = Math.max(24, policy.minLength);
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  // Fisher–Yates with the CSPRNG, so the guaranteed classes are not always in front.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? '', chars[i] ?? ''];
  }
  return chars.join('');
}
