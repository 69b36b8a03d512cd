/**
 * The gRPC handlers of `runplane.executor.v1.ExecutorService`: proto in, domain types to the
 * {@link ClientApi}, proto out. Errors leave with their code, status and JSON-safe details.
 */
import type { MxType, MxValue } from '@runplane/expressions';
import type { CompiledModel } from '@runplane/model';
import type { ObjectTable } from '@runplane/persistence';
import { executor, type common } from '@runplane/proto';
import { unaryHandler, type CallContext } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import type { ArgumentInput, ClientApi, StateChanges } from './client-api/client-api.js';
import {
  clientStateFromProto,
  clientStateToProto,
  instructionToProto,
  objectToProto,
  userFromProto,
  type ShownObject,
} from './convert/objects.js';
import { MemberTypes, primitiveFromValue, valueOf, variableFromValue } from './convert/values.js';
import { invalidRequest, transportable } from './errors.js';
import { RetrieveStreams } from './retrieve-streams.js';
import { TaskState, type TaskInfo } from './tasks/task-status.js';

const TASK_STATUS: Readonly<Record<TaskState, executor.TaskStatus>> = {
  [TaskState.Queued]: executor.TaskStatus.TASK_STATUS_QUEUED,
  [TaskState.Running]: executor.TaskStatus.TASK_STATUS_RUNNING,
  [TaskState.Retrying]: executor.TaskStatus.TASK_STATUS_RETRYING,
  [TaskState.Completed]: executor.TaskStatus.TASK_STATUS_COMPLETED,
  [TaskState.Failed]: executor.TaskStatus.TASK_STATUS_FAILED,
};

/** A proto argument for a parameter of a known type (or, for unknown names, by its kind). */
function argumentFromProto(
  model: CompiledModel,
  name: string,
  value: common.Value,
  type: MxType | undefined,
  where: string,
): ArgumentInput {
  const kind = value.kind;
  if (type?.kind === 'Object' || (type === undefined && kind?.$case === 'objectId')) {
    if (kind === undefined || kind.$case === 'empty') return { kind: 'value', value: null };
    if (kind.$case !== 'objectId') throw invalidRequest(`${where} takes an object id.`, { parameter: name });
    return { kind: 'object', id: kind.value };
  }
  if (type?.kind === 'List' || (type === undefined && kind?.$case === 'objectIds')) {
    if (kind === undefined || kind.$case === 'empty') return { kind: 'list', ids: [] };
    if (kind.$case !== 'objectIds') throw invalidRequest(`${where} takes object ids.`, { parameter: name });
    return { kind: 'list', ids: kind.value.ids };
  }
  if (type === undefined) {
    // Unknown parameter: passed on so that the engine reports it by name.
    return {
      kind: 'value',
      value:
        kind === undefined || kind.$case === 'empty' ? null : kind.$case === 'string' ? kind.value : null,
    };
  }
  return { kind: 'value', value: primitiveFromValue(value, type, where, model) };
}

function argumentsFromProto(
  model: CompiledModel,
  microflow: string,
  parameters: Readonly<Record<string, common.Value>>,
): Map<string, ArgumentInput> {
  const declared = new Map(model.microflows.get(microflow)?.parameters.map((p) => [p.name, p.type]) ?? []);
  const out = new Map<string, ArgumentInput>();
  for (const [name, value] of Object.entries(parameters)) {
    out.set(
      name,
      argumentFromProto(model, name, value, declared.get(name), `Parameter ${name} of ${microflow}`),
    );
  }
  return out;
}

/** The gRPC implementation of the executor service, and what its shutdown needs. */
export interface ExecutorHandlers {
  readonly server: executor.ExecutorServiceServer;
  /** Ends the open RetrieveStream calls once what they were given is answered (see {@link RetrieveStreams.drain}). */
  drain(timeoutMs: number): Promise<void>;
}

/** The gRPC implementation of the executor service over a {@link ClientApi}. */
/** The leader duties the executor answers for the scheduler. */
export interface ExecutorDuties {
  /** Deletes old completed task attempts; returns how many. */
  cleanupProcessedTasks(): Promise<number>;
}

export function executorHandlers(
  api: ClientApi,
  model: CompiledModel,
  logger: Logger,
  duties: ExecutorDuties,
): ExecutorHandlers {
  const types = new MemberTypes(model);
  const shown = (objects: readonly ShownObject[]): common.MxObject[] =>
    objects.map((o) => objectToProto(types, o.snapshot, o.changed));
  const update = (changes: StateChanges): executor.StateUpdate => ({
    state: clientStateToProto(types, changes.state),
    objects: shown(changes.objects),
    committedIds: [...changes.committedIds],
    deletedIds: [...changes.deletedIds],
  });
  const pageParameterType = (name: string): MxType | undefined => {
    const dot = name.lastIndexOf('.');
    return model.pages.get(name.slice(0, dot))?.parameters.find((p) => p.name === name.slice(dot + 1))?.type;
  };
  const instructions = (list: Parameters<typeof instructionToProto>[0][]): common.ClientInstruction[] =>
    list.map((i) => instructionToProto(i, pageParameterType));
  const handler = <Req, Res>(method: string, fn: (request: Req, ctx: CallContext) => Promise<Res>) =>
    unaryHandler<Req, Res>(logger, method, async (request, ctx) => {
      try {
        return await fn(request, ctx);
      } catch (error) {
        throw transportable(error);
      }
    });

  const retrieve = async (req: executor.RetrieveRequest): Promise<executor.RetrieveResponse> => {
    const user = userFromProto(req.user);
    const query = req.query;
    if (query === undefined) throw invalidRequest('Retrieve needs an XPath, ids or association query.');
    let outcome;
    if (query.$case === 'xpath') {
      const q = query.value;
      const xpath = {
        entity: q.entity,
        constraint: q.constraint,
        variables: variablesFromProto(q.variables?.values ?? {}),
        sort: q.sort.map((s) => ({ attribute: s.member, descending: s.descending })),
        offset: Number(q.offset),
        amount: Number(q.amount),
        count: q.includeCount,
      };
      if (q.projection !== undefined) {
        const table = await api.retrieveTable(user, { ...xpath, members: q.projection.members });
        return {
          objects: [],
          count: table.count === undefined ? undefined : BigInt(table.count),
          table: tableToProto(table),
        };
      }
      outcome = await api.retrieveByXPath(user, xpath);
    } else if (query.$case === 'ids') {
      outcome = await api.retrieveByIds(
        user,
        clientStateFromProto(types, req.state),
        query.value.ids,
        query.value.entity,
      );
    } else {
      outcome = await api.retrieveByAssociation(
        user,
        clientStateFromProto(types, req.state),
        query.value.objectId,
        query.value.association,
      );
    }
    return {
      objects: shown(outcome.objects),
      count: outcome.count === undefined ? undefined : BigInt(outcome.count),
    };
  };
  const streams = new RetrieveStreams(retrieve, logger, transportable);

  const server: executor.ExecutorServiceServer = {
    execute: handler('Execute', async (req: executor.ExecuteRequest) => {
      if (req.microflow === '') throw invalidRequest('Execute needs a microflow name.');
      const outcome = await api.execute(userFromProto(req.user), {
        microflow: req.microflow,
        arguments: argumentsFromProto(model, req.microflow, req.parameters),
        state: clientStateFromProto(types, req.state),
        fromClient: req.fromClient,
      });
      return {
        result: valueOf(outcome.result, outcome.returnType),
        update: update(outcome.update),
        instructions: instructions([...outcome.instructions]),
      };
    }),

    retrieve: handler('Retrieve', retrieve),

    retrieveStream: streams.handler,

    instantiate: handler('Instantiate', async (req: executor.InstantiateRequest) => {
      if (req.entity === '') throw invalidRequest('Instantiate needs an entity.');
      const outcome = await api.instantiate(
        userFromProto(req.user),
        clientStateFromProto(types, req.state),
        req.entity,
      );
      return {
        object: objectToProto(types, outcome.object.snapshot, false),
        update: update(outcome.update),
        instructions: instructions([...outcome.instructions]),
      };
    }),

    commit: handler('Commit', async (req: executor.CommitRequest) => {
      const outcome = await api.commit(
        userFromProto(req.user),
        clientStateFromProto(types, req.state),
        req.objectIds,
      );
      return { update: update(outcome.update), instructions: instructions([...outcome.instructions]) };
    }),

    delete: handler('Delete', async (req: executor.DeleteRequest) => {
      const outcome = await api.delete(
        userFromProto(req.user),
        clientStateFromProto(types, req.state),
        req.objectIds,
      );
      return { update: update(outcome.update), instructions: instructions([...outcome.instructions]) };
    }),

    rollback: handler('Rollback', async (req: executor.RollbackRequest) => {
      const outcome = await api.rollback(
        userFromProto(req.user),
        clientStateFromProto(types, req.state),
        req.objectIds,
      );
      return { update: update(outcome.update), instructions: instructions([...outcome.instructions]) };
    }),

    enqueueTask: handler('EnqueueTask', async (req: executor.EnqueueTaskRequest) => {
      if (req.microflow === '') throw invalidRequest('EnqueueTask needs a microflow name.');
      return api.enqueueTask(userFromProto(req.user), {
        queue: req.queue,
        microflow: req.microflow,
        arguments: argumentsFromProto(model, req.microflow, req.parameters),
        idempotencyKey: req.idempotencyKey,
      });
    }),

    getTask: handler('GetTask', async (req: executor.GetTaskRequest) => ({
      task: taskToProto(await api.getTask(req.taskId)),
    })),

    cleanupProcessedTasks: handler('CleanupProcessedTasks', async () => ({
      deleted: BigInt(await duties.cleanupProcessedTasks()),
    })),
  };
  return { server, drain: (timeoutMs) => streams.drain(timeoutMs) };
}

/** XPath variables from the request, by name. */
function variablesFromProto(variables: Readonly<Record<string, common.Value>>): Map<string, MxValue> {
  const out = new Map<string, MxValue>();
  for (const [name, value] of Object.entries(variables)) {
    out.set(name, variableFromValue(value, `XPath variable $${name}`));
  }
  return out;
}

/** A table of the lean read path as its proto: entities by position, empty and absent cells by position. */
export function tableToProto(table: ObjectTable): executor.ObjectTable {
  const entities: string[] = [];
  const entityIndex = new Map<string, number>();
  const width = table.members.length;
  const rows = table.rows.map((row): executor.ObjectRow => {
    let entity = entityIndex.get(row.entity);
    if (entity === undefined) {
      entity = entities.length;
      entities.push(row.entity);
      entityIndex.set(row.entity, entity);
    }
    const values = new Array<string>(width);
    const empty: number[] = [];
    const absent: number[] = [];
    for (let i = 0; i < width; i++) {
      const cell = row.values[i];
      if (cell === undefined) absent.push(i);
      else if (cell === null) empty.push(i);
      values[i] = cell ?? '';
    }
    return { id: row.id, entity, values, empty, absent };
  });
  return { members: [...table.members], entities, rows };
}

function taskToProto(task: TaskInfo): executor.Task {
  return {
    id: task.id,
    microflow: task.microflow,
    queue: task.queue,
    status: TASK_STATUS[task.state],
    attempts: task.attempts,
    lastError: task.lastError,
    enqueuedAtMs: BigInt(task.enqueuedAtMs),
    startedAtMs: BigInt(task.startedAtMs),
    finishedAtMs: BigInt(task.finishedAtMs),
  };
}
