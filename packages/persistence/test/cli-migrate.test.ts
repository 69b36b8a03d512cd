import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { exampleDir } from './support/fixtures.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../cli/bin/runplane.js', import.meta.url));

async function runplane(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('runplane migrate', () => {
  let test: TestDatabase;
  let url: string;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'cli');
    if (test.location.kind !== 'postgres') throw new TypeError('expected PostgreSQL');
    url = test.location.url;
  });
  afterAll(async () => {
    await test.drop();
  });

  it('prints the plan with --dry-run, one line per step, and changes nothing', async () => {
    const dryRun = await runplane(['migrate', '--dry-run', '--database-url', url, exampleDir('orders')]);
    expect(dryRun.code).toBe(0);
    const lines = dryRun.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+ steps to bring the database to model version [0-9a-f]{12}:$/);
    expect(lines).toContain('  4. create table "sales$order" (entity Sales.Order) with 13 columns');
    const again = await runplane(['migrate', '--dry-run', '--database-url', url, exampleDir('orders')]);
    expect(again.stdout).toBe(dryRun.stdout);
  });

  it('applies the plan, then finds the database up to date', async () => {
    const applied = await runplane(['migrate', '--database-url', url, exampleDir('orders')]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(
      /^Applied \d+ steps, bringing the database to model version [0-9a-f]{12}:\n/,
    );
    const again = await runplane(['migrate', '--database-url', url, exampleDir('orders')]);
    expect(again.stdout).toMatch(/^The database is up to date with model version [0-9a-f]{12}\.\n$/);
  });

  it('counts what a drop would lose, and fails with a clear message when it cannot migrate', async () => {
    // Another app's model over the same (empty) tables: its drops lose nothing.
    const helpdesk = await runplane(['migrate', '--dry-run', '--database-url', url, exampleDir('helpdesk')]);
    expect(helpdesk.code).toBe(0);
    expect(helpdesk.stdout).toMatch(
      /^\d+ steps to bring the database from model version [0-9a-f]{12} to model version [0-9a-f]{12}:\n/,
    );
    expect(helpdesk.stdout).toMatch(
      /\n +\d+\. drop table "sales\$orderline" \(entity Sales\.OrderLine; 0 rows\)\n/,
    );
    expect(helpdesk.stdout).not.toContain('LOSES DATA');
    const bad = await runplane([
      'migrate',
      '--database-url',
      'postgres://postgres@127.0.0.1:1/none',
      exampleDir('orders'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^DATABASE_UNAVAILABLE: /);
    const usage = await runplane(['migrate']);
    expect(usage.code).toBe(2);
  });
});
