/**
 * What the database holds: the registry of schema objects this package created (keyed on
 * element ids) and, from PostgreSQL's catalog, which of them really exist.
 */
import type { SqlSession } from '../sql/backend.js';
import { scalarText } from '../sql/values.js';
import { IDEMPOTENCY_TABLE, REGISTRY_TABLE, VERSIONS_TABLE, quoteIdent } from './names.js';

/** A schema object as the registry remembers it. */
export interface RegistryRow {
  readonly key: string;
  readonly kind: 'table' | 'column' | 'sequence' | 'constraint' | 'index';
  readonly name: string;
  /** The table key of a column, constraint or index. */
  readonly parent: string | null;
  readonly definition: string;
  /** Extra facts the planner needs later (an attribute's kind, a check's values, an entity's lineage). */
  readonly info: Readonly<Record<string, unknown>>;
}

/** The relations, columns and constraints of the current schema. */
export interface Catalog {
  /** Tables, sequences and indexes by name, with their kind (`r`, `S`, `i`, …). */
  readonly relations: ReadonlyMap<string, string>;
  /** Column names per table name. */
  readonly columns: ReadonlyMap<string, ReadonlySet<string>>;
  /** Constraint names per table name. */
  readonly constraints: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The internal tables, created when missing. */
export const BOOTSTRAP_SQL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ${quoteIdent(REGISTRY_TABLE)} (
    key text PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL,
    parent text,
    definition text NOT NULL,
    info text NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS ${quoteIdent(VERSIONS_TABLE)} (
    version text NOT NULL,
    app text NOT NULL,
    applied_at timestamptz NOT NULL,
    steps integer NOT NULL,
    plan text NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS ${quoteIdent(IDEMPOTENCY_TABLE)} (
    key text PRIMARY KEY,
    claimed_at timestamptz NOT NULL
  )`,
];

/** The registry's rows; empty when the registry table does not exist yet. */
export async function readRegistry(session: SqlSession, catalog: Catalog): Promise<RegistryRow[]> {
  if (!catalog.relations.has(REGISTRY_TABLE)) return [];
  const result = await session.query(
    `SELECT key, kind, name, parent, definition, info FROM ${quoteIdent(REGISTRY_TABLE)}`,
  );
  return result.rows.map((row) => ({
    key: scalarText(row.key),
    kind: scalarText(row.kind) as RegistryRow['kind'],
    name: scalarText(row.name),
    parent: row.parent === null ? null : scalarText(row.parent),
    definition: scalarText(row.definition),
    info: JSON.parse(scalarText(row.info)) as Record<string, unknown>,
  }));
}

/** Replaces the registry's rows. */
export async function writeRegistry(session: SqlSession, rows: readonly RegistryRow[]): Promise<void> {
  await session.query(`DELETE FROM ${quoteIdent(REGISTRY_TABLE)}`);
  const chunk = 200;
  for (let start = 0; start < rows.length; start += chunk) {
    const slice = rows.slice(start, start + chunk);
    const params: unknown[] = [];
    const tuples = slice.map((row) => {
      const base = params.length;
      params.push(row.key, row.kind, row.name, row.parent, row.definition, JSON.stringify(row.info));
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
    });
    await session.query(
      `INSERT INTO ${quoteIdent(REGISTRY_TABLE)} (key, kind, name, parent, definition, info) VALUES ${tuples.join(', ')}`,
      params,
    );
  }
}

/** Reads the current schema's relations, columns and constraints. */
export async function readCatalog(session: SqlSession): Promise<Catalog> {
  const relations = new Map<string, string>();
  const relationRows = await session.query(
    `SELECT c.relname AS name, c.relkind AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema()`,
  );
  for (const row of relationRows.rows) relations.set(scalarText(row.name), scalarText(row.kind));
  const columns = new Map<string, Set<string>>();
  const columnRows = await session.query(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  );
  for (const row of columnRows.rows) {
    const table = scalarText(row.table_name);
    let set = columns.get(table);
    if (set === undefined) columns.set(table, (set = new Set()));
    set.add(scalarText(row.column_name));
  }
  const constraints = new Map<string, Set<string>>();
  const constraintRows = await session.query(
    `SELECT c.relname AS table_name, k.conname AS name
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema()`,
  );
  for (const row of constraintRows.rows) {
    const table = scalarText(row.table_name);
    let set = constraints.get(table);
    if (set === undefined) constraints.set(table, (set = new Set()));
    set.add(scalarText(row.name));
  }
  return { relations, columns, constraints };
}
