/**
 * Databases for the package's tests: a fresh PostgreSQL database on the machine's server
 * (dropped afterwards), or PGlite in a fresh temporary folder — the same suites run on both.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseLocation } from '../../src/index.js';

/** The backends every shared suite runs on. */
export const BACKENDS = ['postgres', 'pglite'] as const;
export type Backend = (typeof BACKENDS)[number];

/** The machine's PostgreSQL server. */
export const POSTGRES_SERVER_URL = 'postgres://postgres@127.0.0.1:5432';

/** A database made for one suite. */
export interface TestDatabase {
  readonly location: DatabaseLocation;
  /** Drops the database (or removes the folder). */
  drop(): Promise<void>;
}

/** A new, empty database of the backend, named after the suite. */
export async function createTestDatabase(backend: Backend, label: string): Promise<TestDatabase> {
  const suffix = randomBytes(4).toString('hex');
  if (backend === 'pglite') {
    const dataDir = await mkdtemp(join(tmpdir(), `rp-${label}-`));
    return {
      location: { kind: 'embedded', dataDir },
      drop: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `rp_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${suffix}`;
  return {
    location: { kind: 'postgres', url: `${POSTGRES_SERVER_URL}/${name}`, poolSize: 4 },
    drop: async () => {
      const admin = new pg.Client({ connectionString: `${POSTGRES_SERVER_URL}/postgres` });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
