/**
 * The client data API and microflow execution over the domain data, in domain types. Each
 * call is one stateless round trip: a unit of work for the request's user, the client's
 * uncommitted state restored into it, the work, the response built from the unit of work
 * (its pending state, the objects to show, what was committed and deleted), then commit —
 * or roll back when anything failed, so the client keeps the state it sent. Tasks queued in
 * the transaction are handed to the task queue once it has committed.
 */
import { isMxList, isMxObject, type MxType, type MxValue } from '@runplane/expressions';
import type { ClientInstruction, EventRunner, MicroflowEngine } from '@runplane/microflows';
import type { CompiledModel, SortItem } from '@runplane/model';
import type {
  ClientState,
  MxObject,
  ObjectTable,
  RetrieveQuery,
  RunplaneDatabase,
  RunplaneUnitOfWork,
  UserContext,
} from '@runplane/persistence';
import type { ShownObject } from '../convert/objects.js';
import { instructionObjects } from '../convert/objects.js';
import { invalidRequest, objectNotFound } from '../errors.js';
import type { TaskOutbox } from '../tasks/task-outbox.js';
import {
  PROCESSED_TASK,
  QUEUED_TASK,
  bigintOf,
  enqueueClaimKey,
  enqueueKeyTag,
} from '../tasks/task-records.js';
import { readTask, type TaskInfo } from '../tasks/task-status.js';
import type { CurrentUserLoader } from './current-user.js';
import {
  trackedUnitOfWork,
  type RequestUserDetails,
  type TrackedUnitOfWork,
} from './tracked-unit-of-work.js';

/** Who asks. */
export interface RequestUser {
  readonly context: UserContext;
  readonly details: RequestUserDetails;
}

/** An argument as a request gives it: a value, or objects by id. */
export type ArgumentInput =
  | { readonly kind: 'value'; readonly value: MxValue }
  | { readonly kind: 'object'; readonly id: string }
  | { readonly kind: 'list'; readonly ids: readonly string[] };

/** What a request changed, for the client. */
export interface StateChanges {
  /** The client's pending state after the request: it replaces what the client sent. */
  readonly state: ClientState;
  /** Objects the response refers to, with their current values. */
  readonly objects: readonly ShownObject[];
  readonly committedIds: readonly string[];
  readonly deletedIds: readonly string[];
}

/** The outcome of {@link ClientApi.execute}. */
export interface ExecuteOutcome {
  readonly result: MxValue;
  readonly returnType: MxType;
  readonly update: StateChanges;
  readonly instructions: readonly ClientInstruction[];
}

/** A retrieve by XPath. */
export interface XPathRetrieve {
  readonly entity: string;
  readonly constraint: string;
  /** Values of the constraint's `$variables`, by name. */
  readonly variables?: ReadonlyMap<string, MxValue>;
  readonly sort: readonly SortItem[];
  readonly offset: number;
  /** 0 for all. */
  readonly amount: number;
  readonly count: boolean;
}

/** The outcome of a retrieve. */
export interface RetrieveOutcome {
  readonly objects: readonly ShownObject[];
  readonly count: number | undefined;
}

/** The outcome of Commit, Delete and Rollback. */
export interface WriteOutcome {
  readonly update: StateChanges;
  readonly instructions: readonly ClientInstruction[];
}

/** The outcome of Instantiate. */
export interface InstantiateOutcome extends WriteOutcome {
  readonly object: ShownObject;
}

/** What EnqueueTask asks for. */
export interface TaskEnqueue {
  readonly queue: string;
  readonly microflow: string;
  readonly arguments: ReadonlyMap<string, ArgumentInput>;
  /** '' for none. */
  readonly idempotencyKey: string;
}

/** What {@link ClientApi} needs. */
export interface ClientApiDependencies {
  readonly model: CompiledModel;
  readonly database: RunplaneDatabase;
  readonly engine: MicroflowEngine;
  readonly outbox: TaskOutbox;
  readonly users: CurrentUserLoader;
}

/** One request in progress. */
interface Scope {
  readonly uow: TrackedUnitOfWork;
  /**
   * Where objects named by id are loaded: the system view when the request works with full
   * rights (their visibility to the user was checked first), else the user's view.
   */
  readonly loader: RunplaneUnitOfWork;
  readonly runner: EventRunner;
  /** Ids of the objects the client sent. */
  readonly clientIds: ReadonlySet<string>;
}

function showable(object: MxObject | undefined): object is MxObject {
  return object !== undefined && object.state !== 'deleted';
}

/** The persistence query of an XPath retrieve. */
function xpathQuery(query: XPathRetrieve): RetrieveQuery {
  return {
    entity: query.entity,
    ...(query.constraint.trim() === '' ? {} : { xpath: query.constraint }),
    ...(query.variables === undefined || query.variables.size === 0 ? {} : { variables: query.variables }),
    sort: query.sort,
    offset: query.offset,
    ...(query.amount > 0 ? { amount: query.amount } : {}),
    count: query.count,
  };
}

/** The executor's API in domain types; the gRPC handlers convert to and from it. */
export class ClientApi {
  readonly #d: ClientApiDependencies;

  constructor(dependencies: ClientApiDependencies) {
    this.#d = dependencies;
  }

  /**
   * Checks what a request brings against the user's rights, in a unit of work of its own that
   * is then dropped: the client's state (write access of every member it changes, create
   * rights of new objects, visibility of stored ones) and the visibility of the objects it
   * names by id.
   */
  async #check(user: RequestUser, state: ClientState | undefined, ids: readonly string[]): Promise<void> {
    const inState = new Set(state?.objects.map((o) => o.id) ?? []);
    const named = [...new Set(ids)].filter((id) => !inState.has(id));
    if (inState.size === 0 && named.length === 0) return;
    const check = this.#d.database.unitOfWork(user.context);
    try {
      if (state !== undefined && inState.size > 0) await check.restore(state);
      if (named.length > 0) {
        const visible = new Set((await check.retrieveByIds(named)).map((o) => o.id));
        const missing = named.find((id) => !visible.has(id));
        if (missing !== undefined) throw objectNotFound(missing);
      }
    } finally {
      await check.close();
    }
  }

  /**
   * Runs `work` as one round trip; see the module comment.
   *
   * With `rights: 'system'` the client's state is checked against the user's rights and then
   * restored with full rights, as Mendix has it: the user's rights guard what the client
   * sends, and microflows and event handlers without entity access may then change any member
   * of those objects. With `'user'` the objects keep the user's rights (microflows that apply
   * entity access, retrieves).
   */
  async #request<T>(
    user: RequestUser,
    state: ClientState | undefined,
    access: { readonly rights: 'user' | 'system'; readonly ids?: readonly string[] },
    work: (scope: Scope) => Promise<T>,
  ): Promise<T> {
    const { database, engine, outbox } = this.#d;
    const { uow, runner } = trackedUnitOfWork(engine, database, user.context, user.details, {
      userName: user.details.userName,
      ...(user.details.language === '' ? {} : { locale: user.details.language }),
    });
    const record = uow.record;
    let result: T;
    try {
      const full = access.rights === 'system';
      if (full && !user.context.system) await this.#check(user, state, access.ids ?? []);
      const loader = full ? uow.asSystem() : uow;
      if (state !== undefined && state.objects.length > 0) await loader.restore(state);
      result = await work({ uow, loader, runner, clientIds: new Set(state?.objects.map((o) => o.id) ?? []) });
      const scheduled = [...record.scheduled];
      await uow.complete();
      if (scheduled.length > 0) await outbox.publish(scheduled);
    } catch (error) {
      await uow.abort().catch(() => undefined);
      throw error;
    } finally {
      await uow.close().catch(() => undefined);
    }
    return result;
  }

  /** What the request changed, read from the unit of work before it commits. */
  #changes(scope: Scope, show: readonly MxValue[]): StateChanges {
    const { uow, clientIds } = scope;
    const record = uow.record;
    const state = uow.pendingState();
    const shown = new Map<string, MxObject>();
    const add = (value: MxValue): void => {
      const objects = isMxList(value) ? value : isMxObject(value) ? [value] : [];
      for (const candidate of objects) {
        const object = uow.find(candidate.id);
        if (showable(object)) shown.set(object.id, object);
      }
    };
    for (const value of show) add(value);
    const deleted = new Set<string>();
    for (const id of new Set([...clientIds, ...record.deleted, ...record.rolledBack, ...record.committed])) {
      const object = uow.find(id);
      if (!showable(object)) deleted.add(id);
      // Objects the client holds come back with their stored values; others only by id
      // (a microflow may commit thousands the client never saw, cf. Mendix's
      // CommittedObjectsThreshold).
      else if (clientIds.has(id) && (record.committed.has(id) || record.rolledBack.has(id)))
        shown.set(id, object);
    }
    const committed = [...record.committed].filter(
      (id) => !deleted.has(id) && uow.find(id)?.state === 'stored',
    );
    return {
      state,
      objects: [...shown.values()].map((object) => ({
        snapshot: uow.snapshot(object),
        changed: object.state === 'stored' && object.changedMembers.size > 0,
      })),
      committedIds: committed,
      deletedIds: [...deleted],
    };
  }

  /** Objects by id from the request (client state first, then the database); all must exist. */
  async #objects(scope: Scope, ids: readonly string[], what: string): Promise<MxObject[]> {
    const found = await scope.loader.retrieveByIds(ids);
    const byId = new Map(found.map((o) => [o.id, o]));
    return ids.map((id) => {
      const object = byId.get(id);
      if (object === undefined) throw objectNotFound(id, { what });
      return object;
    });
  }

  async #arguments(scope: Scope, args: ReadonlyMap<string, ArgumentInput>): Promise<Map<string, MxValue>> {
    const out = new Map<string, MxValue>();
    for (const [name, input] of args) {
      if (input.kind === 'value') out.set(name, input.value);
      else if (input.kind === 'object')
        out.set(name, (await this.#objects(scope, [input.id], `argument ${name}`))[0] ?? null);
      else out.set(name, await this.#objects(scope, input.ids, `argument ${name}`));
    }
    return out;
  }

  /** Runs a microflow (see ExecutorService.Execute). */
  execute(
    user: RequestUser,
    request: {
      readonly microflow: string;
      readonly arguments: ReadonlyMap<string, ArgumentInput>;
      readonly state: ClientState;
      readonly fromClient: boolean;
    },
  ): Promise<ExecuteOutcome> {
    const { engine, model, users } = this.#d;
    const rights = model.microflows.get(request.microflow)?.applyEntityAccess === true ? 'user' : 'system';
    const ids = [...request.arguments.values()].flatMap((a) =>
      a.kind === 'object' ? [a.id] : a.kind === 'list' ? a.ids : [],
    );
    return this.#request(user, request.state, { rights, ids }, async (scope) => {
      const args = await this.#arguments(scope, request.arguments);
      const runUser = await users.load(scope.uow, {
        userId: user.context.userId,
        userName: user.details.userName,
        language: user.details.language,
        sessionIdHash: user.details.sessionIdHash,
      });
      const outcome = await engine.run({
        microflow: request.microflow,
        arguments: args,
        uow: scope.uow,
        fromClient: request.fromClient,
        user: runUser,
      });
      const instructions = [...outcome.instructions, ...scope.runner.takeInstructions()];
      const refreshed = instructions.flatMap((i) =>
        i.kind === 'refreshObject' ? [scope.uow.find(i.objectId) ?? null] : [],
      );
      const update = this.#changes(scope, [
        outcome.result,
        ...instructions.flatMap(instructionObjects),
        ...refreshed,
      ]);
      const returnType = model.microflows.get(request.microflow)?.returnType ?? { kind: 'Void' };
      return { result: outcome.result, returnType, update, instructions };
    });
  }

  /** Objects by XPath from the database, with entity access. */
  async retrieveByXPath(user: RequestUser, query: XPathRetrieve): Promise<RetrieveOutcome> {
    if (query.entity === '') throw invalidRequest('An XPath retrieve needs an entity.');
    return this.#request(user, undefined, { rights: 'user' }, async ({ uow }) => {
      const result = await uow.retrieve(xpathQuery(query));
      return {
        objects: result.objects.map((o) => ({ snapshot: uow.snapshot(o), changed: false })),
        count: result.count,
      };
    });
  }

  /**
   * Objects by XPath from the database, with entity access, as text cells of the `members`
   * asked for: the lean read path for objects that go straight to a client. It needs no
   * request scope (no client state, no events, nothing to commit), so it runs on a unit of work
   * of its own, without the round trip's bookkeeping.
   */
  async retrieveTable(
    user: RequestUser,
    query: XPathRetrieve & { readonly members: readonly string[] },
  ): Promise<ObjectTable> {
    if (query.entity === '') throw invalidRequest('An XPath retrieve needs an entity.');
    const uow = this.#d.database.unitOfWork(user.context);
    try {
      return await uow.retrieveTable({ ...xpathQuery(query), members: query.members });
    } finally {
      await uow.close();
    }
  }

  /** Objects by id, seeing the client's state. */
  retrieveByIds(
    user: RequestUser,
    state: ClientState,
    ids: readonly string[],
    entity: string,
  ): Promise<RetrieveOutcome> {
    return this.#request(user, state, { rights: 'user' }, async ({ uow }) => {
      const objects = await uow.retrieveByIds(ids, entity === '' ? undefined : entity);
      return {
        objects: objects.map((o) => ({
          snapshot: uow.snapshot(o),
          changed: o.changedMembers.size > 0 && o.state === 'stored',
        })),
        count: undefined,
      };
    });
  }

  /** The objects at the other end of an association, seeing the client's state. */
  retrieveByAssociation(
    user: RequestUser,
    state: ClientState,
    objectId: string,
    association: string,
  ): Promise<RetrieveOutcome> {
    return this.#request(user, state, { rights: 'user' }, async (scope) => {
      const { uow } = scope;
      const [object] = await this.#objects(scope, [objectId], 'the object of an association retrieve');
      if (object === undefined) throw objectNotFound(objectId);
      const objects = await uow.retrieveByAssociation(object, association);
      return {
        objects: objects.map((o) => ({
          snapshot: uow.snapshot(o),
          changed: o.changedMembers.size > 0 && o.state === 'stored',
        })),
        count: undefined,
      };
    });
  }

  /** A new object of an entity, not stored. */
  instantiate(user: RequestUser, state: ClientState, entity: string): Promise<InstantiateOutcome> {
    return this.#request(user, state, { rights: 'system' }, async (scope) => {
      const object = await scope.uow.instantiate(entity);
      const instructions = scope.runner.takeInstructions();
      const update = this.#changes(scope, [object, ...instructions.flatMap(instructionObjects)]);
      return { object: { snapshot: scope.uow.snapshot(object), changed: false }, update, instructions };
    });
  }

  #write(
    user: RequestUser,
    state: ClientState,
    ids: readonly string[],
    action: 'commit' | 'delete' | 'rollback',
  ): Promise<WriteOutcome> {
    // A commit's and a rollback's writes are the client's state, checked against the user's
    // rights before it is restored with full rights (for the event handlers). A delete writes
    // nothing the client sent: it must load the objects through the user's view, so that the
    // delete right and its row constraint are judged on each of them.
    const rights = action === 'delete' ? 'user' : 'system';
    return this.#request(user, state, { rights, ids }, async (scope) => {
      const objects = await this.#objects(scope, ids, `the objects to ${action}`);
      if (action === 'commit') await scope.uow.commit(objects);
      else if (action === 'delete') await scope.uow.delete(objects);
      else await scope.uow.rollback(objects);
      const instructions = scope.runner.takeInstructions();
      const refreshed = instructions.flatMap((i) =>
        i.kind === 'refreshObject' ? [scope.uow.find(i.objectId) ?? null] : [],
      );
      return {
        update: this.#changes(scope, [...instructions.flatMap(instructionObjects), ...refreshed]),
        instructions,
      };
    });
  }

  /** Stores objects (see ExecutorService.Commit). */
  commit(user: RequestUser, state: ClientState, ids: readonly string[]): Promise<WriteOutcome> {
    return this.#write(user, state, ids, 'commit');
  }

  /** Deletes objects (see ExecutorService.Delete). */
  delete(user: RequestUser, state: ClientState, ids: readonly string[]): Promise<WriteOutcome> {
    return this.#write(user, state, ids, 'delete');
  }

  /** Drops uncommitted changes (see ExecutorService.Rollback). */
  rollback(user: RequestUser, state: ClientState, ids: readonly string[]): Promise<WriteOutcome> {
    return this.#write(user, state, ids, 'rollback');
  }

  /** Queues a microflow in a transaction of its own (see ExecutorService.EnqueueTask). */
  enqueueTask(
    user: RequestUser,
    request: TaskEnqueue,
  ): Promise<{ readonly taskId: string; readonly duplicate: boolean }> {
    if (request.queue === '') throw invalidRequest('EnqueueTask needs the name of a task queue.');
    return this.#request(user, undefined, { rights: 'user' }, async (scope) => {
      const { uow } = scope;
      const keyTag = request.idempotencyKey === '' ? '' : enqueueKeyTag(request.idempotencyKey);
      if (keyTag !== '' && !(await uow.claimIdempotencyKey(enqueueClaimKey(request.idempotencyKey)))) {
        return { taskId: await this.#taskByKeyTag(uow, keyTag), duplicate: true };
      }
      const args = await this.#arguments(scope, request.arguments);
      const taskId = await this.#d.outbox.scheduleWith(
        uow,
        { queue: request.queue, microflow: request.microflow, arguments: args },
        keyTag,
      );
      return { taskId, duplicate: false };
    });
  }

  /** The task queued with a key: pending, or among the processed ones; '' when cleaned up since. */
  async #taskByKeyTag(uow: TrackedUnitOfWork, keyTag: string): Promise<string> {
    const system = uow.untrackedSystem();
    for (const entity of [QUEUED_TASK, PROCESSED_TASK]) {
      const { objects } = await system.retrieve({
        entity,
        xpath: '[IdempotencyKey = $tag]',
        variables: new Map([['tag', keyTag]]),
        amount: 1,
      });
      const row = objects[0];
      if (row !== undefined) return bigintOf(row, 'Sequence').toString();
    }
    return '';
  }

  /** A task's status (see ExecutorService.GetTask). */
  getTask(taskId: string): Promise<TaskInfo> {
    return readTask(this.#d.database, taskId);
  }
}
