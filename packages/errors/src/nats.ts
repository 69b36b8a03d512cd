import { asRunplaneError, deserializeError, type RunplaneError } from './errors.js';
import { httpStatusOf } from './http.js';

/** Header names of the NATS services protocol, plus our own carrying the full error. */
export const NatsErrorHeader = {
  Message: 'Nats-Service-Error',
  Code: 'Nats-Service-Error-Code',
  Error: 'Runplane-Error',
} as const;

/**
 * Maps any thrown value to the headers of a NATS service error reply (the convention
 * of nats.js services: a message and an HTTP-like code), plus the full error as JSON.
 */
export function toNatsErrorHeaders(err: unknown): Record<string, string> {
  const e = asRunplaneError(err);
  return {
    [NatsErrorHeader.Message]: e.message,
    [NatsErrorHeader.Code]: String(httpStatusOf[e.status]),
    [NatsErrorHeader.Error]: JSON.stringify(e.toJSON()),
  };
}

/** Rebuilds the error of a NATS service error reply, or undefined when the reply is no error. */
export function fromNatsErrorHeaders(get: (name: string) => string | undefined): RunplaneError | undefined {
  const full = get(NatsErrorHeader.Error);
  if (full !== undefined && full !== '') {
    try {
      const parsed = deserializeError(JSON.parse(full));
      if (parsed) return parsed;
    } catch {
      // A malformed payload: fall back to the standard headers.
    }
  }
  const message = get(NatsErrorHeader.Message);
  if (message === undefined || message === '') return undefined;
  return deserializeError({
    kind: 'unexpected',
    code: 'REMOTE_ERROR',
    message,
    status: 'internal',
    details: {},
  });
}
