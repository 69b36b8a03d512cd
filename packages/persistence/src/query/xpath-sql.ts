/**
 * XPath query trees to SQL. Every value — literals included — becomes a numbered parameter;
 * nothing from a query or a request is ever written into the SQL text. Association steps
 * become `EXISTS` subqueries (or a plain foreign-key comparison when a step only tests the
 * id at its end); attributes are read from the table of the entity that declares them, joined
 * on `id` only when needed.
 *
 * Semantics follow the query tree's contract: a comparison with an empty side is false
 * (`emptyMatches` aside), so `not` treats an unknown (NULL) result as false before negating.
 */
import type {
  MxType,
  XPathAssociationStep,
  XPathCondition,
  XPathOperand,
  XPathQuery,
} from '@runplane/expressions';
import type { DomainMap, EntityMapping } from '../mapping/domain-map.js';
import {
  ID_COLUMN,
  JOIN_OWNER_COLUMN,
  JOIN_TARGET_COLUMN,
  joinTableName,
  quoteIdent,
} from '../schema/names.js';
import { sqlCastOf, toTypedParam } from '../sql/values.js';

/** Where a statement parameter's value comes from when the statement runs. */
export type ParamSource =
  /** A value fixed when the statement was compiled (an XPath literal, an entity id, …). */
  | { readonly kind: 'constant'; readonly value: unknown }
  /** Parameter `index` of the statement's XPath query number `query`, bound per request. */
  | {
      readonly kind: 'xpath';
      readonly query: number;
      readonly index: number;
      readonly type: MxType;
      /** For string matches: the value becomes a LIKE pattern. */
      readonly like?: 'contains' | 'starts-with' | 'ends-with';
    }
  /** The user's time zone (for date parts). */
  | { readonly kind: 'timeZone' }
  /** A value the caller passes by name when it runs the statement (ids, limit, offset). */
  | { readonly kind: 'input'; readonly name: string };

/** The parameters of a statement being built. */
export class StatementParams {
  readonly sources: ParamSource[] = [];

  /** Adds a parameter and returns its placeholder (`$3`). */
  add(source: ParamSource): string {
    this.sources.push(source);
    return `$${this.sources.length}`;
  }
}

/** Makes aliases unique across a whole statement. */
export class AliasCounter {
  #next = 0;
  next(prefix = 'a'): string {
    return `${prefix}${this.#next++}`;
  }
}

/**
 * The tables of one scope entity: its own table is the base (which limits rows to the entity
 * and its specialisations); generalizations' tables join on id when an attribute needs them,
 * specialisations' tables left-join when a polymorphic read needs their columns.
 */
export class TableScope {
  readonly mapping: EntityMapping;
  readonly base: string;
  readonly #aliases = new Map<string, string>();
  readonly #leftJoins = new Set<string>();
  readonly #counter: AliasCounter;
  readonly #map: DomainMap;

  constructor(map: DomainMap, entity: string, counter: AliasCounter) {
    this.#map = map;
    this.mapping = map.entity(entity);
    this.#counter = counter;
    this.base = counter.next();
    this.#aliases.set(entity, this.base);
  }

  /** The alias of the table of `entity` (the scope entity, a generalization, or a specialisation). */
  alias(entity: string): string {
    let alias = this.#aliases.get(entity);
    if (alias === undefined) {
      alias = this.#counter.next();
      this.#aliases.set(entity, alias);
      if (!this.mapping.lineage.includes(entity)) this.#leftJoins.add(entity);
    }
    return alias;
  }

  /** `alias.id` of the base table. */
  get id(): string {
    return `${this.base}.${quoteIdent(ID_COLUMN)}`;
  }

  /** The FROM clause: the base table and every table asked for. */
  from(): string {
    const tableOf = (entity: string): string => quoteIdent(this.#map.entity(entity).tables.get(entity) ?? '');
    const parts = [`${tableOf(this.mapping.name)} ${this.base}`];
    const id = quoteIdent(ID_COLUMN);
    // Generalizations (inner) before specialisations (left), each in hierarchy order.
    const order = [...this.mapping.lineage].reverse().concat(this.mapping.descendants);
    for (const entity of order) {
      const alias = this.#aliases.get(entity);
      if (alias === undefined || entity === this.mapping.name) continue;
      const join = this.#leftJoins.has(entity) ? 'LEFT JOIN' : 'JOIN';
      parts.push(`${join} ${tableOf(entity)} ${alias} ON ${alias}.${id} = ${this.base}.${id}`);
    }
    return parts.join(' ');
  }
}

/** Compiles XPath conditions of one statement. */
export class XPathSqlCompiler {
  readonly #map: DomainMap;
  readonly #params: StatementParams;
  readonly #aliases: AliasCounter;

  constructor(map: DomainMap, params: StatementParams, aliases: AliasCounter) {
    this.#map = map;
    this.#params = params;
    this.#aliases = aliases;
  }

  /** The SQL condition of query number `queryIndex` for rows of `scope`; `TRUE` when it has none. */
  query(query: XPathQuery, scope: TableScope, queryIndex: number): string {
    return query.condition === undefined ? 'TRUE' : this.condition(query.condition, scope, queryIndex);
  }

  condition(condition: XPathCondition, scope: TableScope, q: number): string {
    switch (condition.kind) {
      case 'and':
        return condition.operands.length === 0
          ? 'TRUE'
          : `(${condition.operands.map((c) => this.condition(c, scope, q)).join(' AND ')})`;
      case 'or':
        return condition.operands.length === 0
          ? 'FALSE'
          : `(${condition.operands.map((c) => this.condition(c, scope, q)).join(' OR ')})`;
      case 'not':
        return `NOT COALESCE(${this.condition(condition.operand, scope, q)}, FALSE)`;
      case 'constant':
        return condition.value ? 'TRUE' : 'FALSE';
      case 'compare': {
        const left = this.operand(condition.left, scope, q, condition.right);
        const right = this.operand(condition.right, scope, q, condition.left);
        const operator = condition.operator === '!=' ? '<>' : condition.operator;
        const test = `${left} ${operator} ${right}`;
        if (!condition.emptyMatches) return test;
        const column = condition.left.kind === 'attribute' ? left : right;
        return `(${test} OR ${column} IS NULL)`;
      }
      case 'isEmpty':
        return `${this.operand(condition.operand, scope, q, undefined)} IS ${condition.negated ? 'NOT ' : ''}NULL`;
      case 'stringMatch': {
        const column = this.operand(condition.attribute, scope, q, undefined);
        const pattern = this.likePattern(condition.value, condition.function, q);
        return `lower(${column}) LIKE ${pattern} ESCAPE '\\'`;
      }
      case 'exists':
        return this.exists(condition.step, condition.where, scope, q);
    }
  }

  private likePattern(value: XPathOperand, fn: 'contains' | 'starts-with' | 'ends-with', q: number): string {
    if (value.kind === 'literal') {
      return this.#params.add({ kind: 'constant', value: likePatternOf(value.value, fn) });
    }
    if (value.kind === 'parameter') {
      return this.#params.add({ kind: 'xpath', query: q, index: value.index, type: value.type, like: fn });
    }
    return this.#params.add({ kind: 'constant', value: null });
  }

  /** An operand as SQL; `other` (the other side of a comparison) types a literal or parameter. */
  private operand(
    operand: XPathOperand,
    scope: TableScope,
    q: number,
    other: XPathOperand | undefined,
  ): string {
    switch (operand.kind) {
      case 'attribute': {
        // The operand's entity is the XPath's scope entity, which may be a specialisation of the
        // statement's scope (access rules of specialisations in a polymorphic retrieve).
        const entity = this.#map.find(operand.entity) ?? scope.mapping;
        const attribute =
          entity.attributes.get(operand.attribute) ?? scope.mapping.attributes.get(operand.attribute);
        if (attribute?.column === undefined) return 'NULL';
        return `${scope.alias(attribute.owner)}.${quoteIdent(attribute.column)}`;
      }
      case 'id':
        return scope.id;
      case 'literal': {
        // Compared with an id, a literal is an object id (a text that is not a uuid then matches nothing).
        const type: MxType =
          other?.kind === 'id'
            ? { kind: 'Object', entity: other.entity }
            : operand.type.kind === 'Empty' && other !== undefined
              ? (operandType(other) ?? operand.type)
              : operand.type;
        return `${this.#params.add({ kind: 'constant', value: toTypedParam(operand.value, type) })}::${sqlCastOf(type)}`;
      }
      case 'parameter':
        return `${this.#params.add({ kind: 'xpath', query: q, index: operand.index, type: operand.type })}::${sqlCastOf(operand.type)}`;
      case 'userRole':
        return this.userRole(operand.name);
      case 'function': {
        const column = this.operand(operand.argument, scope, q, undefined);
        if (operand.function === 'string-length') return `char_length(${column})::bigint`;
        const local = `(${column} AT TIME ZONE ${this.#params.add({ kind: 'timeZone' })}::text)`;
        const part = DATE_PARTS[operand.function];
        if (operand.function === 'weekday-from-dateTime') return `(EXTRACT(DOW FROM ${local}) + 1)::bigint`;
        return `floor(EXTRACT(${part} FROM ${local}))::bigint`;
      }
    }
  }

  /** The id of the `System.UserRole` object with this name (a parameter, like every value). */
  private userRole(name: string): string {
    const roles = this.#map.find('System.UserRole');
    const nameAttribute = roles?.attributes.get('Name');
    const table = roles?.tables.get('System.UserRole');
    if (roles === undefined || nameAttribute?.column === undefined || table === undefined)
      return 'NULL::uuid';
    const alias = this.#aliases.next('r');
    const param = this.#params.add({ kind: 'constant', value: name });
    return `(SELECT ${alias}.${quoteIdent(ID_COLUMN)} FROM ${quoteIdent(table)} ${alias} WHERE ${alias}.${quoteIdent(nameAttribute.column)} = ${param}::text LIMIT 1)`;
  }

  /** The foreign-key column of a Reference association in a scope that owns it. */
  private referenceColumn(association: string, scope: TableScope, owner: string, from?: string): string {
    const mapping =
      (from === undefined ? undefined : this.#map.find(from))?.associations.get(association) ??
      scope.mapping.associations.get(association);
    if (mapping?.kind === 'reference') return `${scope.alias(mapping.owner)}.${quoteIdent(mapping.column)}`;
    if (mapping?.kind === 'reverseReference')
      return `${scope.alias(mapping.owner)}.${quoteIdent(mapping.column)}`;
    const ownerMapping = this.#map.entity(owner).associations.get(association);
    const column = ownerMapping?.kind === 'reference' ? ownerMapping.column : association;
    const declaring = ownerMapping?.kind === 'reference' ? ownerMapping.owner : owner;
    return `${scope.alias(declaring)}.${quoteIdent(column)}`;
  }

  private exists(
    step: XPathAssociationStep,
    where: XPathCondition | undefined,
    scope: TableScope,
    q: number,
  ): string {
    const idTest = where === undefined ? undefined : idComparison(where);
    const forward = step.direction === 'OwnerToTarget';
    if (step.type === 'Reference' && forward) {
      // The scope holds the foreign key.
      const fk = this.referenceColumn(step.association, scope, step.owner, step.from);
      if (!step.specialization && where === undefined) return `${fk} IS NOT NULL`;
      if (!step.specialization && idTest !== undefined) {
        return `${fk} = ${this.operand(idTest, scope, q, { kind: 'id', entity: step.to })}`;
      }
      const inner = new TableScope(this.#map, step.to, this.#aliases);
      const condition = where === undefined ? 'TRUE' : this.condition(where, inner, q);
      return `EXISTS (SELECT 1 FROM ${inner.from()} WHERE ${inner.id} = ${fk} AND ${condition})`;
    }
    if (step.type === 'Reference') {
      // Walking back from the target: owners whose foreign key holds the scope's id.
      const inner = new TableScope(this.#map, step.to, this.#aliases);
      const fk = this.referenceColumn(step.association, inner, step.owner, step.to);
      const condition = where === undefined ? 'TRUE' : this.condition(where, inner, q);
      return `EXISTS (SELECT 1 FROM ${inner.from()} WHERE ${fk} = ${scope.id} AND ${condition})`;
    }
    const join = this.#aliases.next('j');
    const table = quoteIdent(joinTableName(step.association));
    const self = quoteIdent(forward ? JOIN_OWNER_COLUMN : JOIN_TARGET_COLUMN);
    const other = quoteIdent(forward ? JOIN_TARGET_COLUMN : JOIN_OWNER_COLUMN);
    if (!step.specialization && where === undefined) {
      return `EXISTS (SELECT 1 FROM ${table} ${join} WHERE ${join}.${self} = ${scope.id})`;
    }
    if (!step.specialization && idTest !== undefined) {
      const value = this.operand(idTest, scope, q, { kind: 'id', entity: step.to });
      return `EXISTS (SELECT 1 FROM ${table} ${join} WHERE ${join}.${self} = ${scope.id} AND ${join}.${other} = ${value})`;
    }
    const inner = new TableScope(this.#map, step.to, this.#aliases);
    const condition = where === undefined ? 'TRUE' : this.condition(where, inner, q);
    return `EXISTS (SELECT 1 FROM ${table} ${join} JOIN ${inner.from()} ON ${inner.id} = ${join}.${other} WHERE ${join}.${self} = ${scope.id} AND ${condition})`;
  }
}

const DATE_PARTS: Record<string, string> = {
  'year-from-dateTime': 'YEAR',
  'month-from-dateTime': 'MONTH',
  'day-from-dateTime': 'DAY',
  'hours-from-dateTime': 'HOUR',
  'minutes-from-dateTime': 'MINUTE',
  'seconds-from-dateTime': 'SECOND',
  'quarter-from-dateTime': 'QUARTER',
  'day-of-year-from-dateTime': 'DOY',
  'week-from-dateTime': 'WEEK',
  'weekday-from-dateTime': 'DOW',
};

function operandType(operand: XPathOperand): MxType | undefined {
  switch (operand.kind) {
    case 'attribute':
      return operand.type;
    case 'id':
      return { kind: 'Object', entity: operand.entity };
    case 'literal':
    case 'parameter':
    case 'function':
      return operand.type;
    case 'userRole':
      return { kind: 'Object', entity: 'System.UserRole' };
  }
}

/**
 * The value a condition compares the scope's id with, when that is all it does
 * (`[Assoc = $object]` compiles to an exists whose where is `id = $object`).
 */
function idComparison(where: XPathCondition): XPathOperand | undefined {
  let condition = where;
  while (condition.kind === 'and' && condition.operands.length === 1 && condition.operands[0] !== undefined) {
    condition = condition.operands[0];
  }
  if (condition.kind !== 'compare' || condition.operator !== '=') return undefined;
  if (condition.left.kind === 'id' && condition.right.kind !== 'id' && condition.right.kind !== 'attribute') {
    return condition.right;
  }
  if (condition.right.kind === 'id' && condition.left.kind !== 'id' && condition.left.kind !== 'attribute') {
    return condition.left;
  }
  return undefined;
}

/** A LIKE pattern matching `value` case-insensitively, its wildcards escaped. */
export function likePatternOf(value: unknown, fn: 'contains' | 'starts-with' | 'ends-with'): string | null {
  if (typeof value !== 'string') return null;
  const escaped = value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  if (fn === 'starts-with') return `${escaped}%`;
  if (fn === 'ends-with') return `%${escaped}`;
  return `%${escaped}%`;
}
