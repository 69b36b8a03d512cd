import { timingSafeEqual } from 'node:crypto';

/** Compares two secrets in time that depends only on their lengths, never on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length || x.length === 0) {
    timingSafeEqual(y, y);
    return false;
  }
  return timingSafeEqual(x, y);
}
