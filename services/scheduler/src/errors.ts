import { ErrorStatus, OperationalError, UserError } from '@runplane/errors';

/** Stable codes of the errors the scheduler throws. */
export const SchedulerErrorCode = {
  /**
   * A fire record was written by a later leadership term than the writer's: the writer is
   * a stale leader and must stop acting at once.
   */
  Fenced: 'SCHEDULER_FENCED',
  /** RunNow of a name that is no scheduled event of the model. */
  ScheduleNotFound: 'SCHEDULE_NOT_FOUND',
  /** A fire record kept changing under an update; the update is retried later. */
  RecordContended: 'SCHEDULER_RECORD_CONTENDED',
} as const;
export type SchedulerErrorCode = (typeof SchedulerErrorCode)[keyof typeof SchedulerErrorCode];

/** A stale leader tried to write a record a later term owns. */
export class FencedError extends UserError {
  constructor(key: string, fencingToken: bigint, storedToken: bigint) {
    super({
      code: SchedulerErrorCode.Fenced,
      status: ErrorStatus.Conflict,
      message: `The fire record ${key} belongs to a later leadership term (${storedToken}) than this writer's (${fencingToken})`,
      details: { key, fencingToken: fencingToken.toString(), storedToken: storedToken.toString() },
    });
  }
}

/** `SCHEDULE_NOT_FOUND` for a name RunNow was given. */
export function scheduleNotFound(name: string): UserError {
  return new UserError({
    code: SchedulerErrorCode.ScheduleNotFound,
    status: ErrorStatus.NotFound,
    message: `The model has no scheduled event named "${name}"`,
    details: { name },
  });
}

/** `SCHEDULER_RECORD_CONTENDED` after too many lost compare-and-sets on one record. */
export function recordContended(key: string, attempts: number): OperationalError {
  return new OperationalError({
    code: SchedulerErrorCode.RecordContended,
    status: ErrorStatus.Conflict,
    message: `The fire record ${key} changed under ${attempts} updates in a row`,
    details: { key, attempts },
  });
}
