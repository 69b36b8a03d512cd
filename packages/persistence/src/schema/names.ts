/**
 * Names in the database, as Mendix has them: tables `module$entity` and columns named after
 * attributes, lower-cased; association columns and join tables named after the association.
 * PostgreSQL cuts identifiers at 63 bytes, so longer names keep a readable head and end in a
 * hash of the whole name (stable, so the same model always gives the same names).
 */
import { createHash } from 'node:crypto';

/** The longest identifier PostgreSQL keeps (NAMEDATALEN - 1), in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** A name that fits PostgreSQL: unchanged when short enough, else a head plus a hash. */
export function identifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  let head = name;
  while (Buffer.byteLength(head, 'utf8') > MAX_IDENTIFIER_BYTES - hash.length - 1) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal (for DDL, which takes no parameters; never for request values). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The table of an entity: `sales$order` for `Sales.Order`. */
export function entityTableName(qualifiedName: string): string {
  return identifier(qualifiedName.replace('.', '$').toLowerCase());
}

/** The column of an attribute: its name lower-cased. */
export function attributeColumnName(attribute: string): string {
  return identifier(attribute.toLowerCase());
}

/** The foreign-key column of a Reference association, on the owner's table: `sales$order_customer`. */
export function referenceColumnName(association: string): string {
  return identifier(association.replace('.', '$').toLowerCase());
}

/** The join table of a ReferenceSet association: `helpdesk$ticket_tag`. */
export function joinTableName(association: string): string {
  return identifier(association.replace('.', '$').toLowerCase());
}

/** Columns of a join table. */
export const JOIN_OWNER_COLUMN = 'owner_id';
export const JOIN_TARGET_COLUMN = 'target_id';

/** The id column of every table. */
export const ID_COLUMN = 'id';

/** The column of a hierarchy's root table holding each object's actual entity (its element id). */
export const DISCRIMINATOR_COLUMN = 'runplane$entity';

/** Columns of the system members. */
export const SYSTEM_COLUMNS = {
  owner: 'system$owner',
  changedBy: 'system$changedby',
  createdDate: 'createddate',
  changedDate: 'changeddate',
} as const;

/** The internal tables. */
export const REGISTRY_TABLE = 'runplane$elements';
export const VERSIONS_TABLE = 'runplane$model_versions';
export const IDEMPOTENCY_TABLE = 'runplane$idempotency_keys';

/** Names of constraints and indexes, derived from their table and columns. */
export const constraintName = {
  primaryKey: (table: string): string => identifier(`${table}_pkey`),
  foreignKey: (table: string, column: string): string => identifier(`fk_${table}_${column}`),
  unique: (table: string, columns: readonly string[]): string =>
    identifier(`uq_${table}_${columns.join('_')}`),
  check: (table: string, column: string): string => identifier(`ck_${table}_${column}`),
  index: (table: string, columns: readonly string[]): string =>
    identifier(`ix_${table}_${columns.join('_')}`),
  sequence: (table: string, column: string): string => identifier(`${table}_${column}_seq`),
};
