/**
 * The errors of the microflow engine. Every error that leaves a run is a
 * {@link MicroflowError}: it carries the microflow call stack where it happened and, when
 * something else failed (a validation rule, the database, an expression), that error as
 * `cause` with its code in `details.causeCode`.
 */
import {
  ErrorKind,
  ErrorStatus,
  RunplaneError,
  asRunplaneError,
  type ErrorDetails,
  type ErrorInit,
} from '@runplane/errors';

/** The stable codes of the engine's own errors. */
export const MicroflowErrorCode = {
  /** An error the microflow did not handle; `details.causeCode` says what failed. */
  Failed: 'MICROFLOW_FAILED',
  /** The model has no microflow of that name. */
  NotFound: 'MICROFLOW_NOT_FOUND',
  /** A client called a microflow none of the user's roles may call. */
  Forbidden: 'MICROFLOW_FORBIDDEN',
  /** A loop ran more iterations, a run took longer or calls nested deeper than the limits allow. */
  LimitExceeded: 'MICROFLOW_LIMIT_EXCEEDED',
  /** An argument is missing, unknown, or of the wrong type. */
  ArgumentInvalid: 'MICROFLOW_ARGUMENT_INVALID',
  /** A custom action the model declares has no code registered. */
  ActionNotRegistered: 'ACTION_NOT_REGISTERED',
  /** A custom action returned a value that does not fit its declared return type. */
  ActionResultInvalid: 'ACTION_RESULT_INVALID',
  /** Action files that do not match the model's signatures (found by `loadActions`). */
  ActionsInvalid: 'ACTIONS_INVALID',
  /** A before event handler returned false and raises an error when it does. */
  EventHandlerRefused: 'EVENT_HANDLER_REFUSED',
  /** A flow reached a point the model check should have ruled out (e.g. a decision value without a case). */
  FlowInvalid: 'MICROFLOW_FLOW_INVALID',
  /** An activity needed an object but its variable was empty. */
  ObjectEmpty: 'MICROFLOW_OBJECT_EMPTY',
  /** A Call REST activity got a response with a status outside 2xx. */
  RestStatus: 'REST_STATUS',
  /** A Call REST activity got no response in time. */
  RestTimeout: 'REST_TIMEOUT',
  /** A Call REST activity could not reach the server. */
  RestUnreachable: 'REST_UNREACHABLE',
  /** A Call REST response could not be mapped to objects. */
  RestResponseInvalid: 'REST_RESPONSE_INVALID',
  /** A call on a task queue, but the engine was given no task scheduler. */
  TaskQueueUnavailable: 'TASK_QUEUE_UNAVAILABLE',
  /** An entity event fired on an event runner that was never bound to its unit of work. */
  EventRunnerUnbound: 'EVENT_RUNNER_UNBOUND',
} as const;
/** The stable codes of the engine's own errors. */
export type MicroflowErrorCode = (typeof MicroflowErrorCode)[keyof typeof MicroflowErrorCode];

/** One level of the microflow call stack: a microflow and the node it was at. */
export interface CallStackEntry {
  /** Qualified name of the microflow. */
  readonly microflow: string;
  /** The node that was running (the call node, for every level but the innermost). */
  readonly node: string;
}

/** What every {@link MicroflowError} carries. */
export interface MicroflowErrorDetails extends ErrorDetails {
  /** The microflow call stack, outermost first. Empty for errors raised before a run starts. */
  readonly callStack: readonly CallStackEntry[];
  /** The innermost microflow. */
  readonly microflow?: string;
  /** The node of the innermost microflow that failed. */
  readonly node?: string;
  /** The code of the error that made the microflow fail (for `MICROFLOW_FAILED`). */
  readonly causeCode?: string;
  /** The details of that error (e.g. the validation problems of `VALIDATION_FAILED`). */
  readonly causeDetails?: ErrorDetails;
}

interface MicroflowErrorInit extends Omit<ErrorInit, 'details'> {
  readonly kind?: ErrorKind;
  readonly details?: Partial<MicroflowErrorDetails>;
}

/**
 * An error of a microflow run. Its `kind` and `status` follow the error that caused it (a
 * validation failure stays `validation_failed`, a lost database stays `unavailable`);
 * branch on `code` and `details.causeCode`, never on the message.
 */
export class MicroflowError extends RunplaneError {
  readonly kind: ErrorKind;
  declare readonly details: MicroflowErrorDetails;

  constructor(init: MicroflowErrorInit) {
    const callStack = init.details?.callStack ?? [];
    const innermost = callStack[callStack.length - 1];
    super(
      {
        code: init.code,
        message: init.message,
        status: init.status,
        cause: init.cause,
        details: {
          ...init.details,
          callStack,
          ...(innermost === undefined ? {} : { microflow: innermost.microflow, node: innermost.node }),
        },
      },
      ErrorStatus.InvalidArgument,
    );
    this.kind = init.kind ?? ErrorKind.User;
  }

  /** The message of the error that started it all: what `$latestError/Message` shows. */
  get rootMessage(): string {
    return this.code === MicroflowErrorCode.Failed && this.cause instanceof Error
      ? this.cause.message
      : this.message;
  }

  /** The same error with another call stack (used when an error crosses a frame it was not made in). */
  withCallStack(callStack: readonly CallStackEntry[]): MicroflowError {
    return new MicroflowError({
      code: this.code,
      message: this.message,
      status: this.status,
      kind: this.kind,
      cause: this.cause,
      details: { ...this.details, callStack },
    });
  }
}

/**
 * True for errors the engine raised because a limit was hit, also when another layer wrapped
 * one (an event handler's limit error surfacing through a commit): no error handler may catch them.
 */
export function isLimitError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof MicroflowError && e.code === MicroflowErrorCode.LimitExceeded) return true;
  }
  return false;
}

/**
 * Wraps an error that escaped an activity into a {@link MicroflowError} with the call stack,
 * keeping the engine's own errors (limit, argument, ...) and their codes as they are.
 */
export function toMicroflowError(error: unknown, callStack: readonly CallStackEntry[]): MicroflowError {
  if (error instanceof MicroflowError) {
    return error.details.callStack.length === 0 ? error.withCallStack(callStack) : error;
  }
  const cause = asRunplaneError(error);
  const where = callStack[callStack.length - 1];
  const place = where === undefined ? '' : ` (${where.microflow}, node '${where.node}')`;
  return new MicroflowError({
    code: MicroflowErrorCode.Failed,
    message: `${cause.message}${place}`,
    status: cause.status,
    kind: cause.kind,
    cause: error,
    details: { callStack, causeCode: cause.code, causeDetails: cause.details },
  });
}

/** A limit error naming the microflow and node. */
export function limitError(
  message: string,
  callStack: readonly CallStackEntry[],
  limit: string,
): MicroflowError {
  return new MicroflowError({
    code: MicroflowErrorCode.LimitExceeded,
    message,
    status: ErrorStatus.LimitExceeded,
    kind: ErrorKind.User,
    details: { callStack, limit },
  });
}

/** An engine error raised inside an activity (its call stack is added where it is caught). */
export function engineError(
  code: MicroflowErrorCode,
  message: string,
  options: { status?: ErrorStatus; kind?: ErrorKind; details?: ErrorDetails; cause?: unknown } = {},
): MicroflowError {
  return new MicroflowError({
    code,
    message,
    status: options.status ?? ErrorStatus.InvalidArgument,
    kind: options.kind ?? ErrorKind.User,
    cause: options.cause,
    details: { callStack: [], ...options.details },
  });
}
