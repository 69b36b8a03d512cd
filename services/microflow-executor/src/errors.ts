/**
 * The executor's own error codes, and the mapping of any error to one that survives the
 * gRPC hop as JSON.
 */
import {
  ErrorStatus,
  OperationalError,
  UnexpectedError,
  UserError,
  asRunplaneError,
  type ErrorDetails,
  type RunplaneError,
} from '@runplane/errors';

/** Stable codes of the errors the executor raises itself. */
export const ExecutorErrorCode = {
  /** A Value does not fit the member or parameter it was given for. */
  InvalidValue: 'INVALID_VALUE',
  /** A request is missing something it needs, or names something the model does not have. */
  InvalidRequest: 'INVALID_REQUEST',
  /** An object the request names is not in the client's state nor visible in the database. */
  ObjectNotFound: 'OBJECT_NOT_FOUND',
  /** The model has no task queue of that name. */
  UnknownTaskQueue: 'UNKNOWN_TASK_QUEUE',
  /** A task argument is not a primitive or a committed persistable object. */
  TaskArgumentInvalid: 'TASK_ARGUMENT_INVALID',
  /** No task has that id. */
  TaskNotFound: 'TASK_NOT_FOUND',
  /** RUNPLANE_CONSTANTS is not valid for the model. */
  ConstantsInvalid: 'CONSTANTS_INVALID',
  /** The after-startup microflow failed or returned false, so the executor does not start. */
  StartupMicroflowFailed: 'STARTUP_MICROFLOW_FAILED',
} as const;
/** Stable codes of the errors the executor raises itself. */
export type ExecutorErrorCode = (typeof ExecutorErrorCode)[keyof typeof ExecutorErrorCode];

/** A caller's mistake in a request. */
export function invalidRequest(message: string, details: ErrorDetails = {}): UserError {
  return new UserError({ code: ExecutorErrorCode.InvalidRequest, message, details });
}

/** A value that does not fit where it was given. */
export function invalidValue(message: string, details: ErrorDetails = {}): UserError {
  return new UserError({ code: ExecutorErrorCode.InvalidValue, message, details });
}

/** An object a request names that is not there (or not visible). */
export function objectNotFound(id: string, details: ErrorDetails = {}): UserError {
  return new UserError({
    code: ExecutorErrorCode.ObjectNotFound,
    status: ErrorStatus.NotFound,
    message: `Object ${id} does not exist or you may not see it.`,
    details: { objectId: id, ...details },
  });
}

/** A JSON-safe copy: bigints and Decimals as text, dates as epoch ms, bytes as lengths. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[…]';
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value instanceof Date) return value.getTime();
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((item: unknown) => jsonSafe(item, depth + 1));
  if (value instanceof Error) return { name: value.name, message: value.message };
  const record = value as Record<string, unknown>;
  // Decimals (decimal.js) know their exact text.
  if (typeof record.toFixed === 'function' && typeof record.isZero === 'function') {
    return (record.toFixed as () => string).call(value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    const safe = jsonSafe(item, depth + 1);
    if (safe !== undefined) out[key] = safe;
  }
  return out;
}

/**
 * The error to send back: the same class, code, status and message, with details made
 * JSON-safe (a bigint would make the error mapping itself throw).
 */
export function transportable(error: unknown): RunplaneError {
  const e = asRunplaneError(error);
  const init = {
    code: e.code,
    status: e.status,
    message: e.message,
    details: jsonSafe(e.details) as ErrorDetails,
    cause: error,
  };
  switch (e.kind) {
    case 'user':
      return new UserError(init);
    case 'operational':
      return new OperationalError(init);
    default:
      return new UnexpectedError(init);
  }
}
