/**
 * The lean read path: a retrieve whose objects go straight to a client, compiled once per shape
 * (entity, XPath, access rules in force, sort, paging, projection) into a statement that selects
 * only the projected members' columns and a row reader that turns each row into text cells. No
 * request-scope objects, no Decimal or Date objects, no snapshots.
 *
 * It applies entity access exactly as {@link compileSelect} and the unit of work's snapshots do:
 * the same WHERE (the XPath and the OR of the user's rules per actual entity), the same columns a
 * user may load (those some applicable rule lets the user read), and per row the members of the
 * rules the row matched (read from the same rule columns, when the rules differ in what they let
 * the user read of the projection). HashedString and calculated attributes are never in a cell,
 * as snapshots leave them out.
 */
import type { XPathQuery } from '@runplane/expressions';
import type { SortItem } from '@runplane/model';
import type { EntityRules, UserAccess } from '../access/policy.js';
import { unknownMember } from '../errors.js';
import type {
  AssociationMapping,
  AttributeMapping,
  DomainMap,
  EntityMapping,
} from '../mapping/domain-map.js';
import { DISCRIMINATOR_COLUMN, ID_COLUMN, quoteIdent } from '../schema/names.js';
import { idListText, textReaderOf, type TextReader } from '../sql/text.js';
import {
  actualEntities,
  finishStatement,
  orderByOf,
  statementName,
  WhereBuilder,
  type Statement,
} from './statements.js';
import { AliasCounter, StatementParams, TableScope, XPathSqlCompiler } from './xpath-sql.js';

/** How one projected member is read from a row (array mode: by column position). */
interface CellRead {
  readonly member: string;
  readonly column: number;
  readonly read: TextReader;
}

/** How rows of one actual entity are read. */
export interface TableShape {
  readonly entity: string;
  /** Per projected member: how to read it, or undefined when it never has a cell (not loaded, not stored). */
  readonly cells: readonly (CellRead | undefined)[];
  readonly rules: EntityRules | undefined;
  /** Per rule: the column telling whether the row matched it; undefined when it does not matter. */
  readonly ruleColumns: readonly (number | undefined)[];
  /**
   * Per projected member, whether the user may read it, when that is the same on every row
   * (full access, or rules that read the same members); else undefined.
   */
  readonly fixedReadable: readonly boolean[] | undefined;
  /** Per pattern of matched rules (a bit per rule): per projected member, whether the user may read it. */
  readonly readableByPattern: Map<number, readonly boolean[]>;
}

/** A compiled lean select: rows come as arrays. */
export interface TableStatement extends Statement {
  readonly members: readonly string[];
  readonly shapes: ReadonlyMap<string, TableShape>;
  /** The column of the discriminator, when rows can be of several entities. */
  readonly discriminatorColumn: number | undefined;
  readonly defaultEntity: string;
}

/** Options of a lean select. */
export interface TableSelectOptions {
  readonly xpath?: XPathQuery;
  readonly sort?: readonly SortItem[];
  readonly paging?: boolean;
}

/** Rules per entity beyond which matched-rule patterns are not cached by a bit mask. */
const MAX_PATTERN_RULES = 30;

/** Per projected member, whether the rules matched (`flags`, per rule) let the user read it. */
function readableOf(rules: EntityRules, members: readonly string[], flags: readonly boolean[]): boolean[] {
  const access = rules.accessFor(flags);
  return members.map((m) => access.readable.has(m));
}

/** The text of a projected member's column(s), for the SELECT list. */
function memberSql(
  map: DomainMap,
  scope: TableScope,
  aliases: AliasCounter,
  attribute: AttributeMapping | undefined,
  association: AssociationMapping | undefined,
): { key: string; sql: string; read: TextReader } | undefined {
  if (attribute !== undefined) {
    // Snapshots never carry HashedStrings; calculated attributes have no column.
    if (attribute.column === undefined || attribute.kind === 'HashedString') return undefined;
    const sql = `${scope.alias(attribute.owner)}.${quoteIdent(attribute.column)}`;
    if (attribute.kind === 'DateTime') {
      // Epoch milliseconds, floored as a JavaScript Date holds them; dates a JavaScript Date
      // cannot hold (infinity, beyond +275760-09-13) read as empty, as they do on the general path.
      return {
        key: `${attribute.owner}.${attribute.column}@ms`,
        sql: `CASE WHEN isfinite(${sql}) AND ${sql} < '275760-09-13 00:00:00.001+00'::timestamptz THEN floor(extract(epoch FROM ${sql}) * 1000)::int8 END`,
        read: textReaderOf('DateTime'),
      };
    }
    return { key: `${attribute.owner}.${attribute.column}`, sql, read: textReaderOf(attribute.kind) };
  }
  if (association === undefined) return undefined;
  if (association.kind === 'reference') {
    return {
      key: `${association.owner}.${association.column}`,
      sql: `${scope.alias(association.owner)}.${quoteIdent(association.column)}`,
      read: textReaderOf('String'),
    };
  }
  if (association.kind === 'referenceSet') {
    const j = aliases.next('j');
    return {
      key: `set:${association.name}:${association.selfColumn}`,
      sql: `ARRAY(SELECT ${j}.${quoteIdent(association.otherColumn)}::text FROM ${quoteIdent(association.table)} ${j} WHERE ${j}.${quoteIdent(association.selfColumn)} = ${scope.id})`,
      read: idListText,
    };
  }
  const ownerTable = map.entity(association.owner).tables.get(association.owner) ?? '';
  const o = aliases.next('o');
  return {
    key: `reverse:${association.name}`,
    sql: `(SELECT ${o}.${quoteIdent(ID_COLUMN)} FROM ${quoteIdent(ownerTable)} ${o} WHERE ${o}.${quoteIdent(association.column)} = ${scope.id} LIMIT 1)`,
    read: textReaderOf('String'),
  };
}

/**
 * True when the rules' readable members, limited to the projection, are the same for every
 * rule: then every row a WHERE of these very rules lets through (it matched at least one of
 * them) reads the same members, and no rule column is needed.
 */
function uniformRules(rules: EntityRules, members: readonly string[]): boolean {
  const first = rules.accessFor(rules.rules.map((_r, i) => i === 0)).readable;
  return rules.rules.every((_rule, i) => {
    const readable = rules.accessFor(rules.rules.map((_r, k) => k === i)).readable;
    return members.every((m) => readable.has(m) === first.has(m));
  });
}

/**
 * Compiles a lean select of `entity` (its specialisations included), returning the `members` of
 * each object as text cells. As in {@link compileSelect}, `filter` is the access that limits rows
 * and columns (the view's) and `annotate` the end user's, whose rules decide what of each row the
 * user may read. Throws `UNKNOWN_MEMBER` for a member the entity does not have.
 */
export function compileTableSelect(
  map: DomainMap,
  filter: UserAccess,
  annotate: UserAccess,
  entityName: string,
  members: readonly string[],
  options: TableSelectOptions,
): TableStatement {
  const entity = map.entity(entityName);
  for (const member of members) {
    if (!entity.attributes.has(member) && !entity.associations.has(member))
      throw unknownMember(entityName, member);
  }
  const params = new StatementParams();
  const aliases = new AliasCounter();
  const scope = new TableScope(map, entityName, aliases);
  const compiler = new XPathSqlCompiler(map, params, aliases);
  const builder = new WhereBuilder(map, filter, compiler, params);
  const sameAccess = filter.key === annotate.key;
  const entities: EntityMapping[] = actualEntities(map, entity);
  const where = builder.build(scope, options.xpath, undefined, entities);

  const columns: string[] = [scope.id];
  let discriminatorColumn: number | undefined;
  if ((entities.length > 1 || entity.lineage.length > 1) && entity.discriminator !== undefined) {
    columns.push(`${scope.alias(entity.root)}.${quoteIdent(DISCRIMINATOR_COLUMN)}`);
    discriminatorColumn = columns.length - 1;
  }
  const selected = new Map<string, number>();
  const select = (key: string, sql: string): number => {
    let index = selected.get(key);
    if (index === undefined) {
      columns.push(sql);
      index = columns.length - 1;
      selected.set(key, index);
    }
    return index;
  };

  const shapes = new Map<string, TableShape>();
  for (const actual of entities) {
    const limits = filter.entity(actual.name);
    const loads = (member: string): boolean => limits === undefined || limits.anyReadable.has(member);
    const rules = annotate.entity(actual.name);
    const cells = members.map((member): CellRead | undefined => {
      if (!loads(member)) return undefined;
      const found = memberSql(
        map,
        scope,
        aliases,
        actual.attributes.get(member),
        actual.attributes.has(member) ? undefined : actual.associations.get(member),
      );
      if (found === undefined) return undefined;
      return { member, column: select(found.key, found.sql), read: found.read };
    });
    const ruleColumns: (number | undefined)[] = [];
    if (rules !== undefined && !(sameAccess && uniformRules(rules, members))) {
      const sqls = sameAccess ? (where.ruleSql.get(actual.name) ?? []) : builder.ruleConditions(scope, rules);
      rules.rules.forEach((_rule, i) => {
        const sql = sqls[i];
        ruleColumns.push(
          sql === undefined ? undefined : select(`rule:${actual.name}:${i}`, `COALESCE(${sql}, FALSE)`),
        );
      });
    }
    // Without rule columns every rule counts as matched: one rule, or rules that read the same members.
    const fixedReadable =
      rules === undefined
        ? members.map(() => true)
        : ruleColumns.length === 0
          ? readableOf(
              rules,
              members,
              rules.rules.map(() => true),
            )
          : undefined;
    shapes.set(actual.name, {
      entity: actual.name,
      cells,
      rules,
      ruleColumns,
      fixedReadable,
      readableByPattern: new Map(),
    });
  }

  let text = `SELECT ${columns.join(', ')} FROM ${scope.from()} WHERE ${where.where} ORDER BY ${orderByOf(scope, entity, entityName, options.sort ?? []).join(', ')}`;
  if (options.paging === true) {
    text += ` LIMIT ${params.add({ kind: 'input', name: 'limit' })} OFFSET ${params.add({ kind: 'input', name: 'offset' })}`;
  }
  const finished = finishStatement(text, params.sources);
  return {
    text: finished.text,
    name: statementName(finished.text),
    params: finished.params,
    queries: builder.queries,
    members,
    shapes,
    discriminatorColumn,
    defaultEntity: entityName,
  };
}

/** Per projected member, whether the user may read it on a row, from the rules the row matched. */
function readableOnRow(
  shape: TableShape,
  members: readonly string[],
  row: readonly unknown[],
): readonly boolean[] {
  if (shape.fixedReadable !== undefined) return shape.fixedReadable;
  const rules = shape.rules;
  const ruleColumns = shape.ruleColumns;
  if (rules === undefined) return members.map(() => true);
  const matched = (i: number): boolean => {
    const column = ruleColumns[i];
    return column === undefined || row[column] === true;
  };
  if (ruleColumns.length > MAX_PATTERN_RULES)
    return readableOf(
      rules,
      members,
      rules.rules.map((_r, i) => matched(i)),
    );
  let pattern = 0;
  for (let i = 0; i < ruleColumns.length; i++) {
    const column = ruleColumns[i];
    if (column === undefined || row[column] === true) pattern |= 1 << i;
  }
  let readable = shape.readableByPattern.get(pattern);
  if (readable === undefined) {
    readable = readableOf(
      rules,
      members,
      rules.rules.map((_r, i) => (pattern & (1 << i)) !== 0),
    );
    // Patterns are bounded by the rules' combinations, so the cache stays small.
    shape.readableByPattern.set(pattern, readable);
  }
  return readable;
}

/** One object of a table: its id, its actual entity and a cell per projected member. */
export interface TableRowData {
  readonly id: string;
  readonly entity: string;
  /** Text per member; null when empty; undefined when the user may not read it (absent). */
  readonly values: (string | null | undefined)[];
}

/**
 * Reads one row of a {@link TableStatement}. `entities` maps a discriminator value to its
 * entity, as the general path's materialisation does.
 */
export function readTableRow(
  statement: TableStatement,
  row: readonly unknown[],
  entities: { entityById(id: string): string | undefined },
): TableRowData {
  let entity = statement.defaultEntity;
  if (statement.discriminatorColumn !== undefined) {
    const actual = entities.entityById(String(row[statement.discriminatorColumn]));
    if (actual !== undefined && statement.shapes.has(actual)) entity = actual;
  }
  const shape = statement.shapes.get(entity) ?? statement.shapes.get(statement.defaultEntity);
  const members = statement.members;
  const values: (string | null | undefined)[] = new Array<string | null | undefined>(members.length);
  if (shape === undefined) return { id: String(row[0]), entity, values };
  const readable = readableOnRow(shape, members, row);
  const cells = shape.cells;
  for (let i = 0; i < members.length; i++) {
    const cell = cells[i];
    if (cell === undefined || readable[i] !== true) continue;
    const raw = row[cell.column];
    values[i] = raw === null || raw === undefined ? null : cell.read(raw);
  }
  return { id: String(row[0]), entity: shape.entity, values };
}
