/**
 * The error taxonomy of Runplane: {@link UserError}, {@link OperationalError} and
 * {@link UnexpectedError}, each with a stable `code`, and one mapping per transport —
 * HTTP (`{ code, message, details }`), gRPC (status plus the error in trailing
 * metadata) and NATS (service error headers).
 */
export {
  ErrorKind,
  ErrorStatus,
  OperationalError,
  RunplaneError,
  UnexpectedError,
  UserError,
  asRunplaneError,
  deserializeError,
  isRunplaneError,
  type ErrorDetails,
  type ErrorInit,
  type SerializedError,
} from './errors.js';
export { httpStatusOf, toHttpError, type HttpError, type HttpErrorBody } from './http.js';
export { ERROR_METADATA_KEY, fromGrpcError, grpcStatusOf, toGrpcError } from './grpc.js';
export { NatsErrorHeader, fromNatsErrorHeaders, toNatsErrorHeaders } from './nats.js';
