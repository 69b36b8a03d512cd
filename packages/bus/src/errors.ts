import { ErrorStatus, OperationalError, UserError, type ErrorDetails } from '@runplane/errors';

/** Stable codes of the errors the bus throws. Both implementations throw the same code for the same case. */
export const BusErrorCode = {
  /** A request got no reply within its timeout. */
  Timeout: 'BUS_TIMEOUT',
  /** A request was sent to a subject nobody listens on. */
  NoResponders: 'BUS_NO_RESPONDERS',
  /** The server cannot be reached, or refused an operation for a reason of its own. */
  Unavailable: 'BUS_UNAVAILABLE',
  /** The connection was closed by {@link Bus.close}. */
  Closed: 'BUS_CLOSED',
  /** A KV create found the key present, or an update/delete found another revision. */
  KvConflict: 'KV_CONFLICT',
  /** A stream, consumer or bucket exists with a configuration that cannot be reconciled. */
  ResourceConflict: 'BUS_RESOURCE_CONFLICT',
  InvalidSubject: 'BUS_INVALID_SUBJECT',
  InvalidKey: 'BUS_INVALID_KEY',
  /** A stream, consumer, bucket, namespace or subject token name is not allowed. */
  InvalidName: 'BUS_INVALID_NAME',
  InvalidHeader: 'BUS_INVALID_HEADER',
  InvalidOption: 'BUS_INVALID_OPTION',
  /** A payload is not what its decoder expects (e.g. not JSON). */
  InvalidPayload: 'BUS_INVALID_PAYLOAD',
  /** A message is larger than the server's maximum payload. */
  PayloadTooLarge: 'BUS_PAYLOAD_TOO_LARGE',
} as const;
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** True when `err` is a bus error with the given code. */
export function isBusError(err: unknown, code: BusErrorCode): boolean {
  return (err instanceof UserError || err instanceof OperationalError) && err.code === code;
}

export function invalidArgument(code: BusErrorCode, message: string, details: ErrorDetails = {}): UserError {
  return new UserError({ code, message, details });
}

export function timeoutError(subject: string, timeoutMs: number, cause?: unknown): OperationalError {
  return new OperationalError({
    code: BusErrorCode.Timeout,
    status: ErrorStatus.Timeout,
    message: `No reply on ${subject} within ${timeoutMs} ms`,
    details: { subject, timeoutMs },
    cause,
  });
}

export function noRespondersError(subject: string, cause?: unknown): OperationalError {
  return new OperationalError({
    code: BusErrorCode.NoResponders,
    message: `Nobody is listening on ${subject}`,
    details: { subject },
    cause,
  });
}

export function closedError(connection: string): OperationalError {
  return new OperationalError({
    code: BusErrorCode.Closed,
    message: `The bus connection ${connection} is closed`,
    details: { connection },
  });
}

export function unavailableError(
  message: string,
  details: ErrorDetails = {},
  cause?: unknown,
): OperationalError {
  return new OperationalError({ code: BusErrorCode.Unavailable, message, details, cause });
}

export function kvConflictError(
  bucket: string,
  key: string,
  expectedRevision: number,
  cause?: unknown,
): OperationalError {
  const message =
    expectedRevision === 0
      ? `Key ${key} already exists in bucket ${bucket}`
      : `Key ${key} in bucket ${bucket} is not at revision ${expectedRevision}`;
  return new OperationalError({
    code: BusErrorCode.KvConflict,
    status: ErrorStatus.Conflict,
    message,
    details: { bucket, key, expectedRevision },
    cause,
  });
}

export function resourceConflictError(
  message: string,
  details: ErrorDetails,
  cause?: unknown,
): OperationalError {
  return new OperationalError({
    code: BusErrorCode.ResourceConflict,
    status: ErrorStatus.Conflict,
    message,
    details,
    cause,
  });
}

export function payloadTooLargeError(subject: string, sizeBytes: number, maxPayloadBytes: number): UserError {
  return new UserError({
    code: BusErrorCode.PayloadTooLarge,
    status: ErrorStatus.PayloadTooLarge,
    message: `A message of ${sizeBytes} bytes on ${subject} exceeds the maximum payload of ${maxPayloadBytes} bytes`,
    details: { subject, sizeBytes, maxPayloadBytes },
  });
}
