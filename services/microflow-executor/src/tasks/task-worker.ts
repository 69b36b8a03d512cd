/**
 * Runs queued tasks and scheduled-event runs from the work queues, at least once and with
 * effect exactly once: the run's work, the idempotency key of the task and the task's
 * completion record commit in one transaction, so a redelivered job whose work committed is
 * acknowledged without running again. A failed run is rolled back; its attempt is recorded
 * in a transaction of its own and the task waits for the queue's retry delay, until the
 * queue's maxRetries are used up and it is parked (status Failed, never run again).
 */
import { busNames, type Bus, type Job, type WorkConsumer, type WorkQueue } from '@runplane/bus';
import { asRunplaneError } from '@runplane/errors';
import type { MxValue } from '@runplane/expressions';
import { MicroflowError, type MicroflowEngine } from '@runplane/microflows';
import type { CompiledModel, Microflow, TaskQueue } from '@runplane/model';
import { SYSTEM_CONTEXT, type RunplaneDatabase } from '@runplane/persistence';
import { executor, scheduler } from '@runplane/proto';
import type { Logger } from '@runplane/telemetry';
import type { CurrentUserLoader } from '../client-api/current-user.js';
import { NO_USER_DETAILS, trackedUnitOfWork } from '../client-api/tracked-unit-of-work.js';
import type { TaskOutbox } from './task-outbox.js';
import {
  QueueTaskStatus,
  bigintOf,
  decodeArguments,
  decodeContext,
  findQueuedTask,
  recordAttempt,
  stringOf,
  taskUserContext,
  taskWorkKey,
  type QueuedTaskRef,
  type TaskContext,
} from './task-records.js';

/** Delays before a job whose handling failed for infrastructure reasons (e.g. the database) comes back. */
const INFRASTRUCTURE_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** What the worker needs. */
export interface TaskWorkerOptions {
  readonly model: CompiledModel;
  readonly database: RunplaneDatabase;
  readonly engine: MicroflowEngine;
  readonly outbox: TaskOutbox;
  readonly users: CurrentUserLoader;
  readonly bus: Bus;
  readonly namespace: string;
  readonly logger: Logger;
  /** A job whose executor is silent this long is delivered again. */
  readonly ackWaitMs: number;
  /** Tasks of one queue run at once; undefined: the queue's threads. */
  readonly threads: number | undefined;
  readonly scheduledEventThreads: number;
}

/** The delay before retry number `attempt` (1-based) of a task queue's policy. */
export function retryDelayMs(queue: TaskQueue | undefined, attempt: number): number {
  if (queue === undefined) return 0;
  const { backoff, intervalMs, maxIntervalMs } = queue.retry;
  if (backoff === 'fixed') return intervalMs;
  return Math.min(intervalMs * 2 ** Math.max(0, attempt - 1), maxIntervalMs);
}

/** The text recorded as a failed attempt's error: code, message and the microflow call stack. */
export function describeFailure(error: unknown): string {
  const e = asRunplaneError(error);
  const lines = [`${e.code}: ${e.message}`];
  if (error instanceof MicroflowError) {
    if (error.details.causeCode !== undefined)
      lines[0] = `${e.code} (${error.details.causeCode}): ${e.message}`;
    for (const entry of error.details.callStack) lines.push(`  at ${entry.microflow} › ${entry.node}`);
  }
  return lines.join('\n');
}

/** A pending task's row, read when its run starts. */
interface TaskRow {
  readonly sequence: bigint;
  readonly queue: string;
  readonly microflow: string;
  readonly arguments: string;
  readonly context: TaskContext;
  readonly userName: string;
  readonly created: Date | null;
  readonly startAt: Date | null;
  readonly retried: bigint;
  readonly keyTag: string;
}

type WorkOutcome =
  | { readonly kind: 'completed'; readonly scheduled: readonly QueuedTaskRef[] }
  | { readonly kind: 'done-before' }
  | { readonly kind: 'failed'; readonly error: unknown };

/** Consumes the model's task queues and the scheduled-event queue. */
export class TaskWorker {
  readonly #o: TaskWorkerOptions;
  readonly #consumers: WorkConsumer[] = [];
  #runsFinished: WorkQueue | undefined;

  constructor(options: TaskWorkerOptions) {
    this.#o = options;
  }

  /** Starts a consumer per task queue of the model, and one for scheduled events. */
  async start(): Promise<void> {
    const names = busNames(this.#o.namespace);
    const common = { ackWaitMs: this.#o.ackWaitMs, backoffMs: INFRASTRUCTURE_BACKOFF_MS };
    for (const queue of this.#o.model.taskQueues.values()) {
      if (queue.scope === 'cluster') {
        // A cluster-wide limit needs the work queue's max-ack-pending, which the bus does not set yet.
        this.#o.logger.warn(
          { queue: queue.name, threads: queue.threads },
          'task queue has cluster scope; each executor runs up to its threads at once',
        );
      }
      const workQueue = await this.#o.bus.workQueue(names.workQueues.tasks(queue.name));
      this.#consumers.push(
        await workQueue.consume((job) => this.#handle(job), {
          ...common,
          concurrency: this.#o.threads ?? queue.threads,
        }),
      );
    }
    this.#runsFinished = await this.#o.bus.workQueue(names.workQueues.scheduledRunsFinished);
    const events = await this.#o.bus.workQueue(names.workQueues.scheduledEvents);
    this.#consumers.push(
      await events.consume((job) => this.#handle(job), {
        ...common,
        concurrency: this.#o.scheduledEventThreads,
      }),
    );
    this.#o.logger.info(
      {
        taskQueues: [...this.#o.model.taskQueues.keys()],
        scheduledEventThreads: this.#o.scheduledEventThreads,
      },
      'running queued tasks and scheduled events',
    );
  }

  /** Takes no new jobs; resolves when the runs in progress have ended. */
  async stop(): Promise<void> {
    await Promise.all(this.#consumers.splice(0).map((c) => c.stop()));
  }

  async #handle(job: Job): Promise<void> {
    let decoded: executor.TaskJob;
    try {
      decoded = executor.TaskJob.decode(job.data);
    } catch (err) {
      this.#o.logger.error(
        { err, subject: job.subject, sequence: job.sequence },
        'a task job could not be read; it is dropped',
      );
      job.term();
      return;
    }
    // Long runs keep the job: a silent executor is one that died.
    const heartbeat = setInterval(
      () => {
        job.working();
      },
      Math.max(200, Math.floor(this.#o.ackWaitMs / 3)),
    );
    try {
      const kind = decoded.kind;
      if (kind?.$case === 'task') await this.#runTask(job, kind.value);
      else if (kind?.$case === 'scheduledEvent') await this.#runScheduledEvent(job, kind.value);
      else {
        this.#o.logger.error({ subject: job.subject }, 'a task job of an unknown kind is dropped');
        job.term();
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Marks the task Running in a transaction of its own; undefined when it is no longer pending. */
  async #markRunning(sequence: bigint, started: Date): Promise<TaskRow | undefined> {
    return this.#o.database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const row = await findQueuedTask(uow, sequence);
      if (row === undefined) return undefined;
      row.set('Status', QueueTaskStatus.Running);
      row.set('Started', started);
      await uow.commit([row], { events: false });
      return {
        sequence,
        queue: stringOf(row, 'QueueName'),
        microflow: stringOf(row, 'MicroflowName'),
        arguments: stringOf(row, 'Arguments'),
        context: decodeContext(stringOf(row, 'ContextData')),
        userName: stringOf(row, 'UserName'),
        created: row.get('Created') as Date | null,
        startAt: row.get('StartAt') as Date | null,
        retried: bigintOf(row, 'Retried'),
        keyTag: stringOf(row, 'IdempotencyKey'),
      };
    });
  }

  async #runTask(job: Job, task: executor.QueuedTaskJob): Promise<void> {
    const { logger, model } = this.#o;
    if (!/^\d+$/.test(task.taskId)) {
      logger.error({ taskId: task.taskId }, 'a task job without a valid task id is dropped');
      job.term();
      return;
    }
    const sequence = BigInt(task.taskId);
    const started = new Date();
    const row = await this.#markRunning(sequence, started);
    if (row === undefined) {
      // Completed (its work committed) or parked before, or never committed.
      job.ack();
      return;
    }
    const microflow = model.microflows.get(row.microflow);
    const queue = model.taskQueues.get(row.queue);
    if (microflow === undefined || queue === undefined) {
      await this.#finishPending(
        row,
        started,
        QueueTaskStatus.Incompatible,
        `The model has no ${microflow === undefined ? `microflow ${row.microflow}` : `task queue ${row.queue}`} any more.`,
      );
      logger.warn(
        { taskId: task.taskId, microflow: row.microflow, queue: row.queue },
        'a queued task no longer fits the model; marked Incompatible',
      );
      job.term();
      return;
    }
    const outcome = await this.#work(row, microflow, started);
    if (outcome.kind === 'done-before') {
      job.ack();
      return;
    }
    if (outcome.kind === 'completed') {
      await this.#o.outbox.publish(outcome.scheduled);
      job.ack();
      return;
    }
    const attempt = Number(row.retried) + 1;
    const park = attempt > queue.maxRetries;
    const message = describeFailure(outcome.error);
    const stillPending = await this.#o.database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const current = await findQueuedTask(uow, sequence);
      if (current === undefined) return false;
      await recordAttempt(uow, this.#attempt(row, started, QueueTaskStatus.Failed, message));
      if (park) {
        await uow.delete([current], { events: false });
      } else {
        current.set('Status', QueueTaskStatus.Retrying);
        current.set('Retried', BigInt(attempt));
        await uow.commit([current], { events: false });
      }
      return true;
    });
    const fields = {
      taskId: task.taskId,
      microflow: row.microflow,
      queue: row.queue,
      attempt,
      code: asRunplaneError(outcome.error).code,
    };
    if (!stillPending) {
      job.ack();
    } else if (park) {
      logger.error(
        { ...fields, error: message },
        `task ${task.taskId} failed on every attempt and is parked`,
      );
      job.term();
    } else {
      const delayMs = retryDelayMs(queue, attempt);
      logger.warn(
        { ...fields, retryInMs: delayMs, error: message },
        `task ${task.taskId} failed; it runs again`,
      );
      job.nak(delayMs);
    }
  }

  #attempt(
    row: TaskRow,
    started: Date,
    status: QueueTaskStatus,
    errorMessage: string,
  ): Parameters<typeof recordAttempt>[1] {
    return {
      status,
      sequence: row.sequence,
      queue: row.queue,
      microflow: row.microflow,
      arguments: row.arguments,
      userName: row.userName,
      created: row.created,
      startAt: row.startAt,
      started,
      finished: new Date(),
      retried: row.retried,
      errorMessage,
      scheduledEvent: '',
      keyTag: row.keyTag,
    };
  }

  /** Ends a pending task without running it (Incompatible): its row moves to the processed ones. */
  async #finishPending(row: TaskRow, started: Date, status: QueueTaskStatus, message: string): Promise<void> {
    await this.#o.database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const current = await findQueuedTask(uow, row.sequence);
      if (current === undefined) return;
      await recordAttempt(uow, this.#attempt(row, started, status, message));
      await uow.delete([current], { events: false });
    });
  }

  /** Runs a task's microflow with its completion record in one transaction. */
  async #work(row: TaskRow, microflow: Microflow, started: Date): Promise<WorkOutcome> {
    const { database, engine, users } = this.#o;
    const context = row.context;
    const runUser = {
      userId: context.userId,
      userName: context.userName,
      language: context.language,
      sessionIdHash: '',
    };
    const details = {
      userName: context.userName,
      ...(context.language === '' ? {} : { locale: context.language }),
    };
    const { uow } = trackedUnitOfWork(engine, database, taskUserContext(context), runUser, details);
    try {
      if (!(await uow.claimIdempotencyKey(taskWorkKey(row.sequence.toString())))) {
        await uow.abort();
        return { kind: 'done-before' };
      }
      const current = await findQueuedTask(uow, row.sequence);
      if (current === undefined) {
        await uow.abort();
        return { kind: 'done-before' };
      }
      const args = new Map<string, MxValue>();
      for (const [name, stored] of decodeArguments(microflow, row.arguments)) {
        if (stored.kind === 'value') args.set(name, stored.value);
        else args.set(name, (await uow.retrieveByIds([stored.id]))[0] ?? null);
      }
      const user = await users.load(uow, runUser);
      await engine.run({ microflow: microflow.name, arguments: args, uow, fromClient: false, user });
      await uow.asSystem().delete([current], { events: false });
      await recordAttempt(uow, this.#attempt(row, started, QueueTaskStatus.Completed, ''));
      const scheduled = [...uow.record.scheduled];
      await uow.complete();
      return { kind: 'completed', scheduled };
    } catch (error) {
      await uow.abort().catch(() => undefined);
      return { kind: 'failed', error };
    } finally {
      await uow.close().catch(() => undefined);
    }
  }

  /**
   * Tells the scheduler a scheduled-event run ended, so its overlap policy can go on. Durable
   * and de-duplicated by run id; it throws when it cannot be sent, so the job comes back and
   * the report with it (a run whose work committed is then only reported again).
   */
  async #reportRunEnd(
    runId: string,
    run: executor.ScheduledEventJob,
    outcome: scheduler.RunOutcome,
    error: string,
  ): Promise<void> {
    const report: scheduler.ScheduledRunFinished = {
      event: run.event,
      runId,
      fireAtMs: run.fireAtMs,
      outcome,
      finishedAtMs: BigInt(Date.now()),
      error,
    };
    await this.#runsFinished?.enqueue(scheduler.ScheduledRunFinished.encode(report).finish(), {
      msgId: runId,
    });
  }

  async #runScheduledEvent(job: Job, run: executor.ScheduledEventJob): Promise<void> {
    const { database, engine, logger, model } = this.#o;
    const runId = job.msgId ?? `${run.event}@${run.fireAtMs}`;
    const key = `runplane.scheduled:${runId}`;
    const started = new Date();
    const fireAt = new Date(Number(run.fireAtMs));
    const queue = busNames(this.#o.namespace).workQueues.scheduledEvents.subject;
    const attempt = (status: QueueTaskStatus, errorMessage: string): Parameters<typeof recordAttempt>[1] => ({
      status,
      sequence: null,
      queue,
      microflow: run.microflow,
      arguments: '{}',
      userName: '',
      created: fireAt,
      startAt: fireAt,
      started,
      finished: new Date(),
      retried: 0n,
      errorMessage,
      scheduledEvent: run.event,
      keyTag: '',
    });
    const fields = { event: run.event, microflow: run.microflow, fireAtMs: Number(run.fireAtMs) };
    if (!model.microflows.has(run.microflow)) {
      await database.transaction(SYSTEM_CONTEXT, (uow) =>
        recordAttempt(
          uow,
          attempt(QueueTaskStatus.Incompatible, `The model has no microflow ${run.microflow}.`),
        ),
      );
      logger.warn(fields, 'a scheduled-event run names a microflow the model does not have');
      await this.#reportRunEnd(
        runId,
        run,
        scheduler.RunOutcome.RUN_OUTCOME_FAILED,
        `Incompatible: the model has no microflow ${run.microflow}.`,
      );
      job.term();
      return;
    }
    const { uow } = trackedUnitOfWork(engine, database, SYSTEM_CONTEXT, NO_USER_DETAILS);
    let failure: unknown;
    try {
      if (!(await uow.claimIdempotencyKey(key))) {
        await uow.abort();
        // Its work committed on an earlier delivery, whose report may not have gone out.
        await this.#reportRunEnd(runId, run, scheduler.RunOutcome.RUN_OUTCOME_COMPLETED, '');
        job.ack();
        return;
      }
      await engine.run({ microflow: run.microflow, arguments: new Map(), uow, fromClient: false, user: {} });
      await recordAttempt(uow, attempt(QueueTaskStatus.Completed, ''));
      const scheduled = [...uow.record.scheduled];
      await uow.complete();
      await this.#o.outbox.publish(scheduled);
      await this.#reportRunEnd(runId, run, scheduler.RunOutcome.RUN_OUTCOME_COMPLETED, '');
      job.ack();
      return;
    } catch (error) {
      failure = error;
      await uow.abort().catch(() => undefined);
    } finally {
      await uow.close().catch(() => undefined);
    }
    // Scheduled events are not retried (as in Mendix): the next run comes at its next time.
    const message = describeFailure(failure);
    await database.transaction(SYSTEM_CONTEXT, (u) =>
      recordAttempt(u, attempt(QueueTaskStatus.Failed, message)),
    );
    logger.error({ ...fields, error: message }, `scheduled event ${run.event} failed`);
    await this.#reportRunEnd(runId, run, scheduler.RunOutcome.RUN_OUTCOME_FAILED, message);
    job.term();
  }
}
