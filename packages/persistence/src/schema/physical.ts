/**
 * The database schema a compiled model needs, as a flat list of schema objects (tables,
 * columns, sequences, constraints, indexes), each keyed on the stable element id of the
 * model element it comes from — so that a rename changes an object's name, never its key.
 *
 * Mapping (see README): a table per persistable entity; Decimal `numeric(28,8)`, String(n)
 * `varchar(n)`, unlimited String `text`, Integer `integer`, Long `bigint`, DateTime
 * `timestamptz`, Enumeration `text` with a CHECK of its keys, AutoNumber `bigint` from a
 * sequence, HashedString `text` (a salted scrypt hash), Binary `bytea`, Boolean `boolean`;
 * Reference associations as a foreign-key column on the owner's table, ReferenceSets as join
 * tables; specialisations as tables joined on `id` to their generalization's table.
 */
import type { Association, Attribute, CompiledModel, Entity } from '@runplane/model';
import {
  DISCRIMINATOR_COLUMN,
  ID_COLUMN,
  JOIN_OWNER_COLUMN,
  JOIN_TARGET_COLUMN,
  SYSTEM_COLUMNS,
  attributeColumnName,
  constraintName,
  entityTableName,
  joinTableName,
  quoteLiteral,
  referenceColumnName,
} from './names.js';
import { sqlLiteralOf } from '../sql/literals.js';

/** What happens to rows that refer to a deleted row. */
export type ForeignKeyAction = 'cascade' | 'set null' | 'no action';

/** How a column added to a table with rows gets its first values. */
export type ColumnFill =
  | { readonly kind: 'literal'; readonly sql: string }
  | { readonly kind: 'sequence'; readonly sequence: string };

interface ObjectBase {
  /** Stable key: the kind of element and its element id. */
  readonly key: string;
  readonly name: string;
  /** What the object is for, in words (for plans). */
  readonly description: string;
}

/** A table. */
export interface TableObject extends ObjectBase {
  readonly kind: 'table';
  /** For entity tables: the entity and its place in the hierarchy. */
  readonly entity?: {
    readonly name: string;
    readonly id: string;
    /** Element ids of its generalizations, nearest first. */
    readonly lineage: readonly string[];
  };
}

/** A column. */
export interface ColumnObject extends ObjectBase {
  readonly kind: 'column';
  readonly table: string;
  readonly sqlType: string;
  readonly nullable: boolean;
  readonly fill: ColumnFill | undefined;
  /** For attribute columns: the attribute's kind (to convert values when it changes). */
  readonly attributeKind: string | undefined;
}

/** A sequence (AutoNumber). */
export interface SequenceObject extends ObjectBase {
  readonly kind: 'sequence';
  readonly start: bigint;
}

/** A constraint. */
export interface ConstraintObject extends ObjectBase {
  readonly kind: 'constraint';
  readonly table: string;
  readonly constraint: 'primary' | 'foreign' | 'unique' | 'check';
  /** Keys of its columns. */
  readonly columns: readonly string[];
  readonly references:
    { readonly table: string; readonly column: string; readonly onDelete: ForeignKeyAction } | undefined;
  /** Check constraints: the allowed values (enumeration keys). */
  readonly allowed: readonly string[] | undefined;
}

/** An index. */
export interface IndexObject extends ObjectBase {
  readonly kind: 'index';
  readonly table: string;
  readonly columns: readonly { readonly column: string; readonly descending: boolean }[];
}

/** Any schema object. */
export type SchemaObject = TableObject | ColumnObject | SequenceObject | ConstraintObject | IndexObject;

/** The schema a model needs. */
export interface DesiredSchema {
  readonly objects: readonly SchemaObject[];
  readonly byKey: ReadonlyMap<string, SchemaObject>;
}

/** The SQL type of an attribute's column. */
export function attributeSqlType(attribute: Attribute): string {
  switch (attribute.kind) {
    case 'String':
      return attribute.maxLength === null ? 'text' : `varchar(${attribute.maxLength})`;
    case 'HashedString':
    case 'Enumeration':
      return 'text';
    case 'Integer':
      return 'integer';
    case 'Long':
    case 'AutoNumber':
      return 'bigint';
    case 'Decimal':
      return 'numeric(28,8)';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'timestamptz';
    case 'Binary':
      return 'bytea';
  }
}

/** True when the attribute has a column (calculated attributes have none). */
export function isStored(attribute: Attribute): boolean {
  return attribute.calculatedBy === undefined;
}

/** The key of an entity's table. */
export const tableKey = (entity: Entity): string => `entity:${entity.id}`;
/** The key of a column holding an attribute. */
export const attributeKey = (attribute: Attribute): string => `attribute:${attribute.id}`;
/** The key of a Reference association's column. */
export const referenceKey = (association: Association): string => `reference:${association.id}`;
/** The key of a ReferenceSet association's join table. */
export const joinTableKey = (association: Association): string => `referenceset:${association.id}`;

/** The persistable entities of a model, generalizations before their specialisations. */
export function persistableEntities(model: CompiledModel): Entity[] {
  return [...model.entities.values()]
    .filter((e) => e.persistable)
    .sort((a, b) => a.generalizations.length - b.generalizations.length || a.name.localeCompare(b.name));
}

/** The root of an entity's hierarchy. */
export function rootOf(model: CompiledModel, entity: Entity): Entity {
  const last = entity.generalizations[entity.generalizations.length - 1];
  return last === undefined ? entity : (model.entities.get(last) ?? entity);
}

/** True when the entity's table carries the discriminator: the root of a hierarchy. */
export function hasDiscriminator(entity: Entity): boolean {
  return entity.generalization === undefined && entity.specializations.length > 0;
}

/** Builds the schema a model needs. */
export function desiredSchema(model: CompiledModel): DesiredSchema {
  const objects: SchemaObject[] = [];
  const add = (object: SchemaObject): void => {
    objects.push(object);
  };
  const entities = persistableEntities(model);

  for (const entity of entities) {
    const table = entityTableName(entity.name);
    const tKey = tableKey(entity);
    add({
      kind: 'table',
      key: tKey,
      name: table,
      description: `entity ${entity.name}`,
      entity: {
        name: entity.name,
        id: entity.id,
        lineage: entity.generalizations.map((g) => model.entities.get(g)?.id ?? g),
      },
    });
    const idKey = `${tKey}:id`;
    add({
      kind: 'column',
      key: idKey,
      table: tKey,
      name: ID_COLUMN,
      description: `id of ${entity.name}`,
      sqlType: 'uuid',
      nullable: false,
      fill: undefined,
      attributeKind: undefined,
    });
    add({
      kind: 'constraint',
      key: `${tKey}:pkey`,
      table: tKey,
      name: constraintName.primaryKey(table),
      description: `primary key of ${entity.name}`,
      constraint: 'primary',
      columns: [idKey],
      references: undefined,
      allowed: undefined,
    });
    const parent =
      entity.generalization === undefined ? undefined : model.entities.get(entity.generalization);
    if (parent !== undefined) {
      const parentKey = tableKey(parent);
      add({
        kind: 'constraint',
        key: `${tKey}:generalization`,
        table: tKey,
        name: constraintName.foreignKey(table, ID_COLUMN),
        description: `${entity.name} specialises ${parent.name}`,
        constraint: 'foreign',
        columns: [idKey],
        references: { table: parentKey, column: `${parentKey}:id`, onDelete: 'cascade' },
        allowed: undefined,
      });
    }
    if (hasDiscriminator(entity)) {
      add({
        kind: 'column',
        key: `${tKey}:entity`,
        table: tKey,
        name: DISCRIMINATOR_COLUMN,
        description: `actual entity of each ${entity.name} object`,
        sqlType: 'text',
        nullable: false,
        fill: { kind: 'literal', sql: quoteLiteral(entity.id) },
        attributeKind: undefined,
      });
    }
    for (const attribute of entity.attributes.values()) {
      if (!isStored(attribute)) continue;
      const key = attributeKey(attribute);
      const column = attribute.system
        ? attribute.name === 'createdDate'
          ? SYSTEM_COLUMNS.createdDate
          : SYSTEM_COLUMNS.changedDate
        : attributeColumnName(attribute.name);
      let fill: ColumnFill | undefined;
      if (attribute.kind === 'AutoNumber') {
        const sequence = constraintName.sequence(table, column);
        const start =
          attribute.default.kind === 'value' && typeof attribute.default.value === 'bigint'
            ? attribute.default.value
            : 1n;
        add({
          kind: 'sequence',
          key: `${key}:sequence`,
          name: sequence,
          description: `numbers of ${entity.name}.${attribute.name}`,
          start,
        });
        fill = { kind: 'sequence', sequence: `${key}:sequence` };
      } else if (attribute.default.kind === 'value' && attribute.default.value !== null) {
        const literal = sqlLiteralOf(attribute.kind, attribute.default.value);
        if (literal !== undefined) fill = { kind: 'literal', sql: literal };
      }
      add({
        kind: 'column',
        key,
        table: tKey,
        name: column,
        description: `${attribute.system ? 'system member' : 'attribute'} ${entity.name}.${attribute.name}`,
        sqlType: attributeSqlType(attribute),
        nullable: attribute.kind !== 'Boolean' && attribute.kind !== 'AutoNumber',
        fill: attribute.kind === 'Boolean' ? (fill ?? { kind: 'literal', sql: 'false' }) : fill,
        attributeKind: attribute.kind,
      });
      if (attribute.kind === 'Enumeration' && attribute.enumeration !== undefined) {
        const enumeration = model.enumerations.get(attribute.enumeration);
        add({
          kind: 'constraint',
          key: `${key}:check`,
          table: tKey,
          name: constraintName.check(table, column),
          description: `values of ${entity.name}.${attribute.name} (${attribute.enumeration})`,
          constraint: 'check',
          columns: [key],
          references: undefined,
          allowed: (enumeration?.values ?? []).map((v) => v.key),
        });
      }
    }
    for (const rule of entity.validationRules) {
      if (rule.rule !== 'unique') continue;
      const attribute = entity.attributes.get(rule.attribute);
      if (attribute === undefined || !isStored(attribute)) continue;
      const key = attributeKey(attribute);
      const column = objects.find((o) => o.key === key)?.name ?? attributeColumnName(attribute.name);
      add({
        kind: 'constraint',
        key: `${key}:unique`,
        table: tKey,
        name: constraintName.unique(table, [column]),
        description: `unique ${entity.name}.${attribute.name}`,
        constraint: 'unique',
        columns: [key],
        references: undefined,
        allowed: undefined,
      });
    }
    for (const index of entity.indexes) {
      const columns = index.attributes.map((item) => {
        const attribute = entity.attributes.get(item.attribute);
        const key = attribute === undefined ? `attribute:${item.attribute}` : attributeKey(attribute);
        return { column: key, descending: item.descending, name: attributeColumnName(item.attribute) };
      });
      add({
        kind: 'index',
        key: `index:${index.id}`,
        table: tKey,
        name: constraintName.index(
          table,
          columns.map((c) => c.name),
        ),
        description: `index on ${entity.name}(${index.attributes.map((a) => `${a.attribute}${a.descending ? ' desc' : ''}`).join(', ')})`,
        columns: columns.map(({ column, descending }) => ({ column, descending })),
      });
    }
    const userTable = model.entities.get('System.User');
    for (const member of ['owner', 'changedBy'] as const) {
      if (!entity.system[member] || userTable === undefined) continue;
      const column = SYSTEM_COLUMNS[member];
      const key = `system:${entity.id}:${member}`;
      add({
        kind: 'column',
        key,
        table: tKey,
        name: column,
        description: `system member ${entity.name}.${member}`,
        sqlType: 'uuid',
        nullable: true,
        fill: undefined,
        attributeKind: undefined,
      });
      const userKey = tableKey(userTable);
      add({
        kind: 'constraint',
        key: `${key}:fk`,
        table: tKey,
        name: constraintName.foreignKey(table, column),
        description: `${entity.name}.${member} refers to a user`,
        constraint: 'foreign',
        columns: [key],
        references: { table: userKey, column: `${userKey}:id`, onDelete: 'set null' },
        allowed: undefined,
      });
      add({
        kind: 'index',
        key: `${key}:index`,
        table: tKey,
        name: constraintName.index(table, [column]),
        description: `index on ${entity.name}.${member}`,
        columns: [{ column: key, descending: false }],
      });
    }
  }

  for (const association of model.associations.values()) {
    const owner = model.entities.get(association.owner);
    const target = model.entities.get(association.target);
    if (owner === undefined || target === undefined || !owner.persistable || !target.persistable) continue;
    const ownerTable = entityTableName(owner.name);
    const ownerKey = tableKey(owner);
    const targetKey = tableKey(target);
    if (association.type === 'Reference') {
      const key = referenceKey(association);
      const column = referenceColumnName(association.name);
      add({
        kind: 'column',
        key,
        table: ownerKey,
        name: column,
        description: `association ${association.name}`,
        sqlType: 'uuid',
        nullable: true,
        fill: undefined,
        attributeKind: undefined,
      });
      add({
        kind: 'constraint',
        key: `${key}:fk`,
        table: ownerKey,
        name: constraintName.foreignKey(ownerTable, column),
        description: `${association.name} refers to ${target.name}`,
        constraint: 'foreign',
        columns: [key],
        references: {
          table: targetKey,
          column: `${targetKey}:id`,
          onDelete: foreignKeyAction(association.onDeleteTarget.action),
        },
        allowed: undefined,
      });
      if (association.multiplicity === 'one-to-one') {
        add({
          kind: 'constraint',
          key: `${key}:unique`,
          table: ownerKey,
          name: constraintName.unique(ownerTable, [column]),
          description: `one ${owner.name} per ${target.name} over ${association.name}`,
          constraint: 'unique',
          columns: [key],
          references: undefined,
          allowed: undefined,
        });
      } else {
        add({
          kind: 'index',
          key: `${key}:index`,
          table: ownerKey,
          name: constraintName.index(ownerTable, [column]),
          description: `index on ${association.name}`,
          columns: [{ column: key, descending: false }],
        });
      }
    } else {
      const tKey = joinTableKey(association);
      const table = joinTableName(association.name);
      add({ kind: 'table', key: tKey, name: table, description: `association ${association.name}` });
      const ownerColumn = `${tKey}:owner`;
      const targetColumn = `${tKey}:target`;
      for (const [key, name, of] of [
        [ownerColumn, JOIN_OWNER_COLUMN, owner.name],
        [targetColumn, JOIN_TARGET_COLUMN, target.name],
      ] as const) {
        add({
          kind: 'column',
          key,
          table: tKey,
          name,
          description: `${of} side of ${association.name}`,
          sqlType: 'uuid',
          nullable: false,
          fill: undefined,
          attributeKind: undefined,
        });
      }
      add({
        kind: 'constraint',
        key: `${tKey}:pkey`,
        table: tKey,
        name: constraintName.primaryKey(table),
        description: `primary key of ${association.name}`,
        constraint: 'primary',
        columns: [ownerColumn, targetColumn],
        references: undefined,
        allowed: undefined,
      });
      add({
        kind: 'constraint',
        key: `${tKey}:owner:fk`,
        table: tKey,
        name: constraintName.foreignKey(table, JOIN_OWNER_COLUMN),
        description: `${association.name} from ${owner.name}`,
        constraint: 'foreign',
        columns: [ownerColumn],
        references: { table: ownerKey, column: `${ownerKey}:id`, onDelete: 'cascade' },
        allowed: undefined,
      });
      add({
        kind: 'constraint',
        key: `${tKey}:target:fk`,
        table: tKey,
        name: constraintName.foreignKey(table, JOIN_TARGET_COLUMN),
        description: `${association.name} to ${target.name}`,
        constraint: 'foreign',
        columns: [targetColumn],
        references: { table: targetKey, column: `${targetKey}:id`, onDelete: 'cascade' },
        allowed: undefined,
      });
      add({
        kind: 'index',
        key: `${tKey}:target:index`,
        table: tKey,
        name: constraintName.index(table, [JOIN_TARGET_COLUMN]),
        description: `index on the ${target.name} side of ${association.name}`,
        columns: [{ column: targetColumn, descending: false }],
      });
    }
  }
  return { objects, byKey: new Map(objects.map((o) => [o.key, o])) };
}

/**
 * The database's own action when a referenced row goes: a safety net under the delete
 * behaviour the unit of work applies (with events and the model's messages) before it deletes.
 */
function foreignKeyAction(action: 'keep' | 'delete' | 'prevent'): ForeignKeyAction {
  if (action === 'delete') return 'cascade';
  if (action === 'prevent') return 'no action';
  return 'set null';
}

/** A canonical text of what an object is, by keys: two objects with equal definitions need no change. */
export function definitionOf(object: SchemaObject): string {
  switch (object.kind) {
    case 'table':
      return object.entity === undefined ? 'table' : `entity(${object.entity.lineage.join('<')})`;
    case 'column':
      return `${object.sqlType}${object.nullable ? '' : ' not null'}`;
    case 'sequence':
      // The start value only matters when the sequence is created: restarting one would repeat numbers.
      return 'sequence';
    case 'constraint': {
      const columns = object.columns.join(',');
      if (object.constraint === 'foreign' && object.references !== undefined) {
        return `foreign(${columns}) -> ${object.references.column} on delete ${object.references.onDelete}`;
      }
      if (object.constraint === 'check') return `check(${columns}) in (${(object.allowed ?? []).join(',')})`;
      return `${object.constraint}(${columns})`;
    }
    case 'index':
      return `index(${object.columns.map((c) => `${c.column}${c.descending ? ' desc' : ''}`).join(',')})`;
  }
}
