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
  /**
   * Single read statements outside any transaction, without holding a connection: PostgreSQL
   * pipelines them over a few shared connections (see {@link PipelinedReads}). Absent where
   * that is not possible (PGlite); use {@link connect} then.
   */
  readonly reads?: SqlSession;
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

/** The socket under a pg client (pg exposes it, its types only on `Client`). */
function socketOf(client: pg.ClientBase): { cork(): void; uncork(): void } | undefined {
  const connection: unknown = Reflect.get(client, 'connection');
  if (typeof connection !== 'object' || connection === null) return undefined;
  const stream: unknown = Reflect.get(connection, 'stream');
  if (typeof stream !== 'object' || stream === null) return undefined;
  return 'cork' in stream && 'uncork' in stream && typeof stream.cork === 'function'
    ? (stream as { cork(): void; uncork(): void })
    : undefined;
}

class PgConnection implements SqlConnection {
  readonly #client: pg.PoolClient;
  readonly #socket: { cork(): void; uncork(): void } | undefined;

  constructor(client: pg.PoolClient) {
    this.#client = client;
    this.#socket = socketOf(client);
  }

  /**
   * Sends a statement. pg writes the Bind, Describe, Execute and Sync messages of a statement
   * one by one, which costs two or more system calls per statement (and PostgreSQL as many
   * wake-ups); corked, they leave in one write.
   */
  #corked<T>(send: () => T): T {
    const socket = this.#socket;
    if (socket === undefined) return send();
    socket.cork();
    try {
      return send();
    } finally {
      socket.uncork();
    }
  }

  async query(text: string, params: readonly unknown[] = [], name?: string): Promise<SqlResult> {
    try {
      const config: pg.QueryConfig = { text, values: params as unknown[] };
      if (name !== undefined) config.name = name;
      const result = await this.#corked(() => this.#client.query(config));
      return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  async queryArrays(text: string, params: readonly unknown[] = [], name?: string): Promise<unknown[][]> {
    try {
      const config: pg.QueryArrayConfig = { text, values: params as unknown[], rowMode: 'array' };
      if (name !== undefined) config.name = name;
      return (await this.#corked(() => this.#client.query(config))).rows;
    } catch (error) {
      throw wrapStatementError(error, text);
    }
  }

  release(broken = false): void {
    this.#client.release(broken);
  }
}

/** One pipelined connection of {@link PipelinedReads}. */
interface ReadLane {
  readonly client: pg.Client;
  /** Settles when the connection is open (rejects when it could not be opened). */
  ready: Promise<void>;
  connected: boolean;
  /** Broken or ended: takes no more statements. */
  dead: boolean;
  /** Statements sent and not yet answered. */
  inFlight: number;
  /** Statements of this turn of the event loop are being gathered into one write. */
  corked: boolean;
}

/**
 * Read statements outside transactions, pipelined over a few shared connections: each
 * statement goes to the least busy connection without waiting for the ones before it
 * (PostgreSQL answers them in order, each with its own Sync, so one's error does not touch
 * another's), and the statements of one turn of the event loop leave in one write. Against a
 * pooled connection per statement this saves a round of system calls and wake-ups on both
 * sides for every statement — about a third of the CPU a short read costs the client and the
 * server. Each statement runs in its own implicit transaction, exactly as it would on a pooled
 * connection outside a transaction; anything that needs a transaction or session state uses a
 * pooled connection. Connections open on first use and again after one breaks.
 */
export class PipelinedReads implements SqlSession {
  readonly #url: string;
  readonly #lanes: (ReadLane | undefined)[];
  #closed = false;

  /** @param size Connections at most (they open as load needs them). */
  constructor(url: string, size: number) {
    this.#url = url;
    this.#lanes = new Array<ReadLane | undefined>(Math.max(1, size)).fill(undefined);
  }

  async query(text: string, params: readonly unknown[] = [], name?: string): Promise<SqlResult> {
    const config: pg.QueryConfig = { text, values: params as unknown[] };
    if (name !== undefined) config.name = name;
    const result = await this.#send((client) => client.query(config), text);
    return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
  }

  async queryArrays(text: string, params: readonly unknown[] = [], name?: string): Promise<unknown[][]> {
    const config: pg.QueryArrayConfig = { text, values: params as unknown[], rowMode: 'array' };
    if (name !== undefined) config.name = name;
    return (await this.#send((client) => client.query(config), text)).rows;
  }

  /** Ends every connection; statements in flight are answered first. */
  async close(): Promise<void> {
    this.#closed = true;
    const lanes = this.#lanes.filter((l): l is ReadLane => l !== undefined);
    this.#lanes.fill(undefined);
    await Promise.all(lanes.map((lane) => lane.client.end().catch(() => undefined)));
  }

  async #send<T>(send: (client: pg.Client) => Promise<T>, text: string): Promise<T> {
    const lane = this.#lane();
    lane.inFlight++;
    try {
      // DATABASE_UNAVAILABLE as it is when the connection could not be opened.
      if (!lane.connected) await lane.ready;
    } catch (error) {
      lane.inFlight--;
      throw error;
    }
    try {
      this.#cork(lane);
      return await send(lane.client);
    } catch (error) {
      throw wrapStatementError(error, text);
    } finally {
      lane.inFlight--;
    }
  }

  /** The least busy open connection; a new one when every open one is busy and there is room. */
  #lane(): ReadLane {
    if (this.#closed) throw databaseUnavailable(redactUrl(this.#url), new Error('the database is closed'));
    let best: ReadLane | undefined;
    let free = -1;
    for (let i = 0; i < this.#lanes.length; i++) {
      const lane = this.#lanes[i];
      if (lane === undefined || lane.dead) {
        if (free < 0) free = i;
        continue;
      }
      if (best === undefined || lane.inFlight < best.inFlight) best = lane;
    }
    if (best !== undefined && (best.inFlight === 0 || free < 0)) return best;
    const lane = this.#open();
    this.#lanes[free] = lane;
    return lane;
  }

  #open(): ReadLane {
    const client = new pg.Client({ connectionString: this.#url, pipeline: true });
    const lane: ReadLane = {
      client,
      ready: Promise.resolve(),
      connected: false,
      dead: false,
      inFlight: 0,
      corked: false,
    };
    const retire = (): void => {
      lane.dead = true;
    };
    client.on('error', retire);
    client.on('end', retire);
    const ready = client.connect().then(
      () => {
        lane.connected = true;
      },
      (error: unknown) => {
        retire();
        throw databaseUnavailable(redactUrl(this.#url), error);
      },
    );
    // Awaited by the statements sent to it; this keeps an unobserved failure from being unhandled.
    ready.catch(() => undefined);
    lane.ready = ready;
    return lane;
  }

  /** Gathers the statements of this turn of the event loop into one write to the connection. */
  #cork(lane: ReadLane): void {
    if (lane.corked) return;
    const socket = socketOf(lane.client);
    if (socket === undefined) return;
    lane.corked = true;
    socket.cork();
    setImmediate(() => {
      lane.corked = false;
      socket.uncork();
    });
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
  // A pipelined connection carries the reads of many requests: a few are plenty.
  const reads = new PipelinedReads(url, Math.min(4, Math.max(1, Math.floor(options.poolSize / 4))));
  return {
    kind: 'postgres',
    where: redactUrl(url),
    dataSource,
    reads,
    async connect() {
      try {
        return new PgConnection(await pool.connect());
      } catch (error) {
        throw databaseUnavailable(redactUrl(url), error);
      }
    },
    async close() {
      await reads.close();
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
