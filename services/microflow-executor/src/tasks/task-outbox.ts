/**
 * Queueing tasks with a transactional outbox. `schedule` records the task as a
 * `System.QueuedTask` row in the caller's transaction, so the task exists exactly when that
 * transaction commits (Mendix: "the task becomes visible only after the calling transaction
 * commits"). Once it has committed, the caller hands the task to the work queue with
 * {@link TaskOutbox.publish} (message id `task:<id>`, so handing it over twice stores it
 * once). A relay loop hands over queued rows that never got there — the process stopped
 * between commit and publish.
 */
import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';
import { busNames, type Bus, type WorkQueue } from '@runplane/bus';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { MxValue } from '@runplane/expressions';
import { MicroflowErrorCode, type TaskScheduler } from '@runplane/microflows';
import type { CompiledModel } from '@runplane/model';
import { SYSTEM_CONTEXT, type Database, type UnitOfWork } from '@runplane/persistence';
import { executor } from '@runplane/proto';
import type { Logger } from '@runplane/telemetry';
import { TrackedUnitOfWork } from '../client-api/tracked-unit-of-work.js';
import { ExecutorErrorCode } from '../errors.js';
import {
  QUEUED_TASK,
  QueueTaskStatus,
  bigintOf,
  decodeContext,
  encodeArguments,
  encodeContext,
  recordAttempt,
  stringOf,
  taskMessageId,
  type QueuedTaskRef,
} from './task-records.js';

/** Task ids handed over at once. */
const PUBLISH_PARALLELISM = 32;
/** Rows the relay looks at per pass. */
const RELAY_BATCH = 500;
/** How long the relay remembers handing a task over (the stream's de-duplication window). */
const RELAY_MEMORY_MS = 5 * 60_000;

/** What a task is queued with. */
export interface TaskRequest {
  readonly queue: string;
  readonly microflow: string;
  readonly arguments: ReadonlyMap<string, MxValue>;
}

/** Options of {@link TaskOutbox}. */
export interface TaskOutboxOptions {
  readonly model: CompiledModel;
  readonly bus: Bus;
  readonly namespace: string;
  readonly logger: Logger;
}

/** The executor's {@link TaskScheduler}: records tasks in the caller's transaction and hands them to the work queue after commit. */
export class TaskOutbox implements TaskScheduler {
  readonly #model: CompiledModel;
  readonly #bus: Bus;
  readonly #names: ReturnType<typeof busNames>;
  readonly #logger: Logger;
  readonly #queues = new Map<string, Promise<WorkQueue>>();
  readonly #relayed = new Map<string, number>();
  #relayTimer: NodeJS.Timeout | undefined;
  #relayRun: Promise<void> = Promise.resolve();
  #relayStopped = false;

  constructor(options: TaskOutboxOptions) {
    this.#model = options.model;
    this.#bus = options.bus;
    this.#names = busNames(options.namespace);
    this.#logger = options.logger;
  }

  /** Records a task in `uow`'s transaction; returns its id (the row's Sequence). */
  schedule(uow: UnitOfWork, task: TaskRequest): Promise<string> {
    return this.scheduleWith(uow, task, '');
  }

  /**
   * {@link schedule} with the tag of an idempotency key stored with the task.
   *
   * @throws UserError UNKNOWN_TASK_QUEUE, MICROFLOW_NOT_FOUND or TASK_ARGUMENT_INVALID.
   */
  async scheduleWith(uow: UnitOfWork, task: TaskRequest, keyTag: string): Promise<string> {
    if (!this.#model.taskQueues.has(task.queue)) {
      throw new UserError({
        code: ExecutorErrorCode.UnknownTaskQueue,
        status: ErrorStatus.NotFound,
        message: `The model has no task queue ${task.queue}.`,
        details: { queue: task.queue },
      });
    }
    const microflow = this.#model.microflows.get(task.microflow);
    if (microflow === undefined) {
      throw new UserError({
        code: MicroflowErrorCode.NotFound,
        status: ErrorStatus.NotFound,
        message: `There is no microflow ${task.microflow}.`,
        details: { microflow: task.microflow },
      });
    }
    const args = encodeArguments(this.#model, microflow, task.arguments);
    const trace: Record<string, string> = {};
    propagation.inject(context.active(), trace);
    const details = uow instanceof TrackedUnitOfWork ? uow.record.details : undefined;
    const system = uow instanceof TrackedUnitOfWork ? uow.untrackedSystem() : uow.asSystem();
    const row = await system.instantiate(QUEUED_TASK);
    row.set('QueueName', task.queue);
    row.set('MicroflowName', task.microflow);
    row.set('Arguments', args);
    row.set(
      'ContextData',
      encodeContext({
        system: uow.user.system,
        userId: uow.user.userId,
        userName: details?.userName ?? '',
        userRoles: uow.user.userRoles,
        timeZone: uow.user.timeZone,
        language: details?.language ?? '',
        trace,
      }),
    );
    row.set(
      'UserName',
      details === undefined || details.userName === '' ? null : details.userName.slice(0, 100),
    );
    row.set('Created', new Date());
    row.set('Retried', 0n);
    if (keyTag !== '') row.set('IdempotencyKey', keyTag);
    await system.commit([row], { events: false });
    const taskId = bigintOf(row, 'Sequence').toString();
    const ref: QueuedTaskRef = { taskId, queue: task.queue, microflow: task.microflow, trace };
    if (uow instanceof TrackedUnitOfWork) uow.record.scheduled.push(ref);
    return taskId;
  }

  #workQueue(queue: string): Promise<WorkQueue> {
    let found = this.#queues.get(queue);
    if (found === undefined) {
      found = this.#bus.workQueue(this.#names.workQueues.tasks(queue));
      // A failed open is retried on the next publish.
      found.catch(() => this.#queues.delete(queue));
      this.#queues.set(queue, found);
    }
    return found;
  }

  /** Hands one task to its work queue, in the trace it was queued in. */
  async #publishOne(ref: QueuedTaskRef): Promise<void> {
    const queue = await this.#workQueue(ref.queue);
    const payload = executor.TaskJob.encode({
      kind: { $case: 'task', value: { taskId: ref.taskId, microflow: ref.microflow, queue: ref.queue } },
    }).finish();
    await context.with(propagation.extract(ROOT_CONTEXT, ref.trace), () =>
      queue.enqueue(payload, { msgId: taskMessageId(ref.taskId) }),
    );
  }

  /**
   * Hands committed tasks to their work queues. Never throws: a task that cannot be handed
   * over now is handed over by the relay later (it is committed, so it is not lost).
   */
  async publish(refs: readonly QueuedTaskRef[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < refs.length) {
        const ref = refs[next++];
        if (ref === undefined) return;
        try {
          await this.#publishOne(ref);
        } catch (err) {
          this.#logger.warn(
            { err, taskId: ref.taskId, queue: ref.queue },
            'a queued task could not be handed to its task queue yet; the relay will',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUBLISH_PARALLELISM, refs.length) }, worker));
  }

  /**
   * Starts the relay: every `intervalMs`, queued tasks that were never started and were
   * queued more than `afterMs` ago are handed to their work queue again, and tasks of a queue
   * the model no longer has are marked Incompatible (as Mendix does at start-up).
   */
  startRelay(database: Database, intervalMs: number, afterMs: number): void {
    const tick = (): void => {
      this.#relayTimer = setTimeout(() => {
        this.#relayRun = this.relayOnce(database, afterMs)
          .then(() => undefined)
          .catch((err: unknown) => {
            this.#logger.warn({ err }, 'the task relay pass failed; it runs again');
          })
          .finally(() => {
            if (!this.#relayStopped) tick();
          });
      }, intervalMs);
      this.#relayTimer.unref();
    };
    this.#relayStopped = false;
    tick();
  }

  /** Stops the relay; resolves when a pass in progress has ended. */
  async stopRelay(): Promise<void> {
    this.#relayStopped = true;
    clearTimeout(this.#relayTimer);
    await this.#relayRun;
  }

  /** One relay pass; returns how many tasks it handed over. */
  async relayOnce(database: Database, afterMs: number): Promise<number> {
    const now = Date.now();
    for (const [id, at] of this.#relayed) if (now - at > RELAY_MEMORY_MS) this.#relayed.delete(id);
    const cutoff = new Date(now - afterMs);
    const refs: QueuedTaskRef[] = [];
    await database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const { objects } = await uow.retrieve({
        entity: QUEUED_TASK,
        xpath: "[Status = 'Idle'][Started = empty][Created <= $cutoff]",
        variables: new Map([['cutoff', cutoff]]),
        sort: [{ attribute: 'Sequence', descending: false }],
        amount: RELAY_BATCH,
      });
      const incompatible = [];
      for (const row of objects) {
        const taskId = bigintOf(row, 'Sequence').toString();
        const queue = stringOf(row, 'QueueName');
        const microflow = stringOf(row, 'MicroflowName');
        if (!this.#model.taskQueues.has(queue)) {
          incompatible.push(row);
          await recordAttempt(uow, {
            status: QueueTaskStatus.Incompatible,
            sequence: bigintOf(row, 'Sequence'),
            queue,
            microflow,
            arguments: stringOf(row, 'Arguments'),
            userName: stringOf(row, 'UserName'),
            created: row.get('Created') as Date | null,
            startAt: row.get('StartAt') as Date | null,
            started: new Date(now),
            finished: new Date(now),
            retried: bigintOf(row, 'Retried'),
            errorMessage: `The model has no task queue ${queue} any more.`,
            scheduledEvent: '',
            keyTag: stringOf(row, 'IdempotencyKey'),
          });
          continue;
        }
        if (this.#relayed.has(taskId)) continue;
        refs.push({ taskId, queue, microflow, trace: decodeContext(stringOf(row, 'ContextData')).trace });
      }
      if (incompatible.length > 0) {
        await uow.delete(incompatible, { events: false });
        this.#logger.warn(
          { tasks: incompatible.length },
          'queued tasks of task queues the model no longer has were marked Incompatible',
        );
      }
    });
    if (refs.length === 0) return 0;
    await this.publish(refs);
    for (const ref of refs) this.#relayed.set(ref.taskId, now);
    this.#logger.info(
      { tasks: refs.length },
      'handed queued tasks that were never started to their task queues',
    );
    return refs.length;
  }
}
