/**
 * HashedString values — and System.User passwords, which are HashedStrings: salted scrypt
 * hashes computed in the app and stored in the PHC string form
 * `$scrypt$ln=15,r=8,p=3$<salt>$<key>` (base64 without padding). Texts are NFKC-normalised
 * first (NIST SP 800-63B), so the same text typed on different systems matches. The cost is
 * stored with every hash, so it can be raised later without breaking stored ones. The plain
 * text is never stored. This is the one scrypt implementation of Runplane; the identity
 * package's password hasher uses it.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost parameters: N = 2^log2N (CPU and memory), r (block size), p (parallelism). */
export interface ScryptParameters {
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * The default cost: N = 2^15, r = 8, p = 3 — one of OWASP's equivalent minimum settings for
 * scrypt (32 MiB of memory, ~170 ms on one core of a small server).
 */
export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = Object.freeze({ log2N: 15, r: 8, p: 3 });

/** Stored hashes asking for more work than this are refused, so a forged row cannot stall the process. */
const LIMITS = { log2N: 20, r: 32, p: 16 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = '$scrypt$';

interface ParsedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** True when the parameters are whole numbers within the bounds Runplane computes. */
export function validScryptParameters(p: ScryptParameters): boolean {
  return (
    Number.isInteger(p.log2N) &&
    Number.isInteger(p.r) &&
    Number.isInteger(p.p) &&
    p.log2N >= 10 &&
    p.log2N <= LIMITS.log2N &&
    p.r >= 1 &&
    p.r <= LIMITS.r &&
    p.p >= 1 &&
    p.p <= LIMITS.p
  );
}

function parse(stored: string): ParsedHash | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const parts = stored.slice(PREFIX.length).split('$');
  if (parts.length !== 3) return undefined;
  const [params = '', salt = '', key = ''] = parts;
  const match = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(params);
  if (match === null) return undefined;
  const parameters = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (!validScryptParameters(parameters)) return undefined;
  if (!/^[A-Za-z0-9+/]+$/.test(salt) || !/^[A-Za-z0-9+/]+$/.test(key)) return undefined;
  const saltBytes = Buffer.from(salt, 'base64');
  const keyBytes = Buffer.from(key, 'base64');
  if (saltBytes.length < 16 || keyBytes.length < 16) return undefined;
  return { parameters, salt: saltBytes, key: keyBytes };
}

function derive(text: string, salt: Buffer, cost: ScryptParameters, length: number): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  // Node refuses scrypt above maxmem (32 MiB by default); allow what the parameters need.
  const maxmem = 128 * N * cost.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(text.normalize('NFKC'), 'utf8'),
      salt,
      length,
      { N, r: cost.r, p: cost.p, maxmem },
      (error, key) => {
        if (error !== null) reject(error);
        else resolve(key);
      },
    );
  });
}

const encode = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

/** True when the text is a hash in the stored form (set as is, e.g. by the identity package). */
export function isStoredHash(text: string): boolean {
  return parse(text) !== undefined;
}

/** The cost a stored hash was made with; undefined when it is not a hash in the stored form. */
export function storedHashParameters(stored: string): ScryptParameters | undefined {
  return parse(stored)?.parameters;
}

/** Hashes a plain text with a fresh random salt. Rejects with Node's error when scrypt fails. */
export async function hashString(
  plain: string,
  cost: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(plain, salt, cost, KEY_BYTES);
  return `${PREFIX}ln=${cost.log2N},r=${cost.r},p=${cost.p}$${encode(salt)}$${encode(key)}`;
}

const dummy = { salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };

/**
 * True when `candidate` is the text `stored` was computed from; compares in constant time.
 * Without a usable hash it still does a full scrypt (against a dummy, at `fallbackCost`) and
 * answers false, so the time taken never tells whether there was a value.
 */
export async function verifyString(
  stored: string | null | undefined,
  candidate: string,
  fallbackCost: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS,
): Promise<boolean> {
  const parsed = typeof stored === 'string' ? parse(stored) : undefined;
  if (parsed === undefined) {
    const key = await derive(candidate, dummy.salt, fallbackCost, KEY_BYTES);
    timingSafeEqual(key, dummy.key);
    return false;
  }
  const key = await derive(candidate, parsed.salt, parsed.parameters, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}
