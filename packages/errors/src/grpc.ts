import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  ErrorStatus,
  OperationalError,
  UnexpectedError,
  UserError,
  asRunplaneError,
  deserializeError,
  type RunplaneError,
} from './errors.js';

/** gRPC status for each error category. */
export const grpcStatusOf: Readonly<Record<ErrorStatus, GrpcStatus>> = {
  [ErrorStatus.InvalidArgument]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorStatus.ValidationFailed]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorStatus.Unauthenticated]: GrpcStatus.UNAUTHENTICATED,
  [ErrorStatus.PermissionDenied]: GrpcStatus.PERMISSION_DENIED,
  [ErrorStatus.NotFound]: GrpcStatus.NOT_FOUND,
  [ErrorStatus.Conflict]: GrpcStatus.ABORTED,
  [ErrorStatus.PayloadTooLarge]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorStatus.RateLimited]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorStatus.LimitExceeded]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorStatus.Unavailable]: GrpcStatus.UNAVAILABLE,
  [ErrorStatus.Timeout]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorStatus.Internal]: GrpcStatus.INTERNAL,
};

/** The trailing-metadata key that carries the whole error as JSON. */
export const ERROR_METADATA_KEY = 'runplane-error-bin';

/**
 * Maps any thrown value to the status object a grpc-js handler passes to its callback
 * (or `call.destroy()` on streams). The full error travels in trailing metadata, so the
 * caller can rebuild it with {@link fromGrpcError}.
 */
export function toGrpcError(err: unknown): Partial<StatusObject> {
  const e = asRunplaneError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_METADATA_KEY, Buffer.from(JSON.stringify(e.toJSON()), 'utf8'));
  return { code: grpcStatusOf[e.status], details: e.message, metadata };
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/**
 * Rebuilds the error that a gRPC call failed with: the original Runplane error when
 * the server sent one, otherwise an error derived from the gRPC status (an
 * unreachable service becomes `DEPENDENCY_UNAVAILABLE`).
 *
 * @param service Name of the called service, for the message of transport failures.
 */
export function fromGrpcError(err: unknown, service = 'a service'): RunplaneError {
  if (!isServiceError(err)) return asRunplaneError(err);
  const raw = err.metadata?.get(ERROR_METADATA_KEY)[0];
  if (raw !== undefined) {
    try {
      const parsed = deserializeError(JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw));
      if (parsed) return parsed;
    } catch {
      // Fall through to the status mapping: a malformed payload is treated as absent.
    }
  }
  const details = { service, grpcCode: err.code, grpcDetails: err.details };
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
      return new OperationalError({
        code: 'DEPENDENCY_UNAVAILABLE',
        message: `${service} is unavailable`,
        details,
        cause: err,
      });
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new OperationalError({
        code: 'DEPENDENCY_TIMEOUT',
        status: ErrorStatus.Timeout,
        message: `${service} did not answer in time`,
        details,
        cause: err,
      });
    case GrpcStatus.CANCELLED:
      return new OperationalError({
        code: 'CANCELLED',
        message: 'The call was cancelled',
        details,
        cause: err,
      });
    case GrpcStatus.UNIMPLEMENTED:
      return new UnexpectedError({
        code: 'UNIMPLEMENTED',
        message: `${service} does not implement the method`,
        details,
        cause: err,
      });
    case GrpcStatus.INVALID_ARGUMENT:
      return new UserError({ code: 'INVALID_ARGUMENT', message: err.details, details, cause: err });
    case GrpcStatus.NOT_FOUND:
      return new UserError({
        code: 'NOT_FOUND',
        status: ErrorStatus.NotFound,
        message: err.details,
        details,
        cause: err,
      });
    default:
      return new UnexpectedError({ code: 'INTERNAL', message: err.details, details, cause: err });
  }
}
