/**
 * Applying schema sync: one transaction holding a PostgreSQL advisory lock, in which the
 * plan is computed again (so a second migrator that waited finds nothing left to do), every
 * step runs, the registry is rewritten and the model version recorded. Any failure rolls the
 * whole migration back.
 */
import { UserError, isRunplaneError } from '@runplane/errors';
import type { CompiledModel } from '@runplane/model';
import { PersistenceErrorCode, pgErrorFields } from '../errors.js';
import { withConnection, type SqlBackend } from '../sql/backend.js';
import { BOOTSTRAP_SQL, writeRegistry } from './catalog.js';
import { VERSIONS_TABLE, quoteIdent } from './names.js';
import { planMigration, type MigrationPlan } from './plan.js';

/** The advisory lock every migrator of a database takes: "Runplane" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x52756e706c616e65n;

/** What applying did. */
export interface MigrationResult {
  /** The plan that ran (empty when the database was up to date, e.g. another migrator was first). */
  readonly plan: MigrationPlan;
  /** True when a new model version was recorded. */
  readonly recorded: boolean;
}

/** Plans without changing anything. */
export async function dryRunMigration(backend: SqlBackend, model: CompiledModel): Promise<MigrationPlan> {
  return withConnection(backend, async (connection) => {
    await connection.query('BEGIN READ ONLY');
    try {
      return (await planMigration(connection, model)).plan;
    } finally {
      await connection.query('ROLLBACK');
    }
  });
}

/** Brings the database to the model, once, however many migrators start together. */
export async function applyMigration(backend: SqlBackend, model: CompiledModel): Promise<MigrationResult> {
  return withConnection(backend, async (connection) => {
    await connection.query('BEGIN');
    let current = 'taking the migration lock';
    try {
      await connection.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      current = 'creating the internal tables';
      for (const statement of BOOTSTRAP_SQL) await connection.query(statement);
      current = 'planning';
      const { plan, registry } = await planMigration(connection, model);
      for (const step of plan.steps) {
        current = step.description;
        for (const statement of step.sql) await connection.query(statement);
      }
      current = 'recording the schema';
      await writeRegistry(connection, registry);
      const recorded = plan.steps.length > 0 || plan.appliedVersion !== model.version;
      if (recorded) {
        await connection.query(
          `INSERT INTO ${quoteIdent(VERSIONS_TABLE)} (version, app, applied_at, steps, plan) VALUES ($1, $2, now(), $3, $4)`,
          [model.version, model.app.name, plan.steps.length, JSON.stringify(plan.steps)],
        );
      }
      await connection.query('COMMIT');
      return { plan, recorded };
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      if (isRunplaneError(error)) throw error;
      throw new UserError({
        code: PersistenceErrorCode.MigrationFailed,
        message: `The migration failed at "${current}": ${error instanceof Error ? error.message : String(error)}. Nothing was changed.`,
        details: { step: current, sqlState: pgErrorFields(error)?.code ?? null },
        cause: error,
      });
    }
  });
}
