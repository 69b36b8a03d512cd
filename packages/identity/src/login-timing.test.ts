import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordHasher } from './password.js';
import {
  clubModel,
  createTestDatabase,
  testIdentity,
  type TestDatabase,
  type TestIdentity,
} from './test-support.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Two-sided sign test: the chance of so lopsided a split of ratios above and below 1 if neither side were favoured. */
function signTestP(ratios: readonly number[]): number {
  const above = ratios.filter((r) => r > 1).length;
  const n = ratios.filter((r) => r !== 1).length;
  const k = Math.min(above, n - above);
  let tail = 0;
  let binomial = 1; // C(n, 0)
  for (let i = 0; i <= k; i++) {
    tail += binomial / 2 ** n;
    binomial = (binomial * (n - i)) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

describe('the time a failed login takes', () => {
  let db: TestDatabase;
  let identity: TestIdentity;

  beforeAll(async () => {
    db = await createTestDatabase('identity_timing');
    // A third of the production scrypt cost keeps the suite quick and makes the comparison
    // harder, not easier: the database work that differs between the kinds weighs more.
    identity = testIdentity(
      await db.open(clubModel()),
      { maxFailedLogins: 1000 },
      { hasher: new PasswordHasher({ log2N: 14, r: 8, p: 1 }) },
    );
    await identity.users.add({ name: 'known', password: 'Right-Pass1', roles: ['Member'] });
    await identity.users.add({ name: 'blocked', password: 'Right-Pass1', roles: ['Member'] });
    await identity.users.block('blocked');
  });

  afterAll(async () => {
    await identity.sessions.drain();
    await db.drop();
  });

  it('does not tell a wrong password from a blocked account or an unknown user', async () => {
    const attempts = {
      wrong: () => identity.sessions.login('known', 'Wrong-Pass1'),
      blocked: () => identity.sessions.login('blocked', 'Right-Pass1'),
      unknown: () => identity.sessions.login('nobody-by-this-name', 'Right-Pass1'),
    };
    const kinds = Object.keys(attempts) as (keyof typeof attempts)[];
    const ratios = { blocked: [] as number[], unknown: [] as number[] };
    const medians = { wrong: [] as number[], blocked: [] as number[], unknown: [] as number[] };
    const rounds = 20;
    for (let round = -2; round < rounds; round++) {
      // The three kinds back to back, in a different order each round; each round's ratios
      // compare attempts made moments apart, so that the machine's load hits them alike.
      const order = kinds.map((k, i) => kinds[(i + round + 3) % kinds.length] ?? k);
      const took: Partial<Record<keyof typeof attempts, number>> = {};
      for (const kind of order) {
        // Each answer is timed on its own, not slowed by the write the previous one left behind.
        await identity.sessions.drain();
        const started = performance.now();
        await expect(attempts[kind]()).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
        took[kind] = performance.now() - started;
      }
      if (round < 0) continue;
      const { wrong = 0, blocked = 0, unknown = 0 } = took;
      ratios.blocked.push(blocked / wrong);
      ratios.unknown.push(unknown / wrong);
      medians.wrong.push(wrong);
      medians.blocked.push(blocked);
      medians.unknown.push(unknown);
    }
    const seen = JSON.stringify({
      wrongMs: median(medians.wrong),
      blockedMs: median(medians.blocked),
      unknownMs: median(medians.unknown),
      blockedRatio: median(ratios.blocked),
      unknownRatio: median(ratios.unknown),
    });
    // scrypt dominates every kind; a shortcut for any of them would be several times faster.
    expect(median(medians.wrong), seen).toBeGreaterThan(20);
    // A difference counts only when it is both large (the median ratio off by 20 %) and
    // systematic (a sign test over the paired rounds, p < 0.001): a loaded machine makes
    // single rounds noisy, but not consistently faster for one kind.
    for (const kind of ['blocked', 'unknown'] as const) {
      const off = Math.abs(median(ratios[kind]) - 1) >= 0.2;
      const systematic = signTestP(ratios[kind]) < 0.001;
      expect({ kind, off, systematic }, seen).not.toEqual({ kind, off: true, systematic: true });
    }
  });
});
