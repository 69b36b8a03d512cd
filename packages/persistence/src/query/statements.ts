/**
 * The SQL of retrieves, counts and aggregates, compiled once per shape — entity, XPath,
 * access rules in force, sort, paging — and cached by the caller. A statement knows how to
 * read its rows: which column holds which member for each entity a polymorphic retrieve can
 * return, and which rule columns decide what the user may read of each row.
 *
 * Entity access goes into the SQL as Mendix does it: for every entity the retrieve can
 * return, the XPath constraints of the user's rules are OR-ed into the WHERE clause (a row of
 * a specialisation is judged by the specialisation's own rules), and each constrained rule is
 * also selected as a Boolean column, so the members readable on a row are those of the rules
 * it matched. Columns no applicable rule lets the user read are not selected at all.
 */
import { createHash } from 'node:crypto';
import type { MxType, XPathQuery } from '@runplane/expressions';
import type { SortItem } from '@runplane/model';
import { SYSTEM_ACCESS_KEY, type EntityRules, type UserAccess } from '../access/policy.js';
import type { MemberValue } from '../api.js';
import { memberNotReadable, unknownMember } from '../errors.js';
import type { AttributeMapping, DomainMap, EntityMapping } from '../mapping/domain-map.js';
import { DISCRIMINATOR_COLUMN, ID_COLUMN, quoteIdent } from '../schema/names.js';
import { readId, readIds, readerOf, type ColumnReader } from '../sql/values.js';
import { HASHED_STRING_MASK } from '../uow/object.js';
import {
  AliasCounter,
  StatementParams,
  TableScope,
  XPathSqlCompiler,
  type ParamSource,
} from './xpath-sql.js';

/** How one member of an entity is read from a row. */
export interface MemberRead {
  readonly member: string;
  readonly column: string;
  readonly read: (raw: unknown) => MemberValue;
}

/** How rows of one actual entity are read. */
export interface RowShape {
  readonly entity: string;
  readonly members: readonly MemberRead[];
  /** The rules in force for the entity, or undefined for full access. */
  readonly rules: EntityRules | undefined;
  /** Per rule: the column telling whether the row matched it; undefined when it always matches. */
  readonly ruleColumns: readonly (string | undefined)[];
}

/** A compiled statement. */
export interface Statement {
  readonly text: string;
  /** Name of the prepared statement (a hash of the text). */
  readonly name: string;
  readonly params: readonly ParamSource[];
  /** The XPath queries whose parameters `params` refer to, by position. */
  readonly queries: readonly XPathQuery[];
}

/** A compiled select of objects. */
export interface SelectStatement extends Statement {
  /** Row shape per entity the rows can be of. */
  readonly shapes: ReadonlyMap<string, RowShape>;
  /** The column holding the discriminator, when rows can be of several entities. */
  readonly discriminatorColumn: string | undefined;
  readonly defaultEntity: string;
  /** True when entity access limited the rows and columns (objects then carry the user's rights). */
  readonly filtered: boolean;
}

/** Extra filtering of a statement, beyond the XPath (by ids, over an association). */
export type Filter = (scope: TableScope, params: StatementParams) => string;

/**
 * Drops the parameters a statement's text does not use (a rule compiled for a column that a
 * count leaves out) and numbers the rest from $1: PostgreSQL wants exactly the parameters
 * the text names. Identifiers never hold `$` followed by a digit (names start with a letter).
 */
export function finishStatement(
  text: string,
  sources: readonly ParamSource[],
): { text: string; params: ParamSource[] } {
  const used = [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  if (used.length === sources.length) return { text, params: [...sources] };
  const renumber = new Map(used.map((old, i) => [old, i + 1]));
  return {
    text: text.replace(/\$(\d+)/g, (_match, n: string) => `$${renumber.get(Number(n)) ?? n}`),
    params: used.map((old) => sources[old - 1] as ParamSource),
  };
}

/** The name of a statement's prepared statement: a hash of its text. */
export function statementName(text: string): string {
  return `rp_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** The entities whose objects a retrieve of `entity` can return (with tables). */
export function actualEntities(map: DomainMap, entity: EntityMapping): EntityMapping[] {
  return [entity, ...entity.descendants.map((d) => map.entity(d))].filter((e) => e.persistable);
}

interface WhereParts {
  readonly where: string;
  /** Per entity, per rule, the SQL of the rule's constraint (undefined: no constraint). */
  readonly ruleSql: ReadonlyMap<string, readonly (string | undefined)[]>;
}

/** Builds the WHERE of a statement: the XPath, the filter and the access rules. */
export class WhereBuilder {
  readonly queries: XPathQuery[] = [];

  constructor(
    private readonly map: DomainMap,
    private readonly access: UserAccess,
    private readonly compiler: XPathSqlCompiler,
    private readonly params: StatementParams,
  ) {}

  #queryIndex(query: XPathQuery): number {
    const found = this.queries.indexOf(query);
    if (found >= 0) return found;
    this.queries.push(query);
    return this.queries.length - 1;
  }

  /** The SQL of each rule's constraint (undefined for rules without one). */
  ruleConditions(scope: TableScope, rules: EntityRules): (string | undefined)[] {
    return rules.rules.map((rule) =>
      rule.xpath === undefined
        ? undefined
        : this.compiler.query(rule.xpath.query, scope, this.#queryIndex(rule.xpath.query)),
    );
  }

  /** The SQL of each rule of each entity, and the access condition combining them. */
  accessCondition(
    scope: TableScope,
    entities: readonly EntityMapping[],
    memberFilter?: string,
  ): { sql: string; ruleSql: Map<string, (string | undefined)[]> } {
    const ruleSql = new Map<string, (string | undefined)[]>();
    const perEntity: { entity: EntityMapping; sql: string }[] = [];
    let restricted = false;
    for (const entity of entities) {
      const rules = this.access.entity(entity.name);
      if (rules === undefined) {
        perEntity.push({ entity, sql: 'TRUE' });
        continue;
      }
      restricted = true;
      const sqls = this.ruleConditions(scope, rules);
      ruleSql.set(entity.name, sqls);
      const granting = rules.rules
        .map((rule, i) => ({ rule, sql: sqls[i] }))
        .filter(
          ({ rule }) => memberFilter === undefined || (rule.members.get(memberFilter) ?? 'none') !== 'none',
        );
      let sql: string;
      if (granting.length === 0) sql = 'FALSE';
      else if (granting.some((g) => g.sql === undefined)) sql = 'TRUE';
      else sql = `(${granting.map((g) => g.sql ?? 'FALSE').join(' OR ')})`;
      perEntity.push({ entity, sql });
    }
    if (!restricted) return { sql: 'TRUE', ruleSql };
    const [only] = perEntity;
    if (perEntity.length === 1 && only !== undefined) return { sql: only.sql, ruleSql };
    const root = this.map.entity(scope.mapping.root);
    const discriminator = `${scope.alias(root.name)}.${quoteIdent(DISCRIMINATOR_COLUMN)}`;
    const branches = perEntity
      .filter((p) => p.sql !== 'FALSE')
      .map((p) => {
        const id = this.params.add({ kind: 'constant', value: p.entity.entity.id });
        return p.sql === 'TRUE'
          ? `${discriminator} = ${id}::text`
          : `(${discriminator} = ${id}::text AND ${p.sql})`;
      });
    return { sql: branches.length === 0 ? 'FALSE' : `(${branches.join(' OR ')})`, ruleSql };
  }

  build(
    scope: TableScope,
    xpath: XPathQuery | undefined,
    filter: Filter | undefined,
    entities: readonly EntityMapping[],
    memberFilter?: string,
  ): WhereParts {
    const parts: string[] = [];
    if (xpath?.condition !== undefined)
      parts.push(this.compiler.query(xpath, scope, this.#queryIndex(xpath)));
    if (filter !== undefined) parts.push(filter(scope, this.params));
    const access = this.accessCondition(scope, entities, memberFilter);
    if (access.sql !== 'TRUE') parts.push(access.sql);
    return { where: parts.length === 0 ? 'TRUE' : parts.join(' AND '), ruleSql: access.ruleSql };
  }
}

const readHashedPresence = (raw: unknown): MemberValue =>
  raw === true || raw === 't' ? HASHED_STRING_MASK : null;

function readerFor(attribute: AttributeMapping): ColumnReader {
  return readerOf(attribute.kind);
}

/**
 * The ORDER BY items of a select: the sort items (empty first ascending, last descending, as
 * Mendix sorts), then the id, so that paging is stable.
 */
export function orderByOf(
  scope: TableScope,
  entity: EntityMapping,
  entityName: string,
  sort: readonly SortItem[],
): string[] {
  const order: string[] = [];
  for (const item of sort) {
    const attribute = entity.attributes.get(item.attribute);
    if (attribute === undefined) throw unknownMember(entityName, item.attribute);
    if (attribute.column === undefined) continue;
    order.push(
      `${scope.alias(attribute.owner)}.${quoteIdent(attribute.column)} ${item.descending ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}`,
    );
  }
  order.push(scope.id);
  return order;
}

/** Options of a select. */
export interface SelectOptions {
  readonly xpath?: XPathQuery;
  readonly filter?: Filter;
  readonly sort?: readonly SortItem[];
  /** Adds `LIMIT $limit OFFSET $offset` (inputs `limit` and `offset`). */
  readonly paging?: boolean;
  /** Adds `FOR UPDATE` (rows read to be changed or deleted). */
  readonly lock?: boolean;
}

/**
 * Compiles a select of objects of `entity` (its specialisations included). `filter` is the
 * access that limits rows and columns (the view's); `annotate` is the end user's, whose rules
 * decide what of each row may later go to the client (they differ in a system view of a
 * user's unit of work).
 */
export function compileSelect(
  map: DomainMap,
  filter: UserAccess,
  annotate: UserAccess,
  entityName: string,
  options: SelectOptions,
): SelectStatement {
  const entity = map.entity(entityName);
  const params = new StatementParams();
  const aliases = new AliasCounter();
  const scope = new TableScope(map, entityName, aliases);
  const compiler = new XPathSqlCompiler(map, params, aliases);
  const builder = new WhereBuilder(map, filter, compiler, params);
  const entities = actualEntities(map, entity);
  const where = builder.build(scope, options.xpath, options.filter, entities);
  const sameAccess = filter.key === annotate.key;

  const columns: string[] = [`${scope.id} AS id`];
  const hierarchy = entities.length > 1 || entity.lineage.length > 1;
  let discriminatorColumn: string | undefined;
  if (hierarchy && entity.discriminator !== undefined) {
    columns.push(`${scope.alias(entity.root)}.${quoteIdent(DISCRIMINATOR_COLUMN)} AS e`);
    discriminatorColumn = 'e';
  }
  const selected = new Map<string, string>();
  let next = 0;
  const select = (key: string, sql: string): string => {
    let alias = selected.get(key);
    if (alias === undefined) {
      alias = `c${next++}`;
      selected.set(key, alias);
      columns.push(`${sql} AS ${alias}`);
    }
    return alias;
  };
  const shapes = new Map<string, RowShape>();
  for (const actual of entities) {
    const limits = filter.entity(actual.name);
    const loads = (member: string): boolean => limits === undefined || limits.anyReadable.has(member);
    const rules = annotate.entity(actual.name);
    const members: MemberRead[] = [];
    for (const attribute of actual.attributes.values()) {
      if (attribute.column === undefined || !loads(attribute.name)) continue;
      const sql = `${scope.alias(attribute.owner)}.${quoteIdent(attribute.column)}`;
      if (attribute.kind === 'HashedString') {
        // Only whether it holds a value: the hash itself is never read back.
        const column = select(`${attribute.owner}.${attribute.column}?`, `(${sql} IS NOT NULL)`);
        members.push({ member: attribute.name, column, read: readHashedPresence });
        continue;
      }
      const column = select(`${attribute.owner}.${attribute.column}`, sql);
      members.push({ member: attribute.name, column, read: readerFor(attribute) });
    }
    for (const association of actual.associations.values()) {
      if (!loads(association.name)) continue;
      if (association.kind === 'reference') {
        const column = select(
          `${association.owner}.${association.column}`,
          `${scope.alias(association.owner)}.${quoteIdent(association.column)}`,
        );
        members.push({ member: association.name, column, read: readId });
      } else if (association.kind === 'referenceSet') {
        const j = aliases.next('j');
        const column = select(
          `set:${association.name}:${association.selfColumn}`,
          `ARRAY(SELECT ${j}.${quoteIdent(association.otherColumn)}::text FROM ${quoteIdent(association.table)} ${j} WHERE ${j}.${quoteIdent(association.selfColumn)} = ${scope.id})`,
        );
        members.push({ member: association.name, column, read: readIds });
      } else {
        const ownerTable = map.entity(association.owner).tables.get(association.owner) ?? '';
        const o = aliases.next('o');
        const column = select(
          `reverse:${association.name}`,
          `(SELECT ${o}.${quoteIdent(ID_COLUMN)} FROM ${quoteIdent(ownerTable)} ${o} WHERE ${o}.${quoteIdent(association.column)} = ${scope.id} LIMIT 1)`,
        );
        members.push({ member: association.name, column, read: readId });
      }
    }
    const ruleColumns: (string | undefined)[] = [];
    if (rules !== undefined) {
      // With the same access, the WHERE already guarantees a match: a single rule needs no column.
      const sqls = sameAccess ? (where.ruleSql.get(actual.name) ?? []) : builder.ruleConditions(scope, rules);
      const needsColumns = !sameAccess || rules.rules.length > 1;
      rules.rules.forEach((_rule, i) => {
        const sql = sqls[i];
        ruleColumns.push(
          sql === undefined || !needsColumns
            ? undefined
            : select(`rule:${actual.name}:${i}`, `COALESCE(${sql}, FALSE)`),
        );
      });
    }
    shapes.set(actual.name, { entity: actual.name, members, rules, ruleColumns });
  }

  const order = orderByOf(scope, entity, entityName, options.sort ?? []);
  let text = `SELECT ${columns.join(', ')} FROM ${scope.from()} WHERE ${where.where} ORDER BY ${order.join(', ')}`;
  if (options.paging === true) {
    text += ` LIMIT ${params.add({ kind: 'input', name: 'limit' })} OFFSET ${params.add({ kind: 'input', name: 'offset' })}`;
  }
  if (options.lock === true) text += ` FOR UPDATE OF ${scope.base}`;
  const finished = finishStatement(text, params.sources);
  return {
    text: finished.text,
    name: statementName(finished.text),
    params: finished.params,
    queries: builder.queries,
    shapes,
    discriminatorColumn,
    defaultEntity: entityName,
    filtered: filter.key !== SYSTEM_ACCESS_KEY,
  };
}

/** Compiles a count of the objects a select would return (paging aside). */
export function compileCount(
  map: DomainMap,
  access: UserAccess,
  entityName: string,
  xpath: XPathQuery | undefined,
  filter?: Filter,
): Statement {
  const entity = map.entity(entityName);
  const params = new StatementParams();
  const aliases = new AliasCounter();
  const scope = new TableScope(map, entityName, aliases);
  const builder = new WhereBuilder(map, access, new XPathSqlCompiler(map, params, aliases), params);
  const where = builder.build(scope, xpath, filter, actualEntities(map, entity));
  const { text, params: sources } = finishStatement(
    `SELECT count(*) AS count FROM ${scope.from()} WHERE ${where.where}`,
    params.sources,
  );
  return { text, name: statementName(text), params: sources, queries: builder.queries };
}

/** An aggregate function. */
export type AggregateFunction = 'count' | 'sum' | 'average' | 'minimum' | 'maximum';

/** A compiled aggregate, with the type of its result. */
export interface AggregateStatement extends Statement {
  readonly attribute: AttributeMapping | undefined;
}

/**
 * Compiles an aggregate. Over an attribute, only rows on which the user may read the
 * attribute count; `average` selects the sum and the count (divided exactly by the caller).
 */
export function compileAggregate(
  map: DomainMap,
  access: UserAccess,
  entityName: string,
  xpath: XPathQuery | undefined,
  fn: AggregateFunction,
  attributeName: string | undefined,
): AggregateStatement {
  const entity = map.entity(entityName);
  const entities = actualEntities(map, entity);
  let attribute: AttributeMapping | undefined;
  if (fn !== 'count' || attributeName !== undefined) {
    if (attributeName === undefined) throw unknownMember(entityName, '');
    attribute = entity.attributes.get(attributeName);
    if (attribute === undefined) throw unknownMember(entityName, attributeName);
    const readable = entities.some((e) => {
      const rules = access.entity(e.name);
      return rules === undefined || rules.anyReadable.has(attributeName);
    });
    if (!readable) throw memberNotReadable(entityName, attributeName);
  }
  const params = new StatementParams();
  const aliases = new AliasCounter();
  const scope = new TableScope(map, entityName, aliases);
  const builder = new WhereBuilder(map, access, new XPathSqlCompiler(map, params, aliases), params);
  const where = builder.build(scope, xpath, undefined, entities, attribute?.name);
  const column =
    attribute?.column === undefined
      ? undefined
      : `${scope.alias(attribute.owner)}.${quoteIdent(attribute.column)}`;
  let select: string;
  switch (fn) {
    case 'count':
      select = column === undefined ? 'count(*) AS value' : `count(${column}) AS value`;
      break;
    case 'sum':
      select = `sum(${column ?? 'NULL'}) AS value`;
      break;
    case 'average':
      select = `sum(${column ?? 'NULL'}) AS value, count(${column ?? 'NULL'}) AS count`;
      break;
    case 'minimum':
      select = `min(${column ?? 'NULL'}) AS value`;
      break;
    case 'maximum':
      select = `max(${column ?? 'NULL'}) AS value`;
      break;
  }
  const { text, params: sources } = finishStatement(
    `SELECT ${select} FROM ${scope.from()} WHERE ${where.where}`,
    params.sources,
  );
  return { text, name: statementName(text), params: sources, queries: builder.queries, attribute };
}

/** The MxType an aggregate returns. */
export function aggregateType(fn: AggregateFunction, attribute: AttributeMapping | undefined): MxType {
  if (fn === 'count') return { kind: 'Integer' };
  if (fn === 'average') return { kind: 'Decimal' };
  const type = attribute?.attribute.type ?? { kind: 'Decimal' };
  if (fn === 'sum' && type.kind === 'Integer') return { kind: 'Long' };
  return type;
}
