/**
 * The contract of the persistence package: what the microflow executor, the session
 * service and the CLI use to reach the domain data. The persistence package implements
 * it over PostgreSQL (and PGlite in standalone mode) with TypeORM; nothing else imports
 * TypeORM.
 *
 * The shape follows the Mendix runtime:
 * - A {@link UnitOfWork} is one request's view of the data: one database transaction,
 *   begun lazily at the first database action (READ COMMITTED), plus the request-scope
 *   objects (new, changed, retrieved). Sub-microflows share it. Savepoints make
 *   "custom without rollback" error handling possible.
 * - Entity access applies to every operation of a non-system {@link UserContext}: XPath
 *   row constraints are added to every query, members the user may not read are never
 *   loaded (reading one throws `MEMBER_NOT_READABLE`), writing a member the user may not
 *   write throws `MEMBER_NOT_WRITABLE`, create and delete rights are checked. New objects
 *   pass every XPath rule; existing objects are judged on their database state before the
 *   request's changes. A system context bypasses all of it.
 * - The runtime is stateless: a client's uncommitted objects arrive with each request
 *   ({@link UnitOfWork.restore}) and leave with the response ({@link UnitOfWork.pendingState}).
 */
import type { MxObjectValue, MxValue, VariableSource } from '@runplane/expressions';
import type { CompiledModel, ModelXPath, SortItem } from '@runplane/model';

/** Who is asking; decides entity access and resolves XPath tokens. */
export interface UserContext {
  /** True for the system context: entity access does not apply. */
  readonly system: boolean;
  /** Id of the user's `System.User` object (`[%CurrentUser%]`); undefined when there is no user. */
  readonly userId: string | undefined;
  /** The user's user roles, by name as the model declares them (e.g. `Customer`). */
  readonly userRoles: readonly string[];
  /** IANA time zone for date tokens such as `[%BeginOfCurrentDay%]`; empty for UTC. */
  readonly timeZone: string;
}

/** Where an object stands. */
export const ObjectState = {
  /** Instantiated in this request or by the client, not stored yet (and every non-persistable object). */
  New: 'new',
  /** Stored in the database (its members may carry uncommitted changes). */
  Stored: 'stored',
  /** Deleted in this request. */
  Deleted: 'deleted',
} as const;
export type ObjectState = (typeof ObjectState)[keyof typeof ObjectState];

/**
 * A member's value: an attribute's {@link MxValue}; a Reference association's target id
 * (or null); a ReferenceSet association's target ids.
 */
export type MemberValue = MxValue | readonly string[];

/**
 * An object as the runtime works with it. Attributes by name, associations by qualified
 * name (`Sales.Order_Customer`, held by the association's owner side).
 */
export interface MxObject extends MxObjectValue {
  readonly id: string;
  /** The object's actual entity (maybe a specialisation of the one asked for). */
  readonly entity: string;
  readonly state: ObjectState;
  /** An attribute's value. Throws `MEMBER_NOT_READABLE` when the user may not read it. */
  get(attribute: string): MxValue;
  /**
   * Changes an attribute. Throws `MEMBER_NOT_WRITABLE` when the user may not write it,
   * `INVALID_MEMBER_VALUE` when the value does not fit its type, `UNKNOWN_MEMBER` when
   * the entity has no such attribute.
   */
  set(attribute: string, value: MxValue): void;
  /** The id a Reference association points to, or null. */
  getReference(association: string): string | null;
  setReference(association: string, targetId: string | null): void;
  /** The ids a ReferenceSet association points to. */
  getReferenceSet(association: string): readonly string[];
  setReferenceSet(association: string, targetIds: readonly string[]): void;
  /** Members changed since the object was created, retrieved or committed. */
  readonly changedMembers: ReadonlySet<string>;
  canRead(member: string): boolean;
  canWrite(member: string): boolean;
}

/** An object as it travels to and from a client: what the state round trip carries. */
export interface ObjectSnapshot {
  readonly id: string;
  readonly entity: string;
  readonly state: 'new' | 'stored';
  /**
   * New objects: every member the user may read. Stored objects: only the changed
   * members (their deltas), or every readable member when the object is sent to be shown.
   */
  readonly members: Readonly<Record<string, MemberValue>>;
  /** Members the user may read but not write (for the client's forms). */
  readonly readOnlyMembers: readonly string[];
}

/** A client's uncommitted state: new objects in full, changes of stored objects as deltas. */
export interface ClientState {
  readonly objects: readonly ObjectSnapshot[];
}

/** A retrieve from the database by XPath. */
export interface RetrieveQuery {
  /** Qualified entity name; specialisations are included (polymorphic retrieve). */
  readonly entity: string;
  /** A constraint compiled with the model, or XPath text (compiled against the entity on first use, then cached). */
  readonly xpath?: ModelXPath | string;
  /** Values of the `$variables` the XPath uses. */
  readonly variables?: VariableSource;
  /** Sort items; ties are always broken by id so that paging is stable. */
  readonly sort?: readonly SortItem[];
  readonly offset?: number;
  /** Maximum number of objects; undefined for all. */
  readonly amount?: number;
  /** Also count every object that matches (ignoring offset and amount). */
  readonly count?: boolean;
}

/** What a retrieve found. */
export interface RetrieveResult {
  readonly objects: readonly MxObject[];
  /** When asked for: the number of all matching objects the user may see. */
  readonly count: number | undefined;
}

/**
 * A retrieve whose objects go straight to a client (published REST, the client API): only the
 * `members` asked for, as text, without request-scope objects.
 */
export interface TableQuery extends RetrieveQuery {
  /**
   * The members each row carries, in this order: attributes by name, associations by
   * qualified name (members of `entity`, so of every specialisation too).
   */
  readonly members: readonly string[];
}

/**
 * One object of an {@link ObjectTable}. A cell is the member's value as text:
 * - Integer, Long, AutoNumber: decimal digits (`-` for negatives), every digit of 64 bits;
 * - Decimal: plain notation without exponent or trailing zeros (`0` for zero), exact;
 * - Boolean: `true` or `false`; DateTime: milliseconds since the epoch, in digits;
 * - String: itself; Enumeration: the value's key; Binary: base64;
 * - a Reference: the target's id; a ReferenceSet: the targets' ids, sorted, joined with `,`
 *   (`''` for none).
 */
export interface TableRow {
  readonly id: string;
  /** The object's actual entity (a specialisation of the one asked for, maybe). */
  readonly entity: string;
  /**
   * A cell per member of the table: its text; null when the member is empty; undefined when the
   * object does not carry the member — the user may not read it on this object (its rules), or
   * it is never sent (HashedString) or not stored (calculated attributes) — exactly the members a
   * {@link UnitOfWork.snapshot} of the object would leave out.
   */
  readonly values: readonly (string | null | undefined)[];
}

/** What a {@link TableQuery} found. */
export interface ObjectTable {
  /** The members of every row, in order. */
  readonly members: readonly string[];
  readonly rows: readonly TableRow[];
  /** When asked for: the number of all matching objects the user may see. */
  readonly count: number | undefined;
}

/** An aggregate over the objects an XPath selects. */
export interface AggregateQuery {
  readonly entity: string;
  readonly xpath?: ModelXPath | string;
  readonly variables?: VariableSource;
  readonly function: 'count' | 'sum' | 'average' | 'minimum' | 'maximum';
  /** The attribute aggregated; not used by `count`. */
  readonly attribute?: string;
}

/** One broken validation rule. */
export interface ValidationProblem {
  readonly objectId: string;
  readonly entity: string;
  /** The attribute or association the message belongs to. */
  readonly member: string;
  readonly message: string;
}

/** The moments entity event handlers run at. */
export type EntityEvent = 'create' | 'commit' | 'delete' | 'rollback';

/**
 * Runs the entity event handlers (microflows) of the model for a moment. Supplied by
 * the microflow executor; the unit of work calls it at Mendix's moments: for a commit
 * with events, every object's before-commit handlers first, then validation and the
 * write of the whole list, then the after-commit handlers; the same for delete (cascaded
 * deletes included) and rollback; before/after create around instantiate.
 */
export interface EntityEventRunner {
  /**
   * Runs the handlers of `moment`/`event` for each object. For `before` moments it
   * returns, per object, whether the event may go on (false when a handler returned
   * false); the unit of work skips objects answered false. A handler that must raise an
   * error when it returns false (`raiseErrorOnFalse`) makes the runner throw
   * `EVENT_HANDLER_REFUSED` itself, since only it knows which handler refused.
   */
  run(
    moment: 'before' | 'after',
    event: EntityEvent,
    objects: readonly MxObject[],
  ): Promise<readonly boolean[]>;
}

/** A point in a unit of work's transaction to roll back to (SQL SAVEPOINT). */
export interface Savepoint {
  /** Undoes the database work since the savepoint and restores the objects' states. */
  rollback(): Promise<void>;
  /** Forgets the savepoint, keeping the work. */
  release(): Promise<void>;
}

/** Options of commit, delete and rollback. */
export interface WriteOptions {
  /** Run the entity event handlers (default true). */
  readonly events?: boolean;
}

/**
 * One request's view of the data: one transaction and the request-scope objects.
 * Not safe for concurrent use; finish it with {@link complete} (or {@link abort}), then
 * {@link close}.
 */
export interface UnitOfWork {
  readonly user: UserContext;
  readonly model: CompiledModel;

  /**
   * A view of this unit of work — the same transaction, the same request-scope objects —
   * with system rights: no entity access. Microflows that do not apply entity access (the
   * Mendix default), event handlers and leader duties use it. Objects it retrieves have
   * every member; an object first loaded through the user's view keeps that view's
   * rights. `asSystem()` of a system view is itself.
   */
  asSystem(): UnitOfWork;

  /** Loads a client's uncommitted state into the request scope (changes are applied on top of the database state, with write checks). */
  restore(state: ClientState): Promise<void>;
  /** The uncommitted state to hand back to the client: new objects in full, changed stored objects as deltas. */
  pendingState(): ClientState;
  /** An object as the user may see it: every readable member, for a response. */
  snapshot(object: MxObject): ObjectSnapshot;

  /** An object of this request by id, if the request has it. */
  find(id: string): MxObject | undefined;
  /** A new object with its defaults, not stored; checks the create right (unless system). */
  instantiate(entity: string): Promise<MxObject>;
  /** Objects from the database by XPath (never sees uncommitted changes, as in Mendix). */
  retrieve(query: RetrieveQuery): Promise<RetrieveResult>;
  /** Objects by id: the request's own copies first, the database for the rest; missing or invisible ids are left out. */
  retrieveByIds(ids: readonly string[]): Promise<MxObject[]>;
  /** The objects at the other end of an association, seeing the request's uncommitted changes. */
  retrieveByAssociation(object: MxObject, association: string): Promise<MxObject[]>;
  aggregate(query: AggregateQuery): Promise<MxValue>;
  /**
   * Stores objects: inserts new ones, updates only the changed columns of stored ones,
   * after checking validation rules (all problems at once: `VALIDATION_FAILED` with
   * {@link ValidationProblem}s in its details; unique rules are checked by the database).
   */
  commit(objects: readonly MxObject[], options?: WriteOptions): Promise<void>;
  /** Deletes objects, following the delete behaviour of their associations. */
  delete(objects: readonly MxObject[], options?: WriteOptions): Promise<void>;
  /** Drops uncommitted changes: new objects are forgotten, stored ones get their database values back. */
  rollback(objects: readonly MxObject[], options?: WriteOptions): Promise<void>;
  /** Checks validation rules without storing. */
  validate(objects: readonly MxObject[]): ValidationProblem[];
  savepoint(): Promise<Savepoint>;
  /**
   * Records an idempotency key in this transaction; false when it was recorded before
   * (by a transaction that committed). The task queue uses it so that a redelivered
   * task whose work already committed is not run again.
   */
  claimIdempotencyKey(key: string): Promise<boolean>;
  /** Commits the transaction, if one was begun. */
  complete(): Promise<void>;
  /**
   * Rolls the transaction back, if one was begun, and returns the request-scope objects
   * to their state before it. The unit of work stays usable: the next database action
   * begins a new transaction — Mendix's "custom with rollback" error handling rolls back
   * everything and then goes on with the error flow this way.
   */
  abort(): Promise<void>;
  /** Ends the unit of work: rolls back what is open and releases its connection. Idempotent. */
  close(): Promise<void>;
}

/** Where the data lives. */
export type DatabaseLocation =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  /** Standalone mode: PGlite in a folder (one connection). */
  | { readonly kind: 'embedded'; readonly dataDir: string };

/** An open database for one compiled model. */
export interface Database {
  readonly model: CompiledModel;
  readonly location: DatabaseLocation['kind'];
  /** Starts a unit of work; `events` runs entity event handlers (omit: none run). */
  unitOfWork(user: UserContext, events?: EntityEventRunner): UnitOfWork;
  /** Runs `work` in a unit of work and completes it, or aborts it when `work` throws. */
  transaction<T>(
    user: UserContext,
    work: (uow: UnitOfWork) => Promise<T>,
    events?: EntityEventRunner,
  ): Promise<T>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The system context: no user, no entity access. */
export const SYSTEM_CONTEXT: UserContext = Object.freeze({
  system: true,
  userId: undefined,
  userRoles: Object.freeze([]),
  timeZone: '',
});
