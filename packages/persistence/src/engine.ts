/**
 * What every unit of work of one database shares: the model and its storage map, the access
 * policy, the backend, and the caches of compiled statements and text XPaths.
 */
import { UserError } from '@runplane/errors';
import {
  compileXPath,
  isDecimal,
  isMxObject,
  parseXPath,
  type MxType,
  type MxValue,
  type VariableSource,
  type XPathQuery,
} from '@runplane/expressions';
import type { CompiledModel, ModelXPath, SortItem } from '@runplane/model';
import { AccessPolicy, type UserAccess } from './access/policy.js';
import { PersistenceErrorCode } from './errors.js';
import { DomainMap } from './mapping/domain-map.js';
import {
  compileAggregate,
  compileCount,
  compileSelect,
  type AggregateFunction,
  type AggregateStatement,
  type Filter,
  type SelectStatement,
  type Statement,
} from './query/statements.js';
import { compileTableSelect, type TableStatement } from './query/table.js';
import { desiredSchema } from './schema/physical.js';
import { ID_COLUMN, quoteIdent } from './schema/names.js';
import type { SqlBackend } from './sql/backend.js';

/** What a unique constraint stands for, to report its violation as a validation problem. */
export interface UniqueMeaning {
  readonly entity: string;
  readonly member: string;
  readonly message: string;
}

/** What a foreign key with `no action` stands for: a prevent delete behaviour. */
export interface PreventMeaning {
  readonly association: string;
  readonly message: string;
}

/** Finds which root table holds each id. */
export interface LocateStatement extends Statement {
  /** Per root index in the rows' `r` column: the root entity. */
  readonly roots: readonly string[];
}

function typeOf(value: MxValue): MxType {
  if (typeof value === 'string') return { kind: 'String' };
  if (typeof value === 'bigint') return { kind: 'Long' };
  if (typeof value === 'boolean') return { kind: 'Boolean' };
  if (value instanceof Date) return { kind: 'DateTime' };
  if (value instanceof Uint8Array) return { kind: 'Binary' };
  if (isDecimal(value)) return { kind: 'Decimal' };
  if (Array.isArray(value)) {
    const first = value[0] as MxValue | undefined;
    return { kind: 'List', entity: isMxObject(first) ? first.entity : 'System.User' };
  }
  if (isMxObject(value)) return { kind: 'Object', entity: value.entity };
  return { kind: 'Empty' };
}

function variableNames(node: unknown, names: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) variableNames(item, names);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  if (record.kind === 'Variable' && typeof record.name === 'string') names.add(record.name);
  for (const [key, value] of Object.entries(record)) if (key !== 'span') variableNames(value, names);
}

/** The shared state of one open database. */
export class Engine {
  readonly model: CompiledModel;
  readonly map: DomainMap;
  readonly policy: AccessPolicy;
  readonly backend: SqlBackend;
  readonly uniques = new Map<string, UniqueMeaning>();
  readonly prevents = new Map<string, PreventMeaning>();
  readonly #statements = new Map<string, Statement>();
  readonly #xpathIds = new WeakMap<XPathQuery, number>();
  readonly #textXPaths = new Map<string, XPathQuery>();
  readonly #xpathVariables = new Map<string, string[]>();
  #nextXPathId = 0;

  constructor(model: CompiledModel, backend: SqlBackend) {
    this.model = model;
    this.backend = backend;
    this.map = new DomainMap(model);
    this.policy = new AccessPolicy(model);
    const schema = desiredSchema(model);
    for (const object of schema.objects) {
      if (object.kind !== 'constraint') continue;
      if (object.constraint === 'unique' && object.key.startsWith('attribute:')) {
        for (const entity of model.entities.values()) {
          for (const rule of entity.validationRules) {
            const attribute = entity.attributes.get(rule.rule === 'unique' ? rule.attribute : '');
            if (
              rule.rule === 'unique' &&
              attribute !== undefined &&
              object.key === `attribute:${attribute.id}:unique`
            ) {
              this.uniques.set(object.name, {
                entity: entity.name,
                member: rule.attribute,
                message: rule.message,
              });
            }
          }
        }
      }
      if (object.key.startsWith('reference:')) {
        const association = [...model.associations.values()].find((a) =>
          object.key.startsWith(`reference:${a.id}:`),
        );
        if (association === undefined) continue;
        if (object.constraint === 'unique') {
          this.uniques.set(object.name, {
            entity: association.owner,
            member: association.name,
            message: `Another ${association.owner} object already refers to this ${association.target} over ${association.name}.`,
          });
        }
        if (object.constraint === 'foreign' && association.onDeleteTarget.action === 'prevent') {
          this.prevents.set(object.name, {
            association: association.name,
            message:
              association.onDeleteTarget.message ??
              `The object is still referred to over ${association.name}.`,
          });
        }
      }
    }
  }

  /** A stable number for an XPath query, for cache keys. */
  xpathId(query: XPathQuery | undefined): string {
    if (query === undefined) return '-';
    let id = this.#xpathIds.get(query);
    if (id === undefined) {
      id = this.#nextXPathId++;
      this.#xpathIds.set(query, id);
    }
    return String(id);
  }

  /**
   * The query tree of an XPath: a model XPath's own, or a text compiled against the entity
   * (with the types of the variables given) and cached.
   *
   * @throws UserError `XPATH_INVALID` with the languages' errors and positions.
   */
  resolveXPath(
    entity: string,
    xpath: ModelXPath | string | undefined,
    variables: VariableSource | undefined,
  ): XPathQuery | undefined {
    if (xpath === undefined) return undefined;
    if (typeof xpath !== 'string') return xpath.query;
    if (xpath.trim() === '') return undefined;
    // The variables a text uses are found once; the query is compiled once per set of their types.
    const textKey = `${entity}|${xpath}`;
    let names = this.#xpathVariables.get(textKey);
    if (names === undefined) {
      const found = new Set<string>();
      variableNames(parseXPath(xpath).ast, found);
      names = [...found];
      this.#xpathVariables.set(textKey, names);
    }
    const types = new Map<string, MxType>();
    let key = textKey;
    for (const name of names) {
      const value = variables?.get(name);
      if (value === undefined) continue;
      const type = typeOf(value);
      types.set(name, type);
      key += `|${name}:${type.kind}:${'entity' in type ? type.entity : ''}`;
    }
    const cached = this.#textXPaths.get(key);
    if (cached !== undefined) return cached;
    const result = compileXPath(xpath, { schema: this.model.schema, entity, variables: types });
    if (!result.ok) {
      const first = result.errors[0];
      throw new UserError({
        code: PersistenceErrorCode.XPathInvalid,
        message: `The XPath constraint ${xpath} on ${entity} is not valid: ${first?.message ?? 'unknown error'}.`,
        details: { entity, xpath, errors: result.errors },
      });
    }
    // Texts come from the model and from code, so the set is small; the bound keeps a stray loop from growing it.
    if (this.#textXPaths.size > 10_000) {
      this.#textXPaths.clear();
      this.#xpathVariables.clear();
    }
    this.#textXPaths.set(key, result.query);
    return result.query;
  }

  #cached<T extends Statement>(key: string, build: () => T): T {
    const found = this.#statements.get(key);
    if (found !== undefined) return found as T;
    const statement = build();
    this.#statements.set(key, statement);
    return statement;
  }

  /** A select by XPath with sort and paging. */
  selectByXPath(
    filter: UserAccess,
    annotate: UserAccess,
    entity: string,
    xpath: XPathQuery | undefined,
    sort: readonly SortItem[],
    paging: boolean,
  ): SelectStatement {
    const sortKey = sort.map((s) => `${s.attribute}${s.descending ? '-' : '+'}`).join(',');
    return this.#cached(
      `select|${filter.key}|${annotate.key}|${entity}|${this.xpathId(xpath)}|${sortKey}|${paging}`,
      () =>
        compileSelect(this.map, filter, annotate, entity, {
          ...(xpath === undefined ? {} : { xpath }),
          sort,
          paging,
        }),
    );
  }

  /** A lean select by XPath for a client: the `members` as text cells (see {@link compileTableSelect}). */
  selectTable(
    filter: UserAccess,
    annotate: UserAccess,
    entity: string,
    xpath: XPathQuery | undefined,
    sort: readonly SortItem[],
    paging: boolean,
    members: readonly string[],
  ): TableStatement {
    const sortKey = sort.map((s) => `${s.attribute}${s.descending ? '-' : '+'}`).join(',');
    // A member name never holds a NUL, so the joined names are unambiguous.
    return this.#cached(
      `table|${filter.key}|${annotate.key}|${entity}|${this.xpathId(xpath)}|${sortKey}|${paging}|${members.join('\u0000')}`,
      () =>
        compileTableSelect(this.map, filter, annotate, entity, members, {
          ...(xpath === undefined ? {} : { xpath }),
          sort,
          paging,
        }),
    );
  }

  /** A count by XPath. */
  countByXPath(access: UserAccess, entity: string, xpath: XPathQuery | undefined): Statement {
    return this.#cached(`count|${access.key}|${entity}|${this.xpathId(xpath)}`, () =>
      compileCount(this.map, access, entity, xpath),
    );
  }

  /** A select by ids (input `ids`). */
  selectByIds(filter: UserAccess, annotate: UserAccess, entity: string, lock: boolean): SelectStatement {
    const byIds: Filter = (scope, params) =>
      `${scope.id} = ANY(${params.add({ kind: 'input', name: 'ids' })}::uuid[])`;
    return this.#cached(`ids|${filter.key}|${annotate.key}|${entity}|${lock}`, () =>
      compileSelect(this.map, filter, annotate, entity, { filter: byIds, lock }),
    );
  }

  /** A select of the owners of an association that refer to an object (input `target`). */
  selectReferrers(access: UserAccess, annotate: UserAccess, association: string): SelectStatement {
    return this.#cached(`referrers|${access.key}|${annotate.key}|${association}`, () => {
      const assoc = this.model.associations.get(association);
      if (assoc === undefined)
        throw new UserError({
          code: PersistenceErrorCode.UnknownMember,
          message: `The model has no association ${association}.`,
          details: { association },
        });
      const owner = this.map.entity(assoc.owner);
      const filter: Filter = (scope, params) => {
        const target = params.add({ kind: 'input', name: 'target' });
        const mapping = owner.associations.get(association);
        if (mapping?.kind === 'reference') {
          return `${scope.alias(mapping.owner)}.${quoteIdent(mapping.column)} = ${target}::uuid`;
        }
        if (mapping?.kind === 'referenceSet') {
          return `EXISTS (SELECT 1 FROM ${quoteIdent(mapping.table)} jr WHERE jr.${quoteIdent(mapping.selfColumn)} = ${scope.id} AND jr.${quoteIdent(mapping.otherColumn)} = ${target}::uuid)`;
        }
        return 'FALSE';
      };
      return compileSelect(this.map, access, annotate, assoc.owner, { filter });
    });
  }

  /** An aggregate by XPath. */
  aggregate(
    access: UserAccess,
    entity: string,
    xpath: XPathQuery | undefined,
    fn: AggregateFunction,
    attribute: string | undefined,
  ): AggregateStatement {
    return this.#cached(
      `aggregate|${access.key}|${entity}|${this.xpathId(xpath)}|${fn}|${attribute ?? ''}`,
      () => compileAggregate(this.map, access, entity, xpath, fn, attribute),
    );
  }

  /** Finds the root entity of ids (input `ids`). */
  locate(): LocateStatement {
    return this.#cached('locate', () => {
      const roots = [...this.model.entities.values()]
        .filter((e) => e.persistable && e.generalization === undefined)
        .map((e) => e.name);
      const parts = roots.map((root, i) => {
        const table = this.map.entity(root).tables.get(root) ?? '';
        return `SELECT ${quoteIdent(ID_COLUMN)} AS id, ${i} AS r FROM ${quoteIdent(table)} WHERE ${quoteIdent(ID_COLUMN)} = ANY($1::uuid[])`;
      });
      const text =
        parts.length === 0
          ? 'SELECT NULL::uuid AS id, 0 AS r WHERE FALSE AND $1::uuid[] IS NULL'
          : parts.join(' UNION ALL ');
      return { text, name: 'rp_locate', params: [{ kind: 'input', name: 'ids' }], queries: [], roots };
    });
  }
}
