/**
 * The categories an error falls into. Each maps to exactly one HTTP status and one
 * gRPC status; the specific `code` of an error says more within its category.
 */
export const ErrorStatus = {
  /** The request is malformed: bad JSON, a wrong type, an unknown action. */
  InvalidArgument: 'invalid_argument',
  /** The request is well-formed but the data fails validation (Mendix validation feedback). */
  ValidationFailed: 'validation_failed',
  /** No valid credentials or session. */
  Unauthenticated: 'unauthenticated',
  /** Authenticated, but not allowed. */
  PermissionDenied: 'permission_denied',
  NotFound: 'not_found',
  /** The state has changed under the request: a unique value taken, a concurrent update. */
  Conflict: 'conflict',
  PayloadTooLarge: 'payload_too_large',
  RateLimited: 'rate_limited',
  /** A configured limit stopped the work: loop iterations, run time. */
  LimitExceeded: 'limit_exceeded',
  /** A dependency (database, bus, another service) cannot be reached. */
  Unavailable: 'unavailable',
  Timeout: 'timeout',
  /** A bug. Its message never leaves the process. */
  Internal: 'internal',
} as const;
export type ErrorStatus = (typeof ErrorStatus)[keyof typeof ErrorStatus];

/** Whose fault an error is: the caller's, the environment's, or ours. */
export const ErrorKind = {
  User: 'user',
  Operational: 'operational',
  Unexpected: 'unexpected',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Typed, JSON-safe context of an error. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** What every Runplane error is made of. */
export interface ErrorInit {
  /** Stable, SCREAMING_SNAKE code, e.g. `ACCESS_DENIED`. Clients may branch on it. */
  readonly code: string;
  readonly message: string;
  readonly status?: ErrorStatus;
  readonly details?: ErrorDetails;
  readonly cause?: unknown;
}

/**
 * The base of every error Runplane throws on purpose. Never branch on `message`;
 * branch on `code` or on the class.
 */
export abstract class RunplaneError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string;
  readonly status: ErrorStatus;
  readonly details: ErrorDetails;

  protected constructor(init: ErrorInit, defaultStatus: ErrorStatus) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status ?? defaultStatus;
    this.details = init.details ?? {};
  }

  /** The JSON form used on every transport. */
  toJSON(): SerializedError {
    return {
      kind: this.kind,
      code: this.code,
      status: this.status,
      message: this.message,
      details: this.details,
    };
  }
}

/** The caller's mistake: bad input, missing rights. The message is shown to the caller. */
export class UserError extends RunplaneError {
  readonly kind = ErrorKind.User;
  constructor(init: ErrorInit) {
    super(init, ErrorStatus.InvalidArgument);
  }
}

/** The environment failed: a dependency is down, a deadline passed. Worth a retry. */
export class OperationalError extends RunplaneError {
  readonly kind = ErrorKind.Operational;
  constructor(init: ErrorInit) {
    super(init, ErrorStatus.Unavailable);
  }
}

/** A bug. Its message and details stay in the logs; callers see a generic message. */
export class UnexpectedError extends RunplaneError {
  readonly kind = ErrorKind.Unexpected;
  constructor(init: ErrorInit) {
    super(init, ErrorStatus.Internal);
  }
}

/** An error as it travels between processes. */
export interface SerializedError {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly status: ErrorStatus;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** True for errors of this taxonomy. */
export function isRunplaneError(err: unknown): err is RunplaneError {
  return err instanceof RunplaneError;
}

/** Any thrown value as a Runplane error: unknown values become an `INTERNAL` UnexpectedError. */
export function asRunplaneError(err: unknown): RunplaneError {
  if (err instanceof RunplaneError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new UnexpectedError({ code: 'INTERNAL', message, cause: err });
}

/** Rebuilds an error received from another process. */
export function deserializeError(value: unknown): RunplaneError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Record<keyof SerializedError, unknown>>;
  if (typeof v.code !== 'string' || typeof v.message !== 'string') return undefined;
  const status = Object.values(ErrorStatus).includes(v.status as ErrorStatus)
    ? (v.status as ErrorStatus)
    : undefined;
  const details =
    typeof v.details === 'object' && v.details !== null ? (v.details as ErrorDetails) : undefined;
  const init: ErrorInit = { code: v.code, message: v.message, status, details };
  switch (v.kind) {
    case ErrorKind.User:
      return new UserError(init);
    case ErrorKind.Operational:
      return new OperationalError(init);
    default:
      return new UnexpectedError(init);
  }
}
