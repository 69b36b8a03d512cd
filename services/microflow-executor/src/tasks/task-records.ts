/**
 * Tasks as Mendix records them: a `System.QueuedTask` row while a task waits or runs (its
 * queue, microflow, arguments as JSON, the context it runs in, attempts so far), and one
 * `System.ProcessedQueueTask` row per finished attempt with the same `Sequence` — the
 * task's id. Rows are read and written with system rights inside the caller's transaction.
 */
import { createHash } from 'node:crypto';
import { UserError } from '@runplane/errors';
import {
  Decimal,
  decimalToString,
  isDecimal,
  isMxObject,
  type MxType,
  type MxValue,
} from '@runplane/expressions';
import type { CompiledModel, Microflow } from '@runplane/model';
import {
  SYSTEM_CONTEXT,
  type MxObject,
  type RunplaneDatabase,
  type UnitOfWork,
  type UserContext,
} from '@runplane/persistence';
import { ExecutorErrorCode } from '../errors.js';

/** The entity of pending tasks. */
export const QUEUED_TASK = 'System.QueuedTask';
/** The entity of finished attempts. */
export const PROCESSED_TASK = 'System.ProcessedQueueTask';

/** Values of `System.QueueTaskStatus`. */
export const QueueTaskStatus = {
  Idle: 'Idle',
  Running: 'Running',
  Completed: 'Completed',
  Failed: 'Failed',
  /** Failed at least once and waiting for its next attempt. */
  Retrying: 'Retrying',
  Aborted: 'Aborted',
  Incompatible: 'Incompatible',
} as const;
/** A value of `System.QueueTaskStatus`. */
export type QueueTaskStatus = (typeof QueueTaskStatus)[keyof typeof QueueTaskStatus];

/** A task queued in a transaction, to hand to the task queue once it commits. */
export interface QueuedTaskRef {
  readonly taskId: string;
  readonly queue: string;
  readonly microflow: string;
  /** W3C trace context of the moment it was queued. */
  readonly trace: Readonly<Record<string, string>>;
}

/** The context a task runs in, as stored in `ContextData`. */
export interface TaskContext {
  readonly system: boolean;
  readonly userId: string | undefined;
  readonly userName: string;
  readonly userRoles: readonly string[];
  readonly timeZone: string;
  readonly language: string;
  /** W3C trace context (`traceparent`, `tracestate`) of the scheduling moment. */
  readonly trace: Readonly<Record<string, string>>;
}

/** The idempotency key recorded with a task's work. */
export function taskWorkKey(taskId: string): string {
  return `runplane.task:${taskId}`;
}

/** The idempotency key recorded by an EnqueueTask call with a key. */
export function enqueueClaimKey(key: string): string {
  return `runplane.enqueue:${key}`;
}

/**
 * What `IdempotencyKey` holds for a task queued with an idempotency key: a hash of the key
 * (45 characters), to find the task again through the attribute's index.
 */
export function enqueueKeyTag(key: string): string {
  return `k:${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

/** The de-duplication id of a task's job on the work queue. */
export function taskMessageId(taskId: string): string {
  return `task:${taskId}`;
}

function argumentError(microflow: string, parameter: string, message: string): UserError {
  return new UserError({
    code: ExecutorErrorCode.TaskArgumentInvalid,
    message: `Task argument ${parameter} of ${microflow}: ${message}`,
    details: { microflow, parameter },
  });
}

type ArgumentJson = string | boolean | null;

function encodeArgument(
  microflow: Microflow,
  name: string,
  type: MxType,
  value: MxValue,
  model: CompiledModel,
): ArgumentJson {
  if (value === null) return null;
  switch (type.kind) {
    case 'Object': {
      if (!isMxObject(value)) throw argumentError(microflow.name, name, 'not an object.');
      const object = value as MxObject;
      const entity = model.entities.get(object.entity);
      if (entity?.persistable !== true) {
        throw argumentError(
          microflow.name,
          name,
          `${object.entity} is not persistable; a task takes committed persistable objects only.`,
        );
      }
      if (object.state !== 'stored') {
        throw argumentError(
          microflow.name,
          name,
          `the ${object.entity} object is not committed; commit it before queueing the task.`,
        );
      }
      return object.id;
    }
    case 'List':
      throw argumentError(
        microflow.name,
        name,
        'lists cannot be passed to a task (Mendix allows primitives and committed objects).',
      );
    case 'Integer':
    case 'Long':
      return typeof value === 'bigint' ? value.toString() : null;
    case 'Decimal':
      return isDecimal(value) ? decimalToString(value) : null;
    case 'DateTime':
      return value instanceof Date ? String(value.getTime()) : null;
    case 'Boolean':
      return typeof value === 'boolean' ? value : null;
    case 'String':
    case 'Enumeration':
      return typeof value === 'string' ? value : null;
    default:
      throw argumentError(microflow.name, name, `values of type ${type.kind} cannot be passed to a task.`);
  }
}

/**
 * The task arguments as the JSON stored in `Arguments`: by parameter name, every value as a
 * string (numbers exactly; DateTimes as epoch ms), Booleans as themselves, objects by id.
 * Throws TASK_ARGUMENT_INVALID for anything Mendix does not allow in a task.
 */
export function encodeArguments(
  model: CompiledModel,
  microflow: Microflow,
  args: ReadonlyMap<string, MxValue>,
): string {
  const out: Record<string, ArgumentJson> = {};
  for (const parameter of microflow.parameters) {
    out[parameter.name] = encodeArgument(
      microflow,
      parameter.name,
      parameter.type,
      args.get(parameter.name) ?? null,
      model,
    );
  }
  return JSON.stringify(out);
}

/** A stored argument: a primitive, or the id of an object to load. */
export type StoredArgument =
  { readonly kind: 'value'; readonly value: MxValue } | { readonly kind: 'object'; readonly id: string };

/** Reads the stored arguments back with the microflow's parameter types. */
export function decodeArguments(microflow: Microflow, json: string): Map<string, StoredArgument> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json === '' ? '{}' : json);
  } catch {
    parsed = {};
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const out = new Map<string, StoredArgument>();
  for (const parameter of microflow.parameters) {
    const raw = record[parameter.name];
    out.set(parameter.name, decodeArgument(parameter.type, raw));
  }
  return out;
}

function decodeArgument(type: MxType, raw: unknown): StoredArgument {
  const value = (v: MxValue): StoredArgument => ({ kind: 'value', value: v });
  if (raw === null || raw === undefined) return value(null);
  switch (type.kind) {
    case 'Object':
      return typeof raw === 'string' ? { kind: 'object', id: raw } : value(null);
    case 'Integer':
    case 'Long':
      return typeof raw === 'string' && /^-?\d+$/.test(raw) ? value(BigInt(raw)) : value(null);
    case 'Decimal':
      return typeof raw === 'string' ? value(new Decimal(raw)) : value(null);
    case 'DateTime':
      return typeof raw === 'string' && /^-?\d+$/.test(raw) ? value(new Date(Number(raw))) : value(null);
    case 'Boolean':
      return typeof raw === 'boolean' ? value(raw) : value(null);
    case 'String':
    case 'Enumeration':
      return typeof raw === 'string' ? value(raw) : value(null);
    default:
      return value(null);
  }
}

/** The `ContextData` JSON of a task. */
export function encodeContext(context: TaskContext): string {
  return JSON.stringify({
    system: context.system,
    userId: context.userId ?? null,
    userName: context.userName,
    userRoles: context.userRoles,
    timeZone: context.timeZone,
    language: context.language,
    trace: context.trace,
  });
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Reads `ContextData`; a row without one runs as system (a task scheduled from system). */
export function decodeContext(json: string): TaskContext {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json === '' ? '{}' : json);
  } catch {
    parsed = {};
  }
  const r = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const traceRecord =
    typeof r.trace === 'object' && r.trace !== null ? (r.trace as Record<string, unknown>) : {};
  const trace: Record<string, string> = {};
  for (const [k, v] of Object.entries(traceRecord)) if (typeof v === 'string') trace[k] = v;
  return {
    system: r.system !== false,
    userId: typeof r.userId === 'string' && r.userId !== '' ? r.userId : undefined,
    userName: text(r.userName),
    userRoles: strings(r.userRoles),
    timeZone: text(r.timeZone),
    language: text(r.language),
    trace,
  };
}

/** The persistence user context a task runs with. */
export function taskUserContext(context: TaskContext): UserContext {
  return {
    system: context.system,
    userId: context.userId,
    userRoles: context.system ? [] : [...context.userRoles],
    timeZone: context.timeZone,
  };
}

/** Reads a String attribute ('' when empty). */
export function stringOf(object: MxObject, attribute: string): string {
  const v = object.get(attribute);
  return typeof v === 'string' ? v : '';
}

/** Reads an integral attribute (0n when empty). */
export function bigintOf(object: MxObject, attribute: string): bigint {
  const v = object.get(attribute);
  return typeof v === 'bigint' ? v : 0n;
}

/** Reads a DateTime attribute as epoch ms (undefined when empty). */
export function msOf(object: MxObject, attribute: string): number | undefined {
  const v = object.get(attribute);
  return v instanceof Date ? v.getTime() : undefined;
}

/** The pending row of a task, if it is still pending. */
export async function findQueuedTask(uow: UnitOfWork, taskId: bigint): Promise<MxObject | undefined> {
  const { objects } = await uow.asSystem().retrieve({
    entity: QUEUED_TASK,
    xpath: '[Sequence = $sequence]',
    variables: new Map([['sequence', taskId]]),
    amount: 1,
  });
  return objects[0];
}

/** The finished attempts of a task, latest first. */
export async function findProcessedAttempts(uow: UnitOfWork, taskId: bigint): Promise<readonly MxObject[]> {
  const { objects } = await uow.asSystem().retrieve({
    entity: PROCESSED_TASK,
    xpath: '[Sequence = $sequence]',
    variables: new Map([['sequence', taskId]]),
    sort: [
      { attribute: 'Retried', descending: true },
      { attribute: 'Finished', descending: true },
    ],
  });
  return objects;
}

/** What one finished attempt records. */
export interface AttemptRecord {
  readonly status: QueueTaskStatus;
  readonly sequence: bigint | null;
  readonly queue: string;
  readonly microflow: string;
  readonly arguments: string;
  readonly userName: string;
  readonly created: Date | null;
  readonly startAt: Date | null;
  readonly started: Date;
  readonly finished: Date;
  /** Failed attempts before this one. */
  readonly retried: bigint;
  readonly errorMessage: string;
  readonly scheduledEvent: string;
  /** The task's {@link enqueueKeyTag}, or ''. */
  readonly keyTag: string;
}

/** Writes a `System.ProcessedQueueTask` row in the unit of work. */
export async function recordAttempt(uow: UnitOfWork, attempt: AttemptRecord): Promise<void> {
  const system = uow.asSystem();
  const row = await system.instantiate(PROCESSED_TASK);
  row.set('Sequence', attempt.sequence);
  row.set('Status', attempt.status);
  row.set('QueueName', attempt.queue);
  row.set('MicroflowName', attempt.microflow);
  row.set('Arguments', attempt.arguments);
  row.set('UserName', attempt.userName.slice(0, 100));
  row.set('Created', attempt.created);
  row.set('StartAt', attempt.startAt);
  row.set('Started', attempt.started);
  row.set('Finished', attempt.finished);
  row.set('Duration', BigInt(Math.max(0, attempt.finished.getTime() - attempt.started.getTime())));
  row.set('Retried', attempt.retried);
  row.set('ErrorMessage', attempt.errorMessage === '' ? null : attempt.errorMessage);
  row.set('ScheduledEventName', attempt.scheduledEvent === '' ? null : attempt.scheduledEvent);
  row.set('IdempotencyKey', attempt.keyTag === '' ? null : attempt.keyTag);
  await system.commit([row], { events: false });
}

/**
 * Leader duty: deletes the `System.ProcessedQueueTask` rows of completed attempts that
 * finished before `before`, at most `batchSize` per transaction, as Mendix's processed-task
 * cleanup does; failed and aborted attempts stay for the record. Returns how many it deleted.
 */
export async function deleteProcessedTasks(
  database: RunplaneDatabase,
  before: Date,
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const { objects } = await uow.retrieve({
        entity: PROCESSED_TASK,
        xpath: `[Status = '${QueueTaskStatus.Completed}'][Finished < $before]`,
        variables: new Map([['before', before]]),
        amount: batchSize,
      });
      if (objects.length > 0) await uow.delete(objects, { events: false });
      return objects.length;
    });
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
