/** A task's status, read from its `System.QueuedTask` row and its `System.ProcessedQueueTask` attempts. */
import { ErrorStatus, UserError } from '@runplane/errors';
import { SYSTEM_CONTEXT, type Database } from '@runplane/persistence';
import { ExecutorErrorCode } from '../errors.js';
import {
  QueueTaskStatus,
  bigintOf,
  findProcessedAttempts,
  findQueuedTask,
  msOf,
  stringOf,
} from './task-records.js';

/** Where a task stands. */
export const TaskState = {
  Queued: 'queued',
  Running: 'running',
  Retrying: 'retrying',
  Completed: 'completed',
  /** Failed on every attempt (or no longer fits the model): parked, never run again. */
  Failed: 'failed',
} as const;
/** Where a task stands. */
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** A task as GetTask reports it. */
export interface TaskInfo {
  readonly id: string;
  readonly microflow: string;
  readonly queue: string;
  readonly state: TaskState;
  readonly attempts: number;
  readonly lastError: string;
  readonly enqueuedAtMs: number;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
}

function taskNotFound(taskId: string): UserError {
  return new UserError({
    code: ExecutorErrorCode.TaskNotFound,
    status: ErrorStatus.NotFound,
    message: `There is no task ${taskId}.`,
    details: { taskId },
  });
}

/**
 * Reads a task's status. The pending row is read first: once it is gone, the attempt that
 * removed it has committed, so the attempts read next include the final one.
 *
 * @throws UserError TASK_NOT_FOUND.
 */
export async function readTask(database: Database, taskId: string): Promise<TaskInfo> {
  if (!/^\d{1,19}$/.test(taskId)) throw taskNotFound(taskId);
  const sequence = BigInt(taskId);
  return database.transaction(SYSTEM_CONTEXT, async (uow) => {
    const pending = await findQueuedTask(uow, sequence);
    const attempts = await findProcessedAttempts(uow, sequence);
    const latest = attempts[0];
    const lastFailure = attempts.find((a) => stringOf(a, 'Status') !== QueueTaskStatus.Completed);
    if (pending !== undefined) {
      const status = stringOf(pending, 'Status');
      const retried = Number(bigintOf(pending, 'Retried'));
      const running = status === QueueTaskStatus.Running;
      return {
        id: taskId,
        microflow: stringOf(pending, 'MicroflowName'),
        queue: stringOf(pending, 'QueueName'),
        state: running ? TaskState.Running : retried > 0 ? TaskState.Retrying : TaskState.Queued,
        attempts: retried + (running ? 1 : 0),
        lastError: lastFailure === undefined ? '' : stringOf(lastFailure, 'ErrorMessage'),
        enqueuedAtMs: msOf(pending, 'Created') ?? 0,
        startedAtMs: msOf(pending, 'Started') ?? 0,
        finishedAtMs: 0,
      };
    }
    if (latest === undefined) throw taskNotFound(taskId);
    const completed = stringOf(latest, 'Status') === QueueTaskStatus.Completed;
    return {
      id: taskId,
      microflow: stringOf(latest, 'MicroflowName'),
      queue: stringOf(latest, 'QueueName'),
      state: completed ? TaskState.Completed : TaskState.Failed,
      attempts: attempts.length,
      lastError: lastFailure === undefined ? '' : stringOf(lastFailure, 'ErrorMessage'),
      enqueuedAtMs: msOf(latest, 'Created') ?? 0,
      startedAtMs: msOf(latest, 'Started') ?? 0,
      finishedAtMs: msOf(latest, 'Finished') ?? 0,
    };
  });
}
