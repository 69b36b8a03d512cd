import { ErrorStatus, UserError } from '@runplane/errors';

/** Stable codes of the errors this package throws. */
export const SchedulingErrorCode = {
  /** A time zone name that is not an IANA zone this runtime knows. */
  TimeZoneInvalid: 'SCHEDULE_TIME_ZONE_INVALID',
  /** A fixed interval that is not a positive whole number of milliseconds. */
  IntervalInvalid: 'SCHEDULE_INTERVAL_INVALID',
} as const;
export type SchedulingErrorCode = (typeof SchedulingErrorCode)[keyof typeof SchedulingErrorCode];

/** `SCHEDULE_TIME_ZONE_INVALID` for a zone name. */
export function timeZoneInvalid(zone: string): UserError {
  return new UserError({
    code: SchedulingErrorCode.TimeZoneInvalid,
    status: ErrorStatus.InvalidArgument,
    message: `"${zone}" is not a time zone: use UTC or an IANA name such as Europe/Amsterdam`,
    details: { zone },
  });
}

/** `SCHEDULE_INTERVAL_INVALID` for a period. */
export function intervalInvalid(everyMs: number): UserError {
  return new UserError({
    code: SchedulingErrorCode.IntervalInvalid,
    status: ErrorStatus.InvalidArgument,
    message: `An interval must be a positive whole number of milliseconds, not ${everyMs}`,
    details: { everyMs },
  });
}
