/**
 * The shared pipelined reads of the PostgreSQL backend: many statements in flight on a few
 * connections, each with its own answer or error, and a broken connection replaced.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelinedReads } from '../src/sql/backend.js';
import { createTestDatabase, POSTGRES_SERVER_URL, type TestDatabase } from './support/databases.js';

describe('pipelined reads on PostgreSQL', () => {
  let db: TestDatabase;
  let url = '';
  let admin: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', 'pipelined');
    url = db.location.kind === 'postgres' ? db.location.url : '';
    admin = new pg.Client({ connectionString: `${POSTGRES_SERVER_URL}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
  });

  afterAll(async () => {
    await admin.end();
    await db.drop();
  });

  it('answers each of many statements in flight with its own rows, on at most its connections', async () => {
    const reads = new PipelinedReads(url, 2);
    try {
      const answers = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          reads.query('SELECT $1::int AS n, pg_backend_pid() AS pid', [i], 'rp_test_n'),
        ),
      );
      expect(answers.map((a) => a.rows[0]?.n)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(new Set(answers.map((a) => a.rows[0]?.pid)).size).toBeLessThanOrEqual(2);
      const arrays = await Promise.all([1, 2, 3].map((i) => reads.queryArrays('SELECT $1::int, 7', [i])));
      expect(arrays).toEqual([[[1, 7]], [[2, 7]], [[3, 7]]]);
    } finally {
      await reads.close();
    }
  });

  it('fails only the statement that fails, however many are pipelined with it', async () => {
    const reads = new PipelinedReads(url, 1);
    try {
      const outcomes = await Promise.allSettled(
        [1, 2, 0, 4, 5].map((d) => reads.query('SELECT 100 / $1::int AS q', [d], 'rp_test_div')),
      );
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.rows[0]?.q : 'failed'))).toEqual([
        100,
        50,
        'failed',
        25,
        20,
      ]);
      const failed = outcomes[2];
      expect(failed?.status === 'rejected' ? (failed.reason as { code?: string }).code : '').toBe('22012');
    } finally {
      await reads.close();
    }
  });

  it('replaces a connection the server ended, and answers again', async () => {
    const reads = new PipelinedReads(url, 1);
    try {
      const first = await reads.query('SELECT pg_backend_pid() AS pid');
      const pid = Number(first.rows[0]?.pid);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      let again: number | undefined;
      for (let attempt = 0; attempt < 50 && again === undefined; attempt++) {
        try {
          again = Number((await reads.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
        } catch {
          // The statements sent before the client noticed fail, as on any broken connection.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      expect(again).toBeDefined();
      expect(again).not.toBe(pid);
    } finally {
      await reads.close();
    }
  });

  it('refuses statements once closed, and fails cleanly when the server cannot be reached', async () => {
    const reads = new PipelinedReads(url, 1);
    await reads.query('SELECT 1');
    await reads.close();
    await expect(reads.query('SELECT 1')).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    const nowhere = new PipelinedReads('postgres://postgres@127.0.0.1:1/none', 1);
    await expect(nowhere.query('SELECT 1')).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await nowhere.close();
  });
});
