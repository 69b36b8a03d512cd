/**
 * The INSERT and UPDATE statements of an entity, built once: an INSERT per table of the
 * entity's hierarchy, and an UPDATE per table and set of changed columns. The hot path then
 * only collects parameter values.
 */
import { createHash } from 'node:crypto';
import type { AttributeMapping, DomainMap, EntityMapping, ReferenceMapping } from '../mapping/domain-map.js';
import {
  DISCRIMINATOR_COLUMN,
  ID_COLUMN,
  constraintName,
  quoteIdent,
  quoteLiteral,
} from '../schema/names.js';

/** Where an INSERT takes a column's value from. */
export type InsertColumn =
  | { readonly kind: 'discriminator'; readonly value: string }
  | { readonly kind: 'attribute'; readonly attribute: AttributeMapping }
  | { readonly kind: 'reference'; readonly association: ReferenceMapping };

/** The INSERT of one table of an entity. */
export interface InsertPlan {
  readonly text: string;
  readonly name: string;
  /** Columns after `id` ($1), in placeholder order. */
  readonly columns: readonly InsertColumn[];
  /** AutoNumber columns the database fills (RETURNING). */
  readonly returning: readonly { readonly member: string; readonly column: string }[];
}

/** A statement's name for PostgreSQL's prepared-statement cache. */
export function statementName(text: string): string {
  return `rp_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** The cast of a parameter written to a column of an attribute kind. */
export function castOf(kind: string): string {
  switch (kind) {
    case 'Integer':
      return 'integer';
    case 'Long':
    case 'AutoNumber':
      return 'bigint';
    case 'Decimal':
      return 'numeric';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'timestamptz';
    case 'Binary':
      return 'bytea';
    default:
      return 'text';
  }
}

const inserts = new WeakMap<EntityMapping, InsertPlan[]>();

/** The INSERTs of an entity, root table first. */
export function insertPlans(map: DomainMap, mapping: EntityMapping): InsertPlan[] {
  const cached = inserts.get(mapping);
  if (cached !== undefined) return cached;
  const plans = mapping.lineage.map((entity) => {
    const table = mapping.tables.get(entity) ?? '';
    const names = [quoteIdent(ID_COLUMN)];
    const values = ['$1::uuid'];
    const columns: InsertColumn[] = [];
    const returning: { member: string; column: string }[] = [];
    const add = (column: string, cast: string, source: InsertColumn): void => {
      columns.push(source);
      names.push(quoteIdent(column));
      values.push(`$${columns.length + 1}::${cast}`);
    };
    if (entity === mapping.root && map.entity(entity).discriminator !== undefined) {
      add(DISCRIMINATOR_COLUMN, 'text', { kind: 'discriminator', value: mapping.entity.id });
    }
    for (const attribute of mapping.attributes.values()) {
      if (attribute.owner !== entity || attribute.column === undefined) continue;
      if (attribute.kind === 'AutoNumber') {
        // The sequence's name comes from the model, quoted as an identifier inside a literal.
        names.push(quoteIdent(attribute.column));
        values.push(`nextval(${quoteLiteral(quoteIdent(constraintName.sequence(table, attribute.column)))})`);
        returning.push({ member: attribute.name, column: attribute.column });
        continue;
      }
      add(attribute.column, castOf(attribute.kind), { kind: 'attribute', attribute });
    }
    for (const association of mapping.associations.values()) {
      if (association.kind !== 'reference' || association.owner !== entity) continue;
      add(association.column, 'uuid', { kind: 'reference', association });
    }
    const text =
      `INSERT INTO ${quoteIdent(table)} (${names.join(', ')}) VALUES (${values.join(', ')})` +
      (returning.length > 0 ? ` RETURNING ${returning.map((r) => quoteIdent(r.column)).join(', ')}` : '');
    return { text, name: statementName(text), columns, returning };
  });
  inserts.set(mapping, plans);
  return plans;
}

const updates = new Map<string, { text: string; name: string }>();

/** `UPDATE table SET a = $2::t, … WHERE id = $1`, for these columns (cached). */
export function updateStatement(
  table: string,
  assignments: readonly { column: string; cast: string }[],
): {
  text: string;
  name: string;
} {
  const key = `${table}|${assignments.map((a) => `${a.column}:${a.cast}`).join(',')}`;
  let statement = updates.get(key);
  if (statement === undefined) {
    const set = assignments.map((a, i) => `${quoteIdent(a.column)} = $${i + 2}::${a.cast}`).join(', ');
    const text = `UPDATE ${quoteIdent(table)} SET ${set} WHERE ${quoteIdent(ID_COLUMN)} = $1::uuid`;
    statement = { text, name: statementName(text) };
    // Shapes come from the model (tables × changed-column sets), so the map stays small.
    if (updates.size > 50_000) updates.clear();
    updates.set(key, statement);
  }
  return statement;
}
