import { ErrorKind, ErrorStatus, asRunplaneError, type ErrorDetails } from './errors.js';

/** HTTP status for each error category. */
export const httpStatusOf: Readonly<Record<ErrorStatus, number>> = {
  [ErrorStatus.InvalidArgument]: 400,
  [ErrorStatus.ValidationFailed]: 422,
  [ErrorStatus.Unauthenticated]: 401,
  [ErrorStatus.PermissionDenied]: 403,
  [ErrorStatus.NotFound]: 404,
  [ErrorStatus.Conflict]: 409,
  [ErrorStatus.PayloadTooLarge]: 413,
  [ErrorStatus.RateLimited]: 429,
  [ErrorStatus.LimitExceeded]: 422,
  [ErrorStatus.Unavailable]: 503,
  [ErrorStatus.Timeout]: 504,
  [ErrorStatus.Internal]: 500,
};

/** The body of every error response: `{ code, message, details }`. */
export interface HttpErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** An error as an HTTP response. */
export interface HttpError {
  readonly statusCode: number;
  readonly body: HttpErrorBody;
}

const UNEXPECTED_MESSAGE = 'An unexpected error occurred. The request id identifies it in the logs.';

/**
 * Maps any thrown value to an HTTP status and `{ code, message, details }`.
 * Unexpected errors keep their message and stack out of the response.
 */
export function toHttpError(err: unknown): HttpError {
  const e = asRunplaneError(err);
  const statusCode = httpStatusOf[e.status];
  if (e.kind === ErrorKind.Unexpected) {
    return { statusCode, body: { code: 'INTERNAL', message: UNEXPECTED_MESSAGE, details: {} } };
  }
  return { statusCode, body: { code: e.code, message: e.message, details: e.details } };
}
