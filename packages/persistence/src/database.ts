/**
 * Opening a database for a compiled model: PostgreSQL by URL (created when missing), or
 * PGlite in a data folder for standalone mode; the same SQL runs on both.
 */
import type { CompiledModel } from '@runplane/model';
import type {
  Database,
  DatabaseLocation,
  EntityEventRunner,
  MxObject,
  ObjectTable,
  TableQuery,
  UnitOfWork,
  UserContext,
} from './api.js';
import { Engine } from './engine.js';
import { buildEntitySchemas, typeOrmSchemaDrift } from './schema/entity-schemas.js';
import { applyMigration, dryRunMigration, type MigrationResult } from './schema/migrate.js';
import { VERSIONS_TABLE, quoteIdent } from './schema/names.js';
import { desiredSchema } from './schema/physical.js';
import type { MigrationPlan } from './schema/plan.js';
import {
  ensurePostgresDatabase,
  openPglite,
  openPostgres,
  withConnection,
  type SqlBackend,
} from './sql/backend.js';
import { EngineUnitOfWork } from './uow/unit-of-work.js';

/** The default data folder of standalone mode. */
export const DEFAULT_DATA_DIR = '.runplane/data';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Schema sync when opening: `apply` (default) brings the database to the model (once, under
   * the migration lock); `none` leaves it to {@link RunplaneDatabase.migrate}.
   */
  readonly migrate?: 'apply' | 'none';
  /** PostgreSQL: create the database when it does not exist (default true). */
  readonly createDatabase?: boolean;
  /** PostgreSQL: connections in the pool (default: the location's `poolSize`, else 10). */
  readonly poolSize?: number;
}

/** A {@link Database} with the migration API and typed units of work. */
export interface RunplaneDatabase extends Database {
  unitOfWork(user: UserContext, events?: EntityEventRunner): RunplaneUnitOfWork;
  transaction<T>(
    user: UserContext,
    work: (uow: RunplaneUnitOfWork) => Promise<T>,
    events?: EntityEventRunner,
  ): Promise<T>;
  /** The plan that would bring the database to the model, without changing anything. */
  planMigration(): Promise<MigrationPlan>;
  /** Brings the database to the model (one transaction, under the migration lock). */
  migrate(): Promise<MigrationResult>;
  /**
   * The SQL TypeORM's schema builder would still run for the model's EntitySchemas: empty
   * when the database matches the model (a cross-check of schema sync).
   */
  schemaDrift(): Promise<string[]>;
  /**
   * When a model version was last deployed to this database (epoch ms, the database's clock):
   * the moment schema sync recorded it, after any earlier version. Undefined when the version
   * was never recorded here.
   */
  modelVersionDeployedAt(version: string): Promise<number | undefined>;
}

/** A {@link UnitOfWork} with this package's additions. */
export interface RunplaneUnitOfWork extends UnitOfWork {
  asSystem(): RunplaneUnitOfWork;
  /** Objects by id; `entity`, when given, names their entity (or a generalization) and saves a lookup. */
  retrieveByIds(ids: readonly string[], entity?: string): Promise<MxObject[]>;
  /**
   * Objects by id read with a row lock (`SELECT … FOR UPDATE`) held to the end of this unit of
   * work's transaction, which it begins: a read-modify-write done with them is not lost to a
   * concurrent one in another transaction or process, which waits for this one and then reads
   * its result. Entity access applies as for {@link retrieveByIds}; objects this unit of work
   * already holds are returned as it holds them (lock before reading them).
   */
  lockByIds(ids: readonly string[], entity?: string): Promise<MxObject[]>;
  /** True when `candidate` is the value of the object's HashedString attribute (the hash never leaves the package). */
  verifyHashedString(object: MxObject, attribute: string, candidate: string): Promise<boolean>;
  /**
   * Objects from the database by XPath, for a client: the lean read path. What it returns is
   * what {@link retrieve} followed by a {@link UnitOfWork.snapshot} of each object would give
   * for the members asked for — the same rows, order, paging and count, the same members per
   * row under entity access, the same `MEMBER_NOT_READABLE` and `UNKNOWN_MEMBER` refusals —
   * without building objects: no request-scope copies (so {@link find} does not see them).
   */
  retrieveTable(query: TableQuery): Promise<ObjectTable>;
}

async function openBackend(
  model: CompiledModel,
  location: DatabaseLocation,
  options: OpenDatabaseOptions,
): Promise<SqlBackend> {
  const entities = buildEntitySchemas(desiredSchema(model));
  if (location.kind === 'embedded') return openPglite(location.dataDir, { entities });
  if (options.createDatabase ?? true) await ensurePostgresDatabase(location.url);
  return openPostgres(location.url, { poolSize: options.poolSize ?? location.poolSize ?? 10, entities });
}

class OpenDatabase implements RunplaneDatabase {
  readonly model: CompiledModel;
  readonly location: DatabaseLocation['kind'];
  readonly #engine: Engine;
  readonly #backend: SqlBackend;

  constructor(model: CompiledModel, backend: SqlBackend) {
    this.model = model;
    this.location = backend.kind;
    this.#backend = backend;
    this.#engine = new Engine(model, backend);
  }

  unitOfWork(user: UserContext, events?: EntityEventRunner): RunplaneUnitOfWork {
    return EngineUnitOfWork.start(this.#engine, user, events);
  }

  async transaction<T>(
    user: UserContext,
    work: (uow: RunplaneUnitOfWork) => Promise<T>,
    events?: EntityEventRunner,
  ): Promise<T> {
    const uow = this.unitOfWork(user, events);
    try {
      const result = await work(uow);
      await uow.complete();
      return result;
    } finally {
      await uow.close();
    }
  }

  async ping(): Promise<boolean> {
    try {
      await withConnection(this.#backend, (connection) => connection.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  planMigration(): Promise<MigrationPlan> {
    return dryRunMigration(this.#backend, this.model);
  }

  migrate(): Promise<MigrationResult> {
    return applyMigration(this.#backend, this.model);
  }

  schemaDrift(): Promise<string[]> {
    return typeOrmSchemaDrift(this.#backend.dataSource);
  }

  async modelVersionDeployedAt(version: string): Promise<number | undefined> {
    const result = await withConnection(this.#backend, (connection) =>
      connection.query(
        `SELECT (extract(epoch FROM max(applied_at)) * 1000)::float8 AS at FROM ${quoteIdent(VERSIONS_TABLE)} WHERE version = $1`,
        [version],
      ),
    );
    const at = result.rows[0]?.at;
    return typeof at === 'number' ? Math.floor(at) : undefined;
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}

/**
 * Opens the database of a model: PostgreSQL (creating the database when it does not exist)
 * or PGlite in a folder. By default it also brings the schema to the model.
 *
 * @throws OperationalError `DATABASE_UNAVAILABLE` when the database cannot be reached;
 *   UserError `MIGRATION_*` when the schema cannot be brought to the model.
 */
export async function openDatabase(
  model: CompiledModel,
  location: DatabaseLocation,
  options: OpenDatabaseOptions = {},
): Promise<RunplaneDatabase> {
  const backend = await openBackend(model, location, options);
  const database = new OpenDatabase(model, backend);
  if ((options.migrate ?? 'apply') === 'apply') {
    try {
      await database.migrate();
    } catch (error) {
      await database.close().catch(() => undefined);
      throw error;
    }
  }
  return database;
}

/** Plans the migration of the database at `location` to `model`, changing nothing. */
export async function planMigration(
  model: CompiledModel,
  location: DatabaseLocation,
): Promise<MigrationPlan> {
  const database = await openDatabase(model, location, { migrate: 'none' });
  try {
    return await database.planMigration();
  } finally {
    await database.close();
  }
}

/** Brings the database at `location` to `model`. */
export async function migrateDatabase(
  model: CompiledModel,
  location: DatabaseLocation,
): Promise<MigrationResult> {
  const database = await openDatabase(model, location, { migrate: 'none' });
  try {
    return await database.migrate();
  } finally {
    await database.close();
  }
}
