/**
 * The unit of work: one request's transaction (begun at the first database action) and its
 * request-scope objects. See the contract in `api.ts`.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { UserError, isRunplaneError } from '@runplane/errors';
import { assertQueryReadable } from '../access/readable.js';
import {
  Decimal,
  RoundingMode,
  createEvaluationContext,
  divideDecimal,
  resolveXPathParameters,
  type EvaluationContext,
  type MxValue,
  type VariableSource,
  type XPathQuery,
} from '@runplane/expressions';
import type { CompiledModel } from '@runplane/model';
import { FULL_ACCESS, SYSTEM_ACCESS_KEY, type ObjectAccess, type UserAccess } from '../access/policy.js';
import {
  ObjectState,
  type AggregateQuery,
  type ClientState,
  type EntityEvent,
  type EntityEventRunner,
  type MemberValue,
  type MxObject,
  type ObjectSnapshot,
  type ObjectTable,
  type RetrieveQuery,
  type RetrieveResult,
  type Savepoint,
  type TableQuery,
  type UnitOfWork,
  type UserContext,
  type ValidationProblem,
  type WriteOptions,
} from '../api.js';
import type { Engine } from '../engine.js';
import {
  PersistenceErrorCode,
  accessDenied,
  databaseError,
  deletePrevented,
  invalidMemberValue,
  invalidObjectState,
  objectNotFound,
  pgErrorFields,
  unitOfWorkClosed,
  unknownEntity,
  unknownMember,
  validationFailed,
} from '../errors.js';
import type { EntityMapping } from '../mapping/domain-map.js';
import { aggregateType, type SelectStatement, type Statement } from '../query/statements.js';
import { readTableRow } from '../query/table.js';
import { likePatternOf, type ParamSource } from '../query/xpath-sql.js';
import { ID_COLUMN, IDEMPOTENCY_TABLE, quoteIdent } from '../schema/names.js';
import type { SqlConnection, SqlResult, SqlSession } from '../sql/backend.js';
import { isUuid, readerOfType, scalarText, toParam, toTypedParam } from '../sql/values.js';
import { hashString, isStoredHash, verifyString } from './hash.js';
import {
  HASHED_STRING_MASK,
  RuntimeObject,
  checkAttributeValue,
  type ObjectHost,
  type ObjectSnapshotState,
} from './object.js';
import { validateObject } from './validation.js';
import { castOf, insertPlans, updateStatement } from './write-plans.js';

const tracer = trace.getTracer('@runplane/persistence');

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const CHECK_VIOLATION = '23514';
const NUMERIC_OUT_OF_RANGE = '22003';
const STRING_TOO_LONG = '22001';

/** Options of a unit of work. */
export interface UnitOfWorkOptions {
  /** The request's fixed time (default: when the unit of work starts). */
  readonly now?: Date;
}

/** The variables of a statement run without any. */
const NO_VARIABLES: VariableSource = new Map<string, MxValue>();

function isRuntimeObject(object: MxObject): object is RuntimeObject {
  return object instanceof RuntimeObject;
}

/** What the views of one unit of work share: the transaction and the request scope. */
class UnitState {
  readonly objects = new Map<string, RuntimeObject>();
  /** Objects committed or deleted in the transaction: their state before it (to restore on abort). */
  readonly beforeTransaction = new Map<
    string,
    { object: RuntimeObject; state: ObjectSnapshotState; scoped: boolean }
  >();
  connection: SqlConnection | undefined;
  connecting: Promise<SqlConnection> | undefined;
  /** True between BEGIN and COMMIT/ROLLBACK. */
  inTransaction = false;
  /** True once the transaction has written: a failed statement after that needs a savepoint to recover from. */
  wrote = false;
  closed = false;
  savepoints = 0;
  context: EvaluationContext | undefined;

  constructor(
    readonly engine: Engine,
    readonly events: EntityEventRunner | undefined,
    readonly now: Date,
  ) {}
}

/**
 * A view of a unit of work over an {@link Engine}: the user's (entity access applies) or the
 * system's ({@link asSystem}); both share one transaction and one request scope.
 */
export class EngineUnitOfWork implements UnitOfWork, ObjectHost {
  readonly user: UserContext;
  readonly model: CompiledModel;
  readonly #state: UnitState;
  /** The access that limits what this view reads and writes. */
  readonly #filter: UserAccess;
  /** The end user's access: what of an object may go to the client. */
  readonly #annotate: UserAccess;
  #system: EngineUnitOfWork | undefined;

  private constructor(state: UnitState, user: UserContext, filter: UserAccess, annotate: UserAccess) {
    this.#state = state;
    this.model = state.engine.model;
    this.user = user;
    this.#filter = filter;
    this.#annotate = annotate;
  }

  /** Starts a unit of work for a user. */
  static start(
    engine: Engine,
    user: UserContext,
    events: EntityEventRunner | undefined,
    options: UnitOfWorkOptions = {},
  ): EngineUnitOfWork {
    const access = engine.policy.forUser(user);
    return new EngineUnitOfWork(
      new UnitState(engine, events, options.now ?? new Date()),
      user,
      access,
      access,
    );
  }

  asSystem(): EngineUnitOfWork {
    if (this.#filter.key === SYSTEM_ACCESS_KEY) return this;
    this.#system ??= new EngineUnitOfWork(
      this.#state,
      { ...this.user, system: true },
      FULL_ACCESS,
      this.#annotate,
    );
    return this.#system;
  }

  // ---------------------------------------------------------------------------------------
  // Plumbing

  changed(object: RuntimeObject): void {
    if (object.state !== ObjectState.Deleted) this.#state.objects.set(object.id, object);
  }

  #open(): void {
    if (this.#state.closed) throw unitOfWorkClosed();
  }

  /**
   * The unit of work's connection, held until it completes. Reads before the first write run
   * outside a transaction block: under READ COMMITTED each statement sees the same committed
   * data either way, and a read-only request costs no BEGIN and COMMIT.
   */
  async #session(): Promise<SqlConnection> {
    this.#open();
    if (this.#state.connection !== undefined) return this.#state.connection;
    this.#state.connecting ??= this.#state.engine.backend.connect().then((connection) => {
      this.#state.connection = connection;
      return connection;
    });
    try {
      return await this.#state.connecting;
    } finally {
      this.#state.connecting = undefined;
    }
  }

  /** The connection inside a transaction block, begun now if it was not (writes, locks, savepoints). */
  async #transaction(): Promise<SqlConnection> {
    const connection = await this.#session();
    if (!this.#state.inTransaction) {
      try {
        await connection.query('BEGIN');
      } catch (error) {
        throw databaseError(error);
      }
      this.#state.inTransaction = true;
    }
    return connection;
  }

  #evaluationContext(): EvaluationContext {
    this.#state.context ??= createEvaluationContext({
      now: this.#state.now,
      currentUser:
        this.user.userId === undefined
          ? null
          : {
              id: this.user.userId,
              entity: 'System.User',
              get: (attribute) => {
                throw new UserError({
                  code: 'XPATH_PARAMETER_UNAVAILABLE',
                  message: `The XPath reads ${attribute} of the current user; pass $currentUser as a variable for that.`,
                  details: { variable: 'currentUser', attribute },
                });
              },
            },
      timeZone: this.user.timeZone,
      roundingMode:
        this.model.settings.roundingMode === 'HalfEven'
          ? RoundingMode.HalfEven
          : RoundingMode.HalfAwayFromZero,
      follow: (object, association) => {
        const found = this.#state.objects.get(object.id);
        if (found === undefined) return null;
        const value = found.values.get(association);
        if (typeof value === 'string') return this.#state.objects.get(value) ?? null;
        if (Array.isArray(value))
          return value
            .map((id) => this.#state.objects.get(id as string))
            .filter((o): o is RuntimeObject => o !== undefined);
        return null;
      },
    });
    return this.#state.context;
  }

  /** The parameter values of a statement. */
  #bind(
    statement: Statement,
    inputs: Readonly<Record<string, unknown>>,
    variables?: VariableSource,
  ): unknown[] {
    // A loop without closures: it runs for every statement of every request.
    const sources = statement.params;
    const params = new Array<unknown>(sources.length);
    const resolved: (MxValue[] | undefined)[] = [];
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i] as ParamSource;
      switch (source.kind) {
        case 'constant':
          params[i] = source.value;
          break;
        case 'input':
          params[i] = toParam(inputs[source.name] ?? null);
          break;
        case 'timeZone':
          params[i] = this.user.timeZone === '' ? 'UTC' : this.user.timeZone;
          break;
        case 'xpath': {
          let values = resolved[source.query];
          if (values === undefined) {
            values = this.#parameterValues(statement.queries[source.query] as XPathQuery, variables);
            resolved[source.query] = values;
          }
          const value = values[source.index] ?? null;
          params[i] =
            source.like === undefined ? toTypedParam(value, source.type) : likePatternOf(value, source.like);
          break;
        }
      }
    }
    return params;
  }

  /** The values of an XPath query's parameters for this request. */
  #parameterValues(query: XPathQuery, variables: VariableSource | undefined): MxValue[] {
    if (query.parameters.length === 0) return [];
    return resolveXPathParameters(query, {
      variables: variables ?? NO_VARIABLES,
      context: this.#evaluationContext(),
    });
  }

  async #query(text: string, params: readonly unknown[] = [], name?: string): Promise<SqlResult> {
    const session = this.#reads() ?? (await this.#session());
    return session.query(text, params, name);
  }

  /**
   * Where a read goes when this unit of work holds no connection and is in no transaction: the
   * backend's shared pipelined reads (each statement its own implicit transaction, as it would
   * be on a connection of its own). Undefined when the unit of work has a connection (its
   * reads must see its transaction) or the backend has no shared reads.
   */
  #reads(): SqlSession | undefined {
    this.#open();
    const state = this.#state;
    if (state.connection !== undefined || state.connecting !== undefined || state.inTransaction) {
      return undefined;
    }
    return state.engine.backend.reads;
  }

  async #run(
    statement: Statement,
    inputs: Readonly<Record<string, unknown>>,
    variables?: VariableSource,
  ): Promise<SqlResult> {
    const params = this.#bind(statement, inputs, variables);
    try {
      return await this.#query(statement.text, params, statement.name);
    } catch (error) {
      throw isRunplaneError(error) ? error : databaseError(error, statement.text);
    }
  }

  async #runArrays(
    statement: Statement,
    inputs: Readonly<Record<string, unknown>>,
    variables?: VariableSource,
  ): Promise<unknown[][]> {
    const params = this.#bind(statement, inputs, variables);
    try {
      const session = this.#reads() ?? (await this.#session());
      return await session.queryArrays(statement.text, params, statement.name);
    } catch (error) {
      throw isRunplaneError(error) ? error : databaseError(error, statement.text);
    }
  }

  /** Builds an object from a row of a select. */
  #materialize(statement: SelectStatement, row: Record<string, unknown>): RuntimeObject {
    let entity = statement.defaultEntity;
    if (statement.discriminatorColumn !== undefined) {
      const actual = this.#state.engine.map.entityById(String(row[statement.discriminatorColumn]));
      if (actual !== undefined && statement.shapes.has(actual)) entity = actual;
    }
    const shape = statement.shapes.get(entity) ?? statement.shapes.get(statement.defaultEntity);
    const mapping = this.#state.engine.map.entity(shape?.entity ?? entity);
    let userAccess: ObjectAccess | undefined;
    if (shape?.rules !== undefined) {
      const matched = shape.ruleColumns.map((column) => column === undefined || row[column] === true);
      userAccess = shape.rules.accessFor(matched);
    }
    const access = statement.filtered ? userAccess : undefined;
    const object = new RuntimeObject(this, mapping, String(row.id), ObjectState.Stored, access, userAccess);
    for (const member of shape?.members ?? []) {
      if (access !== undefined && !access.readable.has(member.member)) continue;
      object.setRaw(member.member, member.read(row[member.column]));
    }
    return object;
  }

  /**
   * Adds a database copy to the request scope, unless the scope has a changed copy, or one
   * read through the other view (a copy keeps the rights of the view that first read it).
   */
  #adopt(object: RuntimeObject): RuntimeObject {
    const existing = this.#state.objects.get(object.id);
    if (
      existing === undefined ||
      (existing.changedMembers.size === 0 &&
        existing.state === ObjectState.Stored &&
        (existing.access === undefined) === (object.access === undefined))
    ) {
      this.#state.objects.set(object.id, object);
    }
    return object;
  }

  #mapping(entity: string): EntityMapping {
    return this.#state.engine.map.entity(entity);
  }

  /**
   * Runs before-handlers and returns the objects that may go on. The runner raises
   * `EVENT_HANDLER_REFUSED` itself when the handler that refused says to (only it knows
   * which handler that was); an object answered false is skipped.
   */
  async #before(
    event: EntityEvent,
    objects: readonly RuntimeObject[],
    withEvents: boolean,
  ): Promise<RuntimeObject[]> {
    if (!withEvents || this.#state.events === undefined || objects.length === 0) return [...objects];
    const answers = await this.#state.events.run('before', event, objects);
    return objects.filter((_object, i) => answers[i] !== false);
  }

  async #after(event: EntityEvent, objects: readonly RuntimeObject[], withEvents: boolean): Promise<void> {
    if (!withEvents || this.#state.events === undefined || objects.length === 0) return;
    await this.#state.events.run('after', event, objects);
  }

  #own(objects: readonly MxObject[]): RuntimeObject[] {
    const seen = new Set<string>();
    const result: RuntimeObject[] = [];
    for (const object of objects) {
      if (!isRuntimeObject(object)) {
        throw invalidObjectState(object.entity, object.id, 'The object does not come from this database.');
      }
      if (seen.has(object.id)) continue;
      seen.add(object.id);
      result.push(object);
    }
    return result;
  }

  #span<T>(
    name: string,
    attributes: Record<string, string | number>,
    work: (span: Span) => Promise<T>,
  ): Promise<T> {
    return tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Runs writes so that a failed statement leaves the unit of work usable: under a savepoint
   * when the transaction has written before, else by rolling back (it did nothing worth
   * keeping yet; the next write begins anew).
   */
  async #write<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T> {
    const connection = await this.#transaction();
    const guarded = this.#state.wrote;
    if (guarded) await connection.query('SAVEPOINT rp_write');
    try {
      const result = await work(connection);
      if (guarded) await connection.query('RELEASE SAVEPOINT rp_write');
      this.#state.wrote = true;
      return result;
    } catch (error) {
      if (guarded) {
        await connection.query('ROLLBACK TO SAVEPOINT rp_write').catch(() => undefined);
      } else {
        await connection.query('ROLLBACK').catch(() => undefined);
        this.#state.inTransaction = false;
      }
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  find(id: string): MxObject | undefined {
    return this.#state.objects.get(id);
  }

  async retrieve(query: RetrieveQuery): Promise<RetrieveResult> {
    const { xpath, paging } = this.#xpathRetrieve(query);
    const statement = this.#state.engine.selectByXPath(
      this.#filter,
      this.#annotate,
      query.entity,
      xpath,
      query.sort ?? [],
      paging,
    );
    const inputs = {
      limit: query.amount === undefined ? null : BigInt(query.amount),
      offset: BigInt(query.offset ?? 0),
    };
    const result = await this.#run(statement, inputs, query.variables);
    const objects = result.rows.map((row) => this.#adopt(this.#materialize(statement, row)));
    return { objects, count: await this.#count(query, xpath) };
  }

  /** The checks and statement shared by {@link retrieve} and {@link retrieveTable}. */
  #xpathRetrieve(query: RetrieveQuery): { xpath: XPathQuery | undefined; paging: boolean } {
    this.#open();
    const mapping = this.#mapping(query.entity);
    if (!mapping.persistable) {
      throw unknownEntity(
        query.entity,
        `${query.entity} is not persistable: its objects are not in the database.`,
      );
    }
    const xpath = this.#state.engine.resolveXPath(query.entity, query.xpath, query.variables);
    assertQueryReadable(this.#filter, query.entity, xpath, query.sort);
    return { xpath, paging: query.offset !== undefined || query.amount !== undefined };
  }

  async #count(query: RetrieveQuery, xpath: XPathQuery | undefined): Promise<number | undefined> {
    if (query.count !== true) return undefined;
    const countStatement = this.#state.engine.countByXPath(this.#filter, query.entity, xpath);
    const counted = await this.#run(countStatement, {}, query.variables);
    return Number(counted.rows[0]?.count ?? 0);
  }

  async retrieveTable(query: TableQuery): Promise<ObjectTable> {
    const { xpath, paging } = this.#xpathRetrieve(query);
    const engine = this.#state.engine;
    const statement = engine.selectTable(
      this.#filter,
      this.#annotate,
      query.entity,
      xpath,
      query.sort ?? [],
      paging,
      query.members,
    );
    const inputs = {
      limit: query.amount === undefined ? null : BigInt(query.amount),
      offset: BigInt(query.offset ?? 0),
    };
    const rows = await this.#runArrays(statement, inputs, query.variables);
    return {
      members: statement.members,
      rows: rows.map((row) => readTableRow(statement, row, engine.map)),
      count: await this.#count(query, xpath),
    };
  }

  /**
   * Objects by id: the request's own copies first, the database for the rest (with entity
   * access); missing or invisible ids are left out. `entity` (an addition to the contract)
   * names the entity when the caller knows it, which saves finding the table.
   */
  async retrieveByIds(ids: readonly string[], entity?: string): Promise<MxObject[]> {
    this.#open();
    const found = new Map<string, RuntimeObject>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const own = this.#state.objects.get(id);
      if (own !== undefined && own.state !== ObjectState.Deleted) found.set(id, own);
      else if (own === undefined && isUuid(id)) missing.push(id);
    }
    if (missing.length > 0) {
      for (const object of await this.#load(missing, entity, this.#filter, this.#annotate))
        found.set(object.id, this.#adopt(object));
    }
    return ids.map((id) => found.get(id)).filter((o): o is RuntimeObject => o !== undefined);
  }

  async lockByIds(ids: readonly string[], entity?: string): Promise<MxObject[]> {
    this.#open();
    await this.#transaction();
    const wanted = [...new Set(ids)].filter(isUuid);
    const found = new Map<string, RuntimeObject>();
    if (wanted.length > 0) {
      for (const object of await this.#load(wanted, entity, this.#filter, this.#annotate, true)) {
        found.set(object.id, this.#adopt(object));
      }
    }
    return ids
      .map((id) => found.get(id))
      .filter((o): o is RuntimeObject => o !== undefined && o.state !== ObjectState.Deleted);
  }

  /** Loads objects by id from the database with the given access (no request scope involved). */
  async #load(
    ids: readonly string[],
    entity: string | undefined,
    filter: UserAccess,
    annotate: UserAccess,
    lock = false,
  ): Promise<RuntimeObject[]> {
    // A locking read needs the transaction it locks for.
    if (lock) await this.#transaction();
    const byEntity = new Map<string, string[]>();
    const hint = entity === undefined ? undefined : this.#state.engine.map.find(entity);
    if (hint !== undefined) {
      if (!hint.persistable) return [];
      byEntity.set(hint.name, [...ids]);
    } else {
      const locate = this.#state.engine.locate();
      const located = await this.#run(locate, { ids });
      for (const row of located.rows) {
        const root = locate.roots[Number(row.r)];
        if (root === undefined) continue;
        byEntity.set(root, [...(byEntity.get(root) ?? []), String(row.id)]);
      }
    }
    const objects: RuntimeObject[] = [];
    for (const [name, group] of byEntity) {
      const statement = this.#state.engine.selectByIds(filter, annotate, name, lock);
      const result = await this.#run(statement, { ids: group });
      for (const row of result.rows) objects.push(this.#materialize(statement, row));
    }
    return objects;
  }

  async retrieveByAssociation(object: MxObject, association: string): Promise<MxObject[]> {
    this.#open();
    const [source] = this.#own([object]);
    if (source === undefined) return [];
    const held = source.mapping.associations.get(association);
    if (held !== undefined) {
      if (source.access !== undefined && !source.access.readable.has(association)) {
        source.getReference(association); // throws MEMBER_NOT_READABLE with the usual message
      }
      const value = source.values.get(association) ?? null;
      const ids = Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
      if (held.kind === 'reverseReference' && value === undefined) return [];
      return this.retrieveByIds(ids, held.target);
    }
    const assoc = this.model.associations.get(association);
    if (assoc === undefined || !source.mapping.lineage.includes(assoc.target))
      throw unknownMember(source.entity, association);
    const owner = this.#mapping(assoc.owner);
    const result = new Map<string, RuntimeObject>();
    if (
      owner.persistable &&
      source.state === ObjectState.Stored &&
      this.#state.engine.map.entity(source.entity).persistable
    ) {
      const statement = this.#state.engine.selectReferrers(this.#filter, this.#annotate, association);
      const rows = await this.#run(statement, { target: source.id });
      for (const row of rows.rows) {
        const loaded = this.#materialize(statement, row);
        result.set(loaded.id, this.#adopt(loaded));
      }
    }
    // The request's own objects win: they may point elsewhere now, or point here while not yet committed.
    for (const candidate of this.#state.objects.values()) {
      if (candidate.state === ObjectState.Deleted || !candidate.mapping.lineage.includes(assoc.owner))
        continue;
      const value = candidate.values.get(association);
      const refers = Array.isArray(value) ? value.includes(source.id) : value === source.id;
      if (refers) result.set(candidate.id, candidate);
      else if (result.has(candidate.id) && candidate.changedMembers.has(association))
        result.delete(candidate.id);
    }
    return [...result.values()];
  }

  async aggregate(query: AggregateQuery): Promise<MxValue> {
    this.#open();
    const mapping = this.#mapping(query.entity);
    if (!mapping.persistable) {
      throw unknownEntity(
        query.entity,
        `${query.entity} is not persistable: its objects are not in the database.`,
      );
    }
    const xpath = this.#state.engine.resolveXPath(query.entity, query.xpath, query.variables);
    assertQueryReadable(
      this.#filter,
      query.entity,
      xpath,
      [],
      query.function === 'count' ? undefined : query.attribute,
    );
    if (query.function !== 'count') {
      const attribute = query.attribute === undefined ? undefined : mapping.attributes.get(query.attribute);
      const numeric = ['Integer', 'Long', 'Decimal', 'AutoNumber'];
      const orderable = [...numeric, 'DateTime'];
      const allowed = query.function === 'minimum' || query.function === 'maximum' ? orderable : numeric;
      if (attribute !== undefined && !allowed.includes(attribute.kind)) {
        throw new UserError({
          code: PersistenceErrorCode.InvalidAggregate,
          message: `Cannot compute the ${query.function} of ${attribute.kind} attribute ${query.entity}.${attribute.name}.`,
          details: { entity: query.entity, attribute: attribute.name, function: query.function },
        });
      }
    }
    const statement = this.#state.engine.aggregate(
      this.#filter,
      query.entity,
      xpath,
      query.function,
      query.attribute,
    );
    const result = await this.#run(statement, {}, query.variables);
    const row = result.rows[0] ?? {};
    const type = aggregateType(query.function, statement.attribute);
    switch (query.function) {
      case 'count':
        return BigInt(scalarText(row.value ?? 0));
      case 'sum': {
        const value = readerOfType(type)(row.value ?? null);
        if (value !== null) return value;
        return type.kind === 'Decimal' ? new Decimal(0) : 0n;
      }
      case 'average': {
        const count = BigInt(scalarText(row.count ?? 0));
        if (count === 0n || row.value === null || row.value === undefined) return new Decimal(0);
        return divideDecimal(new Decimal(scalarText(row.value)), new Decimal(count.toString()));
      }
      default:
        return readerOfType(type)(row.value ?? null);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Creating and changing

  #newObject(mapping: EntityMapping, id: string): RuntimeObject {
    const rules = this.#filter.entity(mapping.name);
    if (rules !== undefined && !rules.canCreate) throw accessDenied('create', mapping.name);
    const access = rules?.forNew;
    const userAccess = this.#annotate.entity(mapping.name)?.forNew;
    const object = new RuntimeObject(this, mapping, id, ObjectState.New, access, userAccess);
    for (const attribute of mapping.attributes.values()) {
      const fallback = attribute.attribute.default;
      let value: MemberValue = null;
      if (fallback.kind === 'currentDateTime') value = this.#state.now;
      else if (attribute.kind !== 'AutoNumber' && !attribute.attribute.system) value = fallback.value;
      if (attribute.kind === 'Boolean' && value === null) value = false;
      object.setRaw(attribute.name, value);
    }
    for (const association of mapping.associations.values()) {
      object.setRaw(association.name, association.kind === 'referenceSet' ? [] : null);
    }
    return object;
  }

  async instantiate(entity: string): Promise<MxObject> {
    this.#open();
    const mapping = this.#mapping(entity);
    const object = this.#newObject(mapping, randomUUID());
    if (this.#state.events === undefined) {
      this.#state.objects.set(object.id, object);
      return object;
    }
    await this.#before('create', [object], true);
    this.#state.objects.set(object.id, object);
    await this.#after('create', [object], true);
    return object;
  }

  validate(objects: readonly MxObject[]): ValidationProblem[] {
    return this.#own(objects)
      .filter((o) => o.mapping.persistable)
      .flatMap((o) => validateObject(this.model, o));
  }

  async commit(objects: readonly MxObject[], options: WriteOptions = {}): Promise<void> {
    this.#open();
    const list = this.#own(objects);
    if (list.length === 0) return;
    for (const object of list) {
      if (object.state === ObjectState.Deleted) {
        throw invalidObjectState(
          object.entity,
          object.id,
          `This ${object.entity} object was deleted and cannot be committed.`,
        );
      }
    }
    const withEvents = options.events ?? true;
    await this.#span(
      'persistence.commit',
      { 'runplane.entity': list[0]?.entity ?? '', 'runplane.objects': list.length },
      async () => {
        const allowed = await this.#before('commit', list, withEvents);
        const persistable = allowed.filter((o) => o.mapping.persistable);
        const autocommitted = this.#autocommits(persistable);
        const toWrite = [...persistable, ...autocommitted];
        const problems = toWrite.flatMap((o) => validateObject(this.model, o));
        if (problems.length > 0) throw validationFailed(problems);
        if (toWrite.length > 0) await this.#writeObjects(toWrite);
        for (const object of allowed) {
          // Non-persistable objects stay new; a commit keeps their values for a later rollback.
          if (!object.mapping.persistable) object.keepValues();
        }
        await this.#after('commit', allowed, withEvents);
      },
    );
  }

  /** New objects in the request that the committed ones refer to: committed along, without events. */
  #autocommits(list: readonly RuntimeObject[]): RuntimeObject[] {
    const included = new Set(list.map((o) => o.id));
    const extra: RuntimeObject[] = [];
    const queue = [...list];
    while (queue.length > 0) {
      const object = queue.pop();
      if (object === undefined) break;
      for (const association of object.mapping.associations.values()) {
        if (association.kind === 'reference' && association.system) continue;
        const value = object.values.get(association.name);
        const ids = Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
        for (const id of ids) {
          const target = this.#state.objects.get(id);
          if (
            target === undefined ||
            included.has(id) ||
            target.state !== ObjectState.New ||
            !target.mapping.persistable
          )
            continue;
          included.add(id);
          extra.push(target);
          queue.push(target);
        }
      }
    }
    return extra;
  }

  #remember(object: RuntimeObject): void {
    if (!this.#state.beforeTransaction.has(object.id)) {
      this.#state.beforeTransaction.set(object.id, {
        object,
        state: object.capture(),
        scoped: this.#state.objects.has(object.id),
      });
    }
  }

  /** Inserts and updates, in an order that lets every foreign key find its row. */
  async #writeObjects(list: readonly RuntimeObject[]): Promise<void> {
    const hashes = new Map<RuntimeObject, Map<string, string>>();
    for (const object of list) {
      if (object.plain.size === 0) continue;
      const hashed = new Map<string, string>();
      // A value that is a hash already (the identity package hashes passwords itself) is kept as is.
      for (const [attribute, plain] of object.plain)
        hashed.set(attribute, isStoredHash(plain) ? plain : await hashString(plain));
      hashes.set(object, hashed);
    }
    const ordered = this.#insertOrder(list);
    const results = new Map<RuntimeObject, Map<string, MemberValue>>();
    let writing: RuntimeObject | undefined;
    const now = this.#state.now;
    try {
      await this.#write(async (connection) => {
        const deferred: { object: RuntimeObject; association: string }[] = [];
        const pendingNew = new Set(ordered.filter((o) => o.state === ObjectState.New).map((o) => o.id));
        for (const object of ordered) {
          writing = object;
          const set = new Map<string, MemberValue>();
          results.set(object, set);
          if (object.state === ObjectState.New) {
            await this.#insert(connection, object, hashes.get(object), now, set, pendingNew, deferred);
            pendingNew.delete(object.id);
          } else {
            await this.#update(connection, object, hashes.get(object), now, set);
          }
        }
        // Join rows and one-to-one back references last: by now every row they refer to exists.
        for (const object of ordered) {
          writing = object;
          const isNew = object.state === ObjectState.New;
          await this.#writeSets(connection, object, isNew);
          await this.#writeReverse(connection, object);
        }
        for (const { object, association } of deferred) {
          const mapping = object.mapping.associations.get(association);
          if (mapping?.kind !== 'reference') continue;
          const table = object.mapping.tables.get(mapping.owner) ?? '';
          await connection.query(
            `UPDATE ${quoteIdent(table)} SET ${quoteIdent(mapping.column)} = $1::uuid WHERE ${quoteIdent(ID_COLUMN)} = $2::uuid`,
            [object.values.get(association) ?? null, object.id],
          );
        }
      });
    } catch (error) {
      throw this.#writeError(error, writing);
    }
    for (const object of ordered) {
      this.#remember(object);
      for (const [member, value] of results.get(object) ?? []) object.setRaw(member, value);
      object.markStored();
      this.#state.objects.set(object.id, object);
    }
  }

  /** New objects that others in the list refer to go first; a cycle is broken by setting a reference afterwards. */
  #insertOrder(list: readonly RuntimeObject[]): RuntimeObject[] {
    if (list.length === 1) return [...list];
    const byId = new Map(list.map((o) => [o.id, o]));
    const done = new Set<string>();
    const visiting = new Set<string>();
    const order: RuntimeObject[] = [];
    const visit = (object: RuntimeObject): void => {
      if (done.has(object.id) || visiting.has(object.id)) return;
      visiting.add(object.id);
      for (const association of object.mapping.associations.values()) {
        if (association.kind !== 'reference') continue;
        const target = object.values.get(association.name);
        const other = typeof target === 'string' ? byId.get(target) : undefined;
        if (other !== undefined && other.state === ObjectState.New) visit(other);
      }
      visiting.delete(object.id);
      done.add(object.id);
      order.push(object);
    };
    for (const object of list) visit(object);
    return order;
  }

  async #insert(
    connection: SqlConnection,
    object: RuntimeObject,
    hashed: Map<string, string> | undefined,
    now: Date,
    set: Map<string, MemberValue>,
    pendingNew: ReadonlySet<string>,
    deferred: { object: RuntimeObject; association: string }[],
  ): Promise<void> {
    const userId = this.user.userId !== undefined && isUuid(this.user.userId) ? this.user.userId : null;
    for (const plan of insertPlans(this.#state.engine.map, object.mapping)) {
      const params: unknown[] = [object.id];
      for (const column of plan.columns) {
        if (column.kind === 'discriminator') {
          params.push(column.value);
        } else if (column.kind === 'attribute') {
          const attribute = column.attribute;
          if (attribute.attribute.system) {
            set.set(attribute.name, now);
            params.push(now);
          } else if (attribute.kind === 'HashedString') {
            params.push(hashed?.get(attribute.name) ?? null);
          } else {
            params.push(toParam(object.values.get(attribute.name) ?? null));
          }
        } else if (column.association.system) {
          set.set(column.association.name, userId);
          params.push(userId);
        } else {
          const name = column.association.name;
          const value = object.values.get(name) ?? null;
          // A reference to itself or to a new object stored later in this commit is set afterwards.
          if (typeof value === 'string' && (value === object.id || pendingNew.has(value))) {
            deferred.push({ object, association: name });
            params.push(null);
          } else {
            params.push(value);
          }
        }
      }
      const result = await connection.query(plan.text, params, plan.name);
      const row = result.rows[0];
      for (const r of plan.returning)
        set.set(r.member, row === undefined ? null : BigInt(scalarText(row[r.column])));
    }
  }

  async #update(
    connection: SqlConnection,
    object: RuntimeObject,
    hashed: Map<string, string> | undefined,
    now: Date,
    set: Map<string, MemberValue>,
  ): Promise<void> {
    const mapping = object.mapping;
    const changed = object.changedMembers;
    if (changed.size === 0) return;
    const tables = new Map<string, { assignments: { column: string; cast: string }[]; params: unknown[] }>();
    const assign = (entity: string, column: string, value: unknown, cast: string): void => {
      let entry = tables.get(entity);
      if (entry === undefined) tables.set(entity, (entry = { assignments: [], params: [] }));
      entry.params.push(value);
      entry.assignments.push({ column, cast });
    };
    for (const member of changed) {
      const attribute = mapping.attributes.get(member);
      if (attribute?.column !== undefined) {
        const value =
          attribute.kind === 'HashedString'
            ? (hashed?.get(member) ?? null)
            : (object.values.get(member) ?? null);
        assign(attribute.owner, attribute.column, toParam(value), castOf(attribute.kind));
        continue;
      }
      const association = mapping.associations.get(member);
      if (association?.kind === 'reference' && !association.system) {
        assign(association.owner, association.column, object.values.get(member) ?? null, 'uuid');
      }
    }
    for (const attribute of mapping.attributes.values()) {
      if (attribute.attribute.system && attribute.name === 'changedDate' && attribute.column !== undefined) {
        assign(attribute.owner, attribute.column, now, 'timestamptz');
        set.set(attribute.name, now);
      }
    }
    const changedBy = mapping.associations.get('System.changedBy');
    if (changedBy?.kind === 'reference') {
      const value = this.user.userId !== undefined && isUuid(this.user.userId) ? this.user.userId : null;
      assign(changedBy.owner, changedBy.column, value, 'uuid');
      set.set('System.changedBy', value);
    }
    for (const [entity, { assignments, params }] of tables) {
      const statement = updateStatement(mapping.tables.get(entity) ?? '', assignments);
      const result = await connection.query(statement.text, [object.id, ...params], statement.name);
      if (result.rowCount === 0) throw objectNotFound(object.entity, object.id);
    }
  }

  /** ReferenceSet changes as join-table rows. */
  async #writeSets(connection: SqlConnection, object: RuntimeObject, isNew: boolean): Promise<void> {
    for (const association of object.mapping.associations.values()) {
      if (association.kind !== 'referenceSet') continue;
      if (!isNew && !object.changedMembers.has(association.name)) continue;
      const now = (object.values.get(association.name) ?? []) as string[];
      const before = isNew ? [] : ((object.original.get(association.name) ?? []) as string[]);
      const removed = before.filter((id) => !now.includes(id));
      const added = now.filter((id) => !before.includes(id));
      const table = quoteIdent(association.table);
      const self = quoteIdent(association.selfColumn);
      const other = quoteIdent(association.otherColumn);
      if (removed.length > 0) {
        await connection.query(
          `DELETE FROM ${table} WHERE ${self} = $1::uuid AND ${other} = ANY($2::uuid[])`,
          [object.id, removed],
        );
      }
      if (added.length > 0) {
        await connection.query(
          `INSERT INTO ${table} (${self}, ${other}) SELECT $1::uuid, t FROM unnest($2::uuid[]) AS t ON CONFLICT DO NOTHING`,
          [object.id, added],
        );
      }
    }
  }

  /** A one-to-one association set from its target side: the owner's column changes. */
  async #writeReverse(connection: SqlConnection, object: RuntimeObject): Promise<void> {
    for (const association of object.mapping.associations.values()) {
      if (association.kind !== 'reverseReference' || !object.changedMembers.has(association.name)) continue;
      const owner = this.#mapping(association.owner);
      const table = quoteIdent(owner.tables.get(association.owner) ?? '');
      const column = quoteIdent(association.column);
      await connection.query(`UPDATE ${table} SET ${column} = NULL WHERE ${column} = $1::uuid`, [object.id]);
      const target = object.values.get(association.name);
      if (typeof target === 'string') {
        await connection.query(
          `UPDATE ${table} SET ${column} = $1::uuid WHERE ${quoteIdent(ID_COLUMN)} = $2::uuid`,
          [object.id, target],
        );
      }
    }
  }

  /** A failed write as the error a caller can act on. */
  #writeError(error: unknown, object?: RuntimeObject): unknown {
    if (isRunplaneError(error)) return error;
    const fields = pgErrorFields(error);
    if (fields === undefined) return databaseError(error);
    if (fields.code === UNIQUE_VIOLATION) {
      const meaning =
        fields.constraint === undefined ? undefined : this.#state.engine.uniques.get(fields.constraint);
      if (meaning !== undefined) {
        return validationFailed([
          {
            objectId: object?.id ?? '',
            entity: object?.entity ?? meaning.entity,
            member: meaning.member,
            message: meaning.message,
          },
        ]);
      }
    }
    if (fields.code === FOREIGN_KEY_VIOLATION) {
      return new UserError({
        code: PersistenceErrorCode.InvalidMemberValue,
        message:
          'An association refers to an object that does not exist (or is not of the associated entity).',
        details: { constraint: fields.constraint ?? null },
        cause: error,
      });
    }
    if (
      fields.code === CHECK_VIOLATION ||
      fields.code === NUMERIC_OUT_OF_RANGE ||
      fields.code === STRING_TOO_LONG
    ) {
      return invalidMemberValue(
        '',
        fields.constraint ?? '',
        `A value does not fit its column: ${fields.message ?? ''}`,
      );
    }
    return databaseError(error);
  }

  // ---------------------------------------------------------------------------------------
  // Deleting and rolling back

  async delete(objects: readonly MxObject[], options: WriteOptions = {}): Promise<void> {
    this.#open();
    const roots = this.#own(objects).filter((o) => o.state !== ObjectState.Deleted);
    if (roots.length === 0) return;
    const withEvents = options.events ?? true;
    await this.#span(
      'persistence.delete',
      { 'runplane.entity': roots[0]?.entity ?? '', 'runplane.objects': roots.length },
      async () => {
        for (const object of roots) {
          if (
            object.state === ObjectState.Stored &&
            object.access !== undefined &&
            !object.access.canDelete
          ) {
            throw accessDenied('delete', object.entity, object.id);
          }
        }
        const allowed = await this.#before('delete', roots, withEvents);
        // Objects deleted along are read FOR UPDATE: that needs the transaction now.
        if (allowed.some((o) => o.state === ObjectState.Stored && o.mapping.persistable))
          await this.#transaction();
        const { order, cascaded } = await this.#cascade(allowed);
        const extra = await this.#before('delete', cascaded, withEvents);
        const skipped = new Set(cascaded.filter((o) => !extra.includes(o)).map((o) => o.id));
        const doomed = order.filter((o) => !skipped.has(o.id));
        const stored = doomed.filter((o) => o.state === ObjectState.Stored && o.mapping.persistable);
        if (stored.length > 0) {
          try {
            await this.#write(async (connection) => {
              const byRoot = new Map<string, string[]>();
              for (const object of stored)
                byRoot.set(object.mapping.root, [...(byRoot.get(object.mapping.root) ?? []), object.id]);
              for (const [root, ids] of byRoot) {
                const table = this.#mapping(root).tables.get(root) ?? '';
                await connection.query(
                  `DELETE FROM ${quoteIdent(table)} WHERE ${quoteIdent(ID_COLUMN)} = ANY($1::uuid[])`,
                  [ids],
                );
              }
            });
          } catch (error) {
            const fields = pgErrorFields(error);
            const prevent =
              fields?.constraint === undefined
                ? undefined
                : this.#state.engine.prevents.get(fields.constraint);
            if (fields?.code === FOREIGN_KEY_VIOLATION && prevent !== undefined) {
              throw deletePrevented(
                roots[0]?.entity ?? '',
                roots[0]?.id ?? '',
                prevent.association,
                prevent.message,
              );
            }
            throw this.#writeError(error);
          }
        }
        const gone = new Set(doomed.map((o) => o.id));
        for (const object of doomed) {
          if (object.state === ObjectState.Stored) this.#remember(object);
          object.setState(ObjectState.Deleted);
          this.#state.objects.delete(object.id);
        }
        this.#clearReferencesTo(gone);
        await this.#after('delete', [...allowed, ...extra], withEvents);
      },
    );
  }

  /**
   * Follows delete behaviour from the objects being deleted: collects the objects to delete
   * with them and refuses (with the model's message) where an association prevents it.
   */
  async #cascade(
    roots: readonly RuntimeObject[],
  ): Promise<{ order: RuntimeObject[]; cascaded: RuntimeObject[] }> {
    const doomed = new Map(roots.map((o) => [o.id, o]));
    const cascaded: RuntimeObject[] = [];
    const queue = [...roots];

    while (queue.length > 0) {
      const object = queue.shift();
      if (object === undefined) break;
      for (const association of this.#state.engine.map.associationsOf(object.entity)) {
        const isOwner = object.mapping.lineage.includes(association.owner);
        const isTarget = object.mapping.lineage.includes(association.target);
        const add = async (ids: readonly string[]): Promise<void> => {
          const fresh = ids.filter((id) => !doomed.has(id));
          if (fresh.length === 0) return;
          const scoped = fresh
            .map((id) => this.#state.objects.get(id))
            .filter((o): o is RuntimeObject => o !== undefined);
          const unscoped = fresh.filter((id) => !this.#state.objects.has(id));
          const loaded =
            unscoped.length === 0
              ? []
              : await this.#load(unscoped, undefined, FULL_ACCESS, this.#annotate, true);
          for (const next of [...scoped, ...loaded]) {
            if (doomed.has(next.id) || next.state === ObjectState.Deleted) continue;
            doomed.set(next.id, next);
            cascaded.push(next);
            queue.push(next);
          }
        };
        if (isOwner && association.onDeleteOwner.action !== 'keep') {
          const value = object.values.get(association.name);
          const ids = (Array.isArray(value) ? value : typeof value === 'string' ? [value] : []) as string[];
          const others = ids.filter((id) => !doomed.has(id));
          if (association.onDeleteOwner.action === 'prevent' && others.length > 0) {
            throw deletePrevented(
              object.entity,
              object.id,
              association.name,
              association.onDeleteOwner.message ?? '',
            );
          }
          if (association.onDeleteOwner.action === 'delete') await add(ids);
        }
        if (isTarget && association.onDeleteTarget.action !== 'keep') {
          const referrers = await this.#referrers(object, association.name);
          const others = referrers.filter((id) => !doomed.has(id));
          if (association.onDeleteTarget.action === 'prevent' && others.length > 0) {
            throw deletePrevented(
              object.entity,
              object.id,
              association.name,
              association.onDeleteTarget.message ?? '',
            );
          }
          if (association.onDeleteTarget.action === 'delete') await add(referrers);
        }
      }
    }
    return { order: [...doomed.values()], cascaded };
  }

  /** Ids of the objects that refer to `object` over an association it is the target of: stored and in the request. */
  async #referrers(object: RuntimeObject, association: string): Promise<string[]> {
    const assoc = this.model.associations.get(association);
    if (assoc === undefined) return [];
    const ids = new Set<string>();
    const owner = this.#mapping(assoc.owner);
    if (object.state === ObjectState.Stored && owner.persistable && object.mapping.persistable) {
      const mapping = owner.associations.get(association);
      if (mapping?.kind === 'reference') {
        const table = owner.tables.get(mapping.owner) ?? '';
        const rows = await this.#query(
          `SELECT ${quoteIdent(ID_COLUMN)} AS id FROM ${quoteIdent(table)} WHERE ${quoteIdent(mapping.column)} = $1::uuid`,
          [object.id],
        );
        for (const row of rows.rows) ids.add(String(row.id));
      } else if (mapping?.kind === 'referenceSet') {
        const rows = await this.#query(
          `SELECT ${quoteIdent(mapping.selfColumn)} AS id FROM ${quoteIdent(mapping.table)} WHERE ${quoteIdent(mapping.otherColumn)} = $1::uuid`,
          [object.id],
        );
        for (const row of rows.rows) ids.add(String(row.id));
      }
    }
    for (const candidate of this.#state.objects.values()) {
      if (candidate.state === ObjectState.Deleted || !candidate.mapping.lineage.includes(assoc.owner))
        continue;
      const value = candidate.values.get(association);
      const refers = Array.isArray(value) ? value.includes(object.id) : value === object.id;
      if (refers) ids.add(candidate.id);
      else ids.delete(candidate.id);
    }
    return [...ids];
  }

  /** The request's objects stop referring to deleted ones (the database cleared its side already). */
  #clearReferencesTo(gone: ReadonlySet<string>): void {
    for (const object of this.#state.objects.values()) {
      for (const association of object.mapping.associations.values()) {
        const value = object.values.get(association.name);
        if (typeof value === 'string' && gone.has(value)) object.forget(association.name, null);
        if (Array.isArray(value) && value.some((id) => gone.has(id as string))) {
          object.forget(
            association.name,
            (value as string[]).filter((id) => !gone.has(id)),
          );
        }
      }
    }
  }

  async rollback(objects: readonly MxObject[], options: WriteOptions = {}): Promise<void> {
    this.#open();
    const list = this.#own(objects).filter((o) => o.state !== ObjectState.Deleted);
    const withEvents = options.events ?? true;
    const allowed = await this.#before('rollback', list, withEvents);
    for (const object of allowed) {
      if (object.state === ObjectState.New && object.mapping.persistable) {
        this.#state.objects.delete(object.id);
        continue;
      }
      object.revert();
    }
    await this.#after('rollback', allowed, withEvents);
  }

  // ---------------------------------------------------------------------------------------
  // The client's state

  async restore(state: ClientState): Promise<void> {
    this.#open();
    const stored = state.objects.filter((s) => s.state === 'stored');
    const loaded = new Map<string, RuntimeObject>();
    const byEntity = new Map<string, string[]>();
    for (const snapshot of stored) {
      if (this.#state.objects.has(snapshot.id)) continue;
      byEntity.set(snapshot.entity, [...(byEntity.get(snapshot.entity) ?? []), snapshot.id]);
    }
    for (const [entity, ids] of byEntity) {
      this.#mapping(entity);
      for (const object of await this.#load(ids.filter(isUuid), entity, this.#filter, this.#annotate))
        loaded.set(object.id, object);
    }
    for (const snapshot of state.objects) {
      const mapping = this.#mapping(snapshot.entity);
      let object: RuntimeObject;
      if (snapshot.state === 'new') {
        if (!isUuid(snapshot.id))
          throw invalidMemberValue(snapshot.entity, 'id', `'${snapshot.id}' is not an object id.`);
        object = this.#state.objects.get(snapshot.id) ?? this.#newObject(mapping, snapshot.id);
      } else {
        const found = this.#state.objects.get(snapshot.id) ?? loaded.get(snapshot.id);
        if (found === undefined) throw objectNotFound(snapshot.entity, snapshot.id);
        object = found;
      }
      this.#state.objects.set(object.id, object);
      for (const [member, value] of Object.entries(snapshot.members)) this.#apply(object, member, value);
    }
  }

  /** Applies one member from a client: unchanged values pass, changes need write access. */
  #apply(object: RuntimeObject, member: string, value: MemberValue): void {
    const attribute = object.mapping.attributes.get(member);
    if (attribute !== undefined) {
      if (attribute.kind === 'HashedString' && value === HASHED_STRING_MASK) return;
      const current = object.values.get(member) ?? null;
      const checked = checkAttributeValue(object.entity, attribute, value as MxValue);
      if (sameMember(current, checked)) return;
      object.set(member, checked);
      return;
    }
    const association = object.mapping.associations.get(member);
    if (association === undefined) throw unknownMember(object.entity, member);
    const current = object.values.get(member) ?? null;
    if (association.kind === 'referenceSet') {
      const ids = Array.isArray(value) ? [...(value as string[])].sort() : [];
      if (sameMember(current, ids)) return;
      object.setReferenceSet(member, ids);
      return;
    }
    const id = typeof value === 'string' ? value : null;
    if (current === id) return;
    object.setReference(member, id);
  }

  #members(object: RuntimeObject, only: ReadonlySet<string> | undefined): Record<string, MemberValue> {
    const members: Record<string, MemberValue> = {};
    for (const name of object.mapping.members) {
      if (only !== undefined && !only.has(name)) continue;
      if (!object.userCanRead(name)) continue;
      const attribute = object.mapping.attributes.get(name);
      if (attribute?.kind === 'HashedString') continue;
      if (!object.values.has(name)) continue;
      members[name] = object.values.get(name) ?? null;
    }
    return members;
  }

  #readOnly(object: RuntimeObject): string[] {
    return object.mapping.members.filter((m) => object.userCanRead(m) && !object.userCanWrite(m));
  }

  snapshot(object: MxObject): ObjectSnapshot {
    const [own] = this.#own([object]);
    if (own === undefined)
      throw invalidObjectState(object.entity, object.id, 'The object does not come from this database.');
    return {
      id: own.id,
      entity: own.entity,
      state: own.state === ObjectState.Stored ? 'stored' : 'new',
      members: this.#members(own, undefined),
      readOnlyMembers: this.#readOnly(own),
    };
  }

  pendingState(): ClientState {
    const objects: ObjectSnapshot[] = [];
    for (const object of this.#state.objects.values()) {
      if (object.state === ObjectState.New) {
        objects.push({
          id: object.id,
          entity: object.entity,
          state: 'new',
          members: this.#members(object, undefined),
          readOnlyMembers: this.#readOnly(object),
        });
      } else if (object.state === ObjectState.Stored && object.changedMembers.size > 0) {
        const members = this.#members(object, object.changedMembers);
        if (Object.keys(members).length === 0) continue;
        objects.push({
          id: object.id,
          entity: object.entity,
          state: 'stored',
          members,
          readOnlyMembers: this.#readOnly(object),
        });
      }
    }
    return { objects };
  }

  // ---------------------------------------------------------------------------------------
  // Transactions

  async savepoint(): Promise<Savepoint> {
    const connection = await this.#transaction();
    const name = `rp_sp_${++this.#state.savepoints}`;
    await connection.query(`SAVEPOINT ${name}`);
    const scope = new Map(this.#state.objects);
    const states = new Map<RuntimeObject, ObjectSnapshotState>();
    for (const object of new Set([
      ...this.#state.objects.values(),
      ...[...this.#state.beforeTransaction.values()].map((e) => e.object),
    ])) {
      states.set(object, object.capture());
    }
    const before = new Map(this.#state.beforeTransaction);
    const wrote = this.#state.wrote;
    let finished = false;
    return {
      rollback: async () => {
        if (finished) return;
        finished = true;
        await (await this.#transaction()).query(`ROLLBACK TO SAVEPOINT ${name}`);
        this.#state.objects.clear();
        for (const [id, object] of scope) this.#state.objects.set(id, object);
        for (const [object, state] of states) object.restoreState(state);
        // Objects first committed or deleted after the savepoint go back to how they were then.
        for (const [id, entry] of this.#state.beforeTransaction) {
          if (!before.has(id) && !states.has(entry.object)) entry.object.restoreState(entry.state);
        }
        this.#state.beforeTransaction.clear();
        for (const [id, entry] of before) this.#state.beforeTransaction.set(id, entry);
        this.#state.wrote = wrote;
      },
      release: async () => {
        if (finished) return;
        finished = true;
        await (await this.#transaction()).query(`RELEASE SAVEPOINT ${name}`);
      },
    };
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    const result = await this.#write((connection) =>
      connection.query(
        `INSERT INTO ${quoteIdent(IDEMPOTENCY_TABLE)} (key, claimed_at) VALUES ($1, now()) ON CONFLICT (key) DO NOTHING`,
        [key],
        'rp_claim_key',
      ),
    );
    return result.rowCount === 1;
  }

  /**
   * True when `candidate` is the value of a HashedString attribute (an addition to the
   * contract, for the session service's logins). The stored hash never leaves the package.
   */
  async verifyHashedString(object: MxObject, attribute: string, candidate: string): Promise<boolean> {
    const [own] = this.#own([object]);
    if (own === undefined) return false;
    const mapping = own.mapping.attributes.get(attribute);
    if (mapping?.kind !== 'HashedString') throw unknownMember(own.entity, attribute);
    const plain = own.plain.get(attribute);
    if (plain !== undefined) {
      if (isStoredHash(plain)) return verifyString(plain, candidate);
      const a = Buffer.from(plain.normalize('NFKC'));
      const b = Buffer.from(candidate.normalize('NFKC'));
      return a.length === b.length && timingSafeEqual(a, b);
    }
    let hash: string | undefined;
    if (own.state === ObjectState.Stored && mapping.column !== undefined) {
      const table = own.mapping.tables.get(mapping.owner) ?? '';
      const result = await this.#query(
        `SELECT ${quoteIdent(mapping.column)} AS hash FROM ${quoteIdent(table)} WHERE ${quoteIdent(ID_COLUMN)} = $1::uuid`,
        [own.id],
      );
      const value = result.rows[0]?.hash;
      hash = typeof value === 'string' ? value : undefined;
    }
    return verifyString(hash, candidate);
  }

  async complete(): Promise<void> {
    this.#open();
    const connection = this.#state.connection;
    const inTransaction = this.#state.inTransaction;
    this.#state.connection = undefined;
    this.#state.inTransaction = false;
    this.#state.wrote = false;
    if (connection === undefined) return;
    try {
      if (inTransaction) await connection.query('COMMIT');
      connection.release();
      this.#state.beforeTransaction.clear();
    } catch (error) {
      connection.release(true);
      this.#restoreBeforeTransaction();
      throw this.#writeError(error);
    }
  }

  async abort(): Promise<void> {
    if (this.#state.closed) return;
    this.#restoreBeforeTransaction();
    await this.#endTransaction();
  }

  async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.closed = true;
    if (this.#state.connection !== undefined) this.#restoreBeforeTransaction();
    await this.#endTransaction();
  }

  /** Rolls back what is open and gives the connection back; the next database action begins anew. */
  async #endTransaction(): Promise<void> {
    const connection = this.#state.connection;
    const inTransaction = this.#state.inTransaction;
    this.#state.connection = undefined;
    this.#state.inTransaction = false;
    this.#state.wrote = false;
    if (connection === undefined) return;
    try {
      if (inTransaction) await connection.query('ROLLBACK');
      connection.release();
    } catch {
      connection.release(true);
    }
  }

  /** Objects committed or deleted in the transaction go back to their state before it. */
  #restoreBeforeTransaction(): void {
    for (const { object, state, scoped } of this.#state.beforeTransaction.values()) {
      object.restoreState(state);
      if (scoped) this.#state.objects.set(object.id, object);
      else this.#state.objects.delete(object.id);
    }
    this.#state.beforeTransaction.clear();
  }
}

function sameMember(a: MemberValue, b: MemberValue): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (
    typeof a === 'object' &&
    typeof b === 'object' &&
    'eq' in a &&
    typeof (a as { eq: unknown }).eq === 'function'
  ) {
    return (a as { eq(other: unknown): boolean }).eq(b);
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return a.length === b.length && a.every((x, i) => x === b[i]);
  return false;
}
