/**
 * A unit of work that remembers what a request did to objects (committed, deleted, rolled
 * back) and which tasks it queued, so the response can tell the client and the queued tasks
 * can be handed to the task queue once the transaction has committed. Its system view
 * shares the record, so work done with full rights is seen too.
 */
import type { MxValue } from '@runplane/expressions';
import type { EventRunner, MicroflowEngine, MicroflowUser } from '@runplane/microflows';
import type { CompiledModel } from '@runplane/model';
import type {
  AggregateQuery,
  ClientState,
  MxObject,
  ObjectSnapshot,
  ObjectTable,
  RetrieveQuery,
  RetrieveResult,
  RunplaneDatabase,
  RunplaneUnitOfWork,
  Savepoint,
  TableQuery,
  UserContext,
  ValidationProblem,
  WriteOptions,
} from '@runplane/persistence';
import type { QueuedTaskRef } from '../tasks/task-records.js';

/** Who runs the request, beyond the unit of work's user context. */
export interface RequestUserDetails {
  readonly userName: string;
  /** BCP 47 language tag; empty for the default. */
  readonly language: string;
  readonly sessionIdHash: string;
}

/** The details of a run on behalf of no user (system runs: scheduled events, lifecycle microflows). */
export const NO_USER_DETAILS: RequestUserDetails = Object.freeze({
  userName: '',
  language: '',
  sessionIdHash: '',
});

/** What a request did, shared by a unit of work and its system view. */
export class RequestRecord {
  readonly committed = new Set<string>();
  readonly deleted = new Set<string>();
  readonly rolledBack = new Set<string>();
  /** Tasks queued in this transaction: handed to the task queue after it commits. */
  readonly scheduled: QueuedTaskRef[] = [];
  readonly details: RequestUserDetails;

  constructor(details: RequestUserDetails) {
    this.details = details;
  }
}

function ids(objects: readonly MxObject[]): string[] {
  return objects.map((o) => o.id);
}

/** A {@link RunplaneUnitOfWork} that records what it did into a {@link RequestRecord}. */
export class TrackedUnitOfWork implements RunplaneUnitOfWork {
  readonly record: RequestRecord;
  readonly #inner: RunplaneUnitOfWork;
  #system: TrackedUnitOfWork | undefined;

  constructor(inner: RunplaneUnitOfWork, record: RequestRecord) {
    this.#inner = inner;
    this.record = record;
  }

  get user(): UserContext {
    return this.#inner.user;
  }

  get model(): CompiledModel {
    return this.#inner.model;
  }

  asSystem(): TrackedUnitOfWork {
    if (this.#system === undefined) {
      const inner = this.#inner.asSystem();
      if (inner === this.#inner) {
        this.#system = this;
      } else {
        // A system view's own system view is itself (the contract's rule).
        const view = new TrackedUnitOfWork(inner, this.record);
        view.#system = view;
        this.#system = view;
      }
    }
    return this.#system;
  }

  /**
   * The system view without tracking: for the runtime's own rows (queued tasks), which the
   * client is never told about.
   */
  untrackedSystem(): RunplaneUnitOfWork {
    return this.#inner.asSystem();
  }

  restore(state: ClientState): Promise<void> {
    return this.#inner.restore(state);
  }

  pendingState(): ClientState {
    return this.#inner.pendingState();
  }

  snapshot(object: MxObject): ObjectSnapshot {
    return this.#inner.snapshot(object);
  }

  find(id: string): MxObject | undefined {
    return this.#inner.find(id);
  }

  instantiate(entity: string): Promise<MxObject> {
    return this.#inner.instantiate(entity);
  }

  retrieve(query: RetrieveQuery): Promise<RetrieveResult> {
    return this.#inner.retrieve(query);
  }

  retrieveTable(query: TableQuery): Promise<ObjectTable> {
    return this.#inner.retrieveTable(query);
  }

  retrieveByIds(objectIds: readonly string[], entity?: string): Promise<MxObject[]> {
    return this.#inner.retrieveByIds(objectIds, entity);
  }

  lockByIds(objectIds: readonly string[], entity?: string): Promise<MxObject[]> {
    return this.#inner.lockByIds(objectIds, entity);
  }

  retrieveByAssociation(object: MxObject, association: string): Promise<MxObject[]> {
    return this.#inner.retrieveByAssociation(object, association);
  }

  aggregate(query: AggregateQuery): Promise<MxValue> {
    return this.#inner.aggregate(query);
  }

  async commit(objects: readonly MxObject[], options?: WriteOptions): Promise<void> {
    await this.#inner.commit(objects, options);
    for (const id of ids(objects)) {
      this.record.committed.add(id);
      this.record.rolledBack.delete(id);
    }
  }

  async delete(objects: readonly MxObject[], options?: WriteOptions): Promise<void> {
    await this.#inner.delete(objects, options);
    for (const id of ids(objects)) this.record.deleted.add(id);
  }

  async rollback(objects: readonly MxObject[], options?: WriteOptions): Promise<void> {
    await this.#inner.rollback(objects, options);
    for (const id of ids(objects)) this.record.rolledBack.add(id);
  }

  validate(objects: readonly MxObject[]): ValidationProblem[] {
    return this.#inner.validate(objects);
  }

  async savepoint(): Promise<Savepoint> {
    const inner = await this.#inner.savepoint();
    const record = this.record;
    const before = {
      committed: new Set(record.committed),
      deleted: new Set(record.deleted),
      rolledBack: new Set(record.rolledBack),
      scheduled: record.scheduled.length,
    };
    return {
      async rollback() {
        await inner.rollback();
        // Work undone by the savepoint did not happen: neither did its tasks.
        for (const [set, kept] of [
          [record.committed, before.committed],
          [record.deleted, before.deleted],
          [record.rolledBack, before.rolledBack],
        ] as const) {
          set.clear();
          for (const id of kept) set.add(id);
        }
        record.scheduled.length = Math.min(record.scheduled.length, before.scheduled);
      },
      release: () => inner.release(),
    };
  }

  claimIdempotencyKey(key: string): Promise<boolean> {
    return this.#inner.claimIdempotencyKey(key);
  }

  complete(): Promise<void> {
    return this.#inner.complete();
  }

  async abort(): Promise<void> {
    await this.#inner.abort();
    // Nothing of the transaction happened; the unit of work may go on (custom-with-rollback).
    this.record.committed.clear();
    this.record.deleted.clear();
    this.record.rolledBack.clear();
    this.record.scheduled.length = 0;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  verifyHashedString(object: MxObject, attribute: string, candidate: string): Promise<boolean> {
    return this.#inner.verifyHashedString(object, attribute, candidate);
  }
}

/** A tracked unit of work with the event runner that runs its entity events. */
export interface TrackedRun {
  readonly uow: TrackedUnitOfWork;
  readonly runner: EventRunner;
}

/**
 * A new {@link TrackedUnitOfWork} of `database` for `context`, recording into a fresh
 * {@link RequestRecord} of `details`, whose entity events run `engine`'s handlers for
 * `runnerUser` (runner made and bound).
 */
export function trackedUnitOfWork(
  engine: MicroflowEngine,
  database: RunplaneDatabase,
  context: UserContext,
  details: RequestUserDetails,
  runnerUser: MicroflowUser = {},
): TrackedRun {
  const runner = engine.eventRunner(runnerUser);
  const uow = new TrackedUnitOfWork(database.unitOfWork(context, runner), new RequestRecord(details));
  runner.bind(uow);
  return { uow, runner };
}
