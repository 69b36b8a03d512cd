import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  errors as natsErrors,
  headers as natsHeaders,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/nats-core';
import { asRunplaneError, isRunplaneError, type RunplaneError } from '@runplane/errors';
import type { BusEventHandler, MessageHeaders } from './bus.js';
import { closedError, noRespondersError, timeoutError, unavailableError } from './errors.js';
import type { MessagingSystem } from './tracing.js';
import { isReservedHeader } from './validate.js';

/** The `messaging.system` of spans of the NATS bus. */
export const NATS_SYSTEM: MessagingSystem = 'nats';

/** What the work-queue and KV parts need of a NATS connection. */
export interface NatsContext {
  readonly nc: NatsConnection;
  readonly name: string;
  readonly onEvent: BusEventHandler | undefined;
  readonly apiTimeoutMs: number;
  readonly pullExpiresMs: number;
  readonly streamReplicas: number;
  readonly js: JetStreamClient;
  jsm(): Promise<JetStreamManager>;
  /** Throws `BUS_CLOSED` unless the connection takes new work. */
  assertOpen(): void;
  accepting(): boolean;
  maxPayloadBytes(): number;
}

/** JetStream API error codes this package reacts to. */
export const ApiCode = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  JetStreamNotEnabled: 10076,
  JetStreamNotEnabledForAccount: 10039,
  WrongLastSequence: 10071,
  WrongLastSequenceUnknown: 10164,
} as const;

/** The JetStream API error code of an error, if it is one. */
export function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/** True when a request failed because nobody listens (for JetStream: no stream takes the subject). */
export function isNoResponders(err: unknown): boolean {
  if (err instanceof natsErrors.NoRespondersError) return true;
  if (err instanceof natsErrors.RequestError) return err.isNoResponders();
  return err instanceof Error && err.cause instanceof natsErrors.NoRespondersError;
}

/** What an operation was doing when it failed, for the message of the mapped error. */
export interface FailureContext {
  readonly connection: string;
  readonly subject: string;
  readonly timeoutMs?: number;
}

/** Maps an error of the NATS client to the bus's typed errors. */
export function fromNatsError(err: unknown, context: FailureContext): RunplaneError {
  if (isRunplaneError(err)) return err;
  if (err instanceof natsErrors.ClosedConnectionError || err instanceof natsErrors.DrainingConnectionError) {
    return closedError(context.connection);
  }
  if (isNoResponders(err)) return noRespondersError(context.subject, err);
  if (
    err instanceof natsErrors.TimeoutError ||
    (err instanceof natsErrors.RequestError && err.cause instanceof natsErrors.TimeoutError)
  ) {
    return timeoutError(context.subject, context.timeoutMs ?? 0, err);
  }
  if (err instanceof JetStreamApiError) {
    return unavailableError(
      `JetStream refused an operation on ${context.subject}: ${err.message}`,
      { subject: context.subject, apiCode: err.code },
      err,
    );
  }
  if (err instanceof natsErrors.ConnectionError || err instanceof natsErrors.ProtocolError) {
    return unavailableError(`NATS connection failed: ${err.message}`, { subject: context.subject }, err);
  }
  return asRunplaneError(err);
}

/** Headers to send, or undefined for none (a message without headers is smaller). */
export function toMsgHdrs(headers: MessageHeaders | undefined): MsgHdrs | undefined {
  if (headers === undefined) return undefined;
  const entries = Object.entries(headers);
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [name, value] of entries) h.set(name, value);
  return h;
}

/** All headers of a received message, the transport's included (last value of each name). */
export function allHeaders(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  for (const [name, values] of h) {
    const last = values[values.length - 1];
    if (last !== undefined) out[name] = last;
  }
  return out;
}

/** The headers a handler sees: without the transport's `Nats-*` headers. */
export function visibleHeaders(h: MsgHdrs | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(allHeaders(h)).filter(([name]) => !isReservedHeader(name)));
}
