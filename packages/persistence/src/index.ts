/**
 * The domain data of a Runplane app in PostgreSQL (or PGlite in standalone mode): the schema
 * built from the model and kept in sync with it, XPath compiled to parameterised SQL, entity
 * access on every operation, and units of work ({@link UnitOfWork}) over one transaction each.
 * The only package that imports TypeORM.
 *
 * ```ts
 * const db = await openDatabase(model, { kind: 'postgres', url });   // migrates by default
 * const orders = await db.transaction(user, (uow) =>
 *   uow.retrieve({ entity: 'Sales.Order', xpath: "[Status = 'Placed']", sort: [{ attribute: 'PlacedOn', descending: true }] }),
 * );
 * ```
 */
export {
  ObjectState,
  SYSTEM_CONTEXT,
  type AggregateQuery,
  type ClientState,
  type Database,
  type DatabaseLocation,
  type EntityEvent,
  type EntityEventRunner,
  type MemberValue,
  type MxObject,
  type ObjectSnapshot,
  type ObjectTable,
  type RetrieveQuery,
  type RetrieveResult,
  type Savepoint,
  type TableQuery,
  type TableRow,
  type UnitOfWork,
  type UserContext,
  type ValidationProblem,
  type WriteOptions,
} from './api.js';
export {
  DEFAULT_DATA_DIR,
  migrateDatabase,
  openDatabase,
  planMigration,
  type OpenDatabaseOptions,
  type RunplaneDatabase,
  type RunplaneUnitOfWork,
} from './database.js';
export { PersistenceErrorCode } from './errors.js';
export { MIGRATION_LOCK_KEY, type MigrationResult } from './schema/migrate.js';
export { MigrationStepKind, formatPlan, type MigrationPlan, type MigrationStep } from './schema/plan.js';
export {
  DEFAULT_SCRYPT_PARAMETERS,
  hashString,
  isStoredHash,
  storedHashParameters,
  validScryptParameters,
  verifyString,
  type ScryptParameters,
} from './uow/hash.js';
export { HASHED_STRING_MASK } from './uow/object.js';
