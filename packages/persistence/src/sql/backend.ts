/**
 * The two places the data can live — PostgreSQL through a pool, PGlite in a folder — behind
 * one small connection interface. TypeORM's DataSource owns the PostgreSQL pool (and gets the
 * EntitySchemas built from the model); the hot path sends parameterised SQL straight over a
 * pooled `pg` client, with named prepared statements, so no query builder runs per request.
 *
 * PGlite has one connection: connections are handed out one at a time (a unit of work holds
 * it from its first statement to its end), and TypeORM reaches the same instance through a
 * pool shim bound to it — `typeorm-pglite` keeps a process-wide singleton, which would make
 * two embedded databases in one process share one PGlite.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp';
import pg from 'pg';
import { DataSource, type EntitySchema } from 'typeorm';
import { databaseError, databaseUnavailable, pgErrorFields } from '../errors.js';

/** Rows and the number of rows a statement touched. */
export interface SqlResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number;
}

/** Something that runs SQL. */
export interface SqlSession {
  /**
   * Runs one statement with parameters (`$1`, `$2`, …). `name` makes it a named prepared
   * statement on PostgreSQL (parsed and planned once per connection).
   */
  query(text: string, params?: readonly unknown[], name?: string): Promise<SqlResult>;
  /**
   * Like {@link query}, with each row as an array of its columns in SELECT order (no object per
   * row, no column names): for readers that know their columns by position.
   */
  queryArrays(text: string, params?: readonly unknown[], name?: string): Promise<unknown[][]>;
}

/** A connection held until released. */
export interface SqlConnection extends SqlSession {
  /** Gives the connection back; `broken` discards it (after a failed ROLLBACK, say). */
  release(broken?: boolean): void;
}

/** An open database. */
export interface SqlBackend {
  readonly kind: 'postgres' | 'embedded';
  /** Where it is, for messages (no password). */
  readonly where: string;
  /** TypeORM's DataSource over the same database, with the model's EntitySchemas. */
  readonly dataSource: DataSource;
  connect(): Promise<SqlConnection>;
  close(): Promise<void>;
}

/** Runs `work` on a connection of its own and releases it. */
export async function withConnection<T>(
  backend: SqlBackend,
  work: (connection: SqlConnection) => Promise<T>,
): Promise<T> {
  const connection = await backend.connect();
  try {
    return await work(connection);
  } finally {
    connection.release();
  }
}

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<database url>';
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/**
 * Creates the database named in `url` when it does not exist (connecting to the `postgres`
 * database of the same server). Two processes racing here both end up with the database.
 */
export async function ensurePostgresDatabase(url: string): Promise<boolean> {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (name === '' || name === 'postgres') return false;
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if (pgErrorFields(error)?.code !== INVALID_CATALOG_NAME) throw databaseUnavailable(redactUrl(url), error);
  } finally {
    await probe.end().catch(() => undefined);
  }
  parsed.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: parsed.toString() });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } catch (error) {
    const code = pgErrorFields(error)?.code;
    if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
    throw databaseUnavailable(redactUrl(url), error);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

class PgConnection implements SqlConnection {
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  async query(text: string, params: readonly unknown[] = [], name?: string): Promise<SqlResult> {
    try {
      const config: pg.QueryConfig = { text, values: params as unknown[] };
      if (name !== undefined) config.name = name;
      const result = await this.#client.query(config);
      return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  async queryArrays(text: string, params: readonly unknown[] = [], name?: string): Promise<unknown[][]> {
    try {
      const config: pg.QueryArrayConfig = { text, values: params as unknown[], rowMode: 'array' };
      if (name !== undefined) config.name = name;
      return (await this.#client.query(config)).rows;
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  release(broken = false): void {
    this.#client.release(broken);
  }
}

/**
 * Keeps SQLSTATE errors as they are (callers map unique and foreign-key violations to
 * validation and delete errors), and turns everything else into a Runplane error.
 */
function wrapStatementError(error: unknown, text: string): unknown {
  if (pgErrorFields(error) !== undefined) return error;
  return databaseError(error, text);
}

/** Opens PostgreSQL through TypeORM's pool. */
export async function openPostgres(
  url: string,
  options: { readonly poolSize: number; readonly entities: readonly EntitySchema[] },
): Promise<SqlBackend> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    driver: pg,
    poolSize: options.poolSize,
    entities: [...options.entities],
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    logging: false,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw databaseUnavailable(redactUrl(url), error);
  }
  // TypeORM's PostgresDriver keeps the pool it made with `new pg.Pool(...)` as `master`.
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  return {
    kind: 'postgres',
    where: redactUrl(url),
    dataSource,
    async connect() {
      try {
        return new PgConnection(await pool.connect());
      } catch (error) {
        throw databaseUnavailable(redactUrl(url), error);
      }
    },
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------
// PGlite

/** One holder at a time, in arrival order. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }
}

class PgliteConnection implements SqlConnection {
  readonly #db: PGlite;
  readonly #unlock: () => void;

  constructor(db: PGlite, unlock: () => void) {
    this.#db = db;
    this.#unlock = unlock;
  }

  async query(text: string, params: readonly unknown[] = []): Promise<SqlResult> {
    try {
      const result = await this.#db.query<Record<string, unknown>>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  async queryArrays(text: string, params: readonly unknown[] = []): Promise<unknown[][]> {
    try {
      return (await this.#db.query<unknown[]>(text, params as unknown[], { rowMode: 'array' })).rows;
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  release(): void {
    this.#unlock();
  }
}

/** A `pg`-shaped module over one PGlite instance, for TypeORM's PostgresDriver. */
function pgliteDriverModule(db: PGlite, mutex: Mutex): unknown {
  interface Connection {
    query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number; command: string }>;
    on(): Connection;
    removeListener(): Connection;
  }
  // TypeORM listens for connection errors; PGlite's in-process connection raises none.
  const connection: Connection = {
    on: () => connection,
    removeListener: () => connection,
    async query(text, params) {
      const result =
        params !== undefined && params.length > 0
          ? await db.query(text, params)
          : ((await db.exec(text)).at(-1) ?? { rows: [], affectedRows: 0 });
      const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '';
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command };
    },
  };
  class Pool {
    on(): this {
      return this;
    }
    connect(callback: (error: unknown, connection: Connection | null, release: () => void) => void): void {
      mutex.acquire().then(
        (unlock) => {
          callback(null, connection, unlock);
        },
        (error: unknown) => {
          callback(error, null, () => undefined);
        },
      );
    }
    end(callback: (error: unknown) => void): void {
      callback(null);
    }
  }
  return { Pool };
}

/** How `pg` reads a timestamptz text (postgres-date): to a Date, `Infinity` or `-Infinity`. */
const PG_TIMESTAMPTZ = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => unknown;

/** Opens (creating when needed) a PGlite database in `dataDir`. */
export async function openPglite(
  dataDir: string,
  options: { readonly entities: readonly EntitySchema[] },
): Promise<SqlBackend> {
  let db: PGlite;
  try {
    await mkdir(dataDir, { recursive: true });
    db = await PGlite.create({
      dataDir,
      // TypeORM creates the uuid extension when an entity generates uuids; with it loaded that cannot fail.
      extensions: { uuid_ossp },
      parsers: {
        // int8 as text, as `pg` gives it, so 64-bit values keep every digit.
        [pgliteTypes.INT8]: (value: string) => value,
        // timestamptz as `pg` reads it: PGlite's own `new Date(text)` takes years below 100 for
        // 19xx/20xx and gives up on BC dates.
        [pgliteTypes.TIMESTAMPTZ]: PG_TIMESTAMPTZ,
      },
    });
  } catch (error) {
    throw databaseUnavailable(dataDir, error);
  }
  const mutex = new Mutex();
  const dataSource = new DataSource({
    type: 'postgres',
    driver: pgliteDriverModule(db, mutex),
    entities: [...options.entities],
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    logging: false,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    await db.close().catch(() => undefined);
    throw databaseUnavailable(dataDir, error);
  }
  return {
    kind: 'embedded',
    where: dataDir,
    dataSource,
    async connect() {
      const unlock = await mutex.acquire();
      return new PgliteConnection(db, unlock);
    },
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const unlock = await mutex.acquire();
      try {
        if (!db.closed) await db.close();
      } finally {
        unlock();
      }
    },
  };
}
