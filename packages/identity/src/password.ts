import { randomUUID } from 'node:crypto';
import {
  DEFAULT_SCRYPT_PARAMETERS,
  hashString,
  isStoredHash,
  storedHashParameters,
  validScryptParameters,
  verifyString,
  type MxObject,
  type RunplaneUnitOfWork,
  type ScryptParameters,
} from '@runplane/persistence';
import { IdentityErrorCode, hashingFailed, identityUserError } from './errors.js';

export { DEFAULT_SCRYPT_PARAMETERS, type ScryptParameters };

/** Longest password accepted, in characters: bounds the work a login request can cause. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Hashes and verifies passwords with the persistence package's scrypt HashedString hashing
 * (a random 16-byte salt per hash, the PHC string form `$scrypt$ln=15,r=8,p=3$<salt>$<key>`,
 * NFKC-normalised texts), at this hasher's cost.
 *
 * {@link verify} costs the same whether or not there is a stored hash: without one (an
 * unknown user, a user without a password) it runs a full scrypt against a dummy, so an
 * answer's timing never tells whether an account exists.
 */
export class PasswordHasher {
  constructor(readonly parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS) {
    if (!validScryptParameters(parameters)) {
      throw identityUserError(
        IdentityErrorCode.PasswordHashInvalid,
        `scrypt parameters out of range: ln=${parameters.log2N}, r=${parameters.r}, p=${parameters.p}.`,
      );
    }
  }

  /** A new salted hash of `password`, with this hasher's parameters. */
  async hash(password: string): Promise<string> {
    try {
      return await hashString(password, this.parameters);
    } catch (error) {
      throw hashingFailed(error);
    }
  }

  /**
   * True when `candidate` is the password `stored` was made from. Compares in constant
   * time; an absent or unreadable `stored`, or an over-long candidate, costs one full
   * verification and answers false.
   */
  async verify(stored: string | null | undefined, candidate: string): Promise<boolean> {
    const usable = candidate.length <= MAX_PASSWORD_LENGTH;
    try {
      const matches = await verifyString(
        usable ? stored : undefined,
        candidate.slice(0, MAX_PASSWORD_LENGTH),
        this.parameters,
      );
      return matches && usable;
    } catch (error) {
      throw hashingFailed(error);
    }
  }

  /** True when `stored` was made with other parameters than this hasher's (rehash on the next login). */
  needsRehash(stored: string): boolean {
    const parameters = storedHashParameters(stored);
    if (parameters === undefined) return true;
    const { log2N, r, p } = parameters;
    return log2N !== this.parameters.log2N || r !== this.parameters.r || p !== this.parameters.p;
  }

  /** True when `stored` is a hash this hasher can verify. */
  static isHash(stored: string): boolean {
    return isStoredHash(stored);
  }
}

/** The attribute of System.User holding the password (a HashedString). */
export const PASSWORD_ATTRIBUTE = 'Password';

/**
 * Checks passwords against System.User.Password in time that does not tell whether the user
 * exists or has a password: the persistence package verifies the stored HashedString (the
 * hash never leaves it, and it runs a full scrypt against a dummy when there is none);
 * without a user, one lookup by id that finds nothing stands for the read of the hash, and
 * the hasher runs the same scrypt against its own dummy.
 */
export async function verifyUserPassword(
  hasher: PasswordHasher,
  uow: RunplaneUnitOfWork,
  user: MxObject | undefined,
  candidate: string,
): Promise<boolean> {
  if (user === undefined || candidate.length > MAX_PASSWORD_LENGTH) {
    // The round trip persistence makes to read a stored hash, answered with nothing.
    await uow.retrieveByIds([randomUUID()], 'System.User');
    await hasher.verify(undefined, candidate);
    return false;
  }
  return uow.verifyHashedString(user, PASSWORD_ATTRIBUTE, candidate);
}

/**
 * Sets a user's password to a hash made by {@link PasswordHasher}; the persistence package
 * stores a hash in this form as it is (anything else it would hash itself).
 */
export function setPasswordHash(user: MxObject, hash: string): void {
  user.set(PASSWORD_ATTRIBUTE, hash);
}
