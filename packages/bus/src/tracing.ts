import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import type { MessageHeaders } from './bus.js';

// Spans follow the OpenTelemetry messaging conventions as most instrumentations emit
// them (v1.24): "<destination> <operation>", messaging.system/destination.name/operation.
// With no SDK registered the API hands out non-recording spans and a no-op propagator,
// so this costs next to nothing.

const tracer = trace.getTracer('@runplane/bus');

/** The `messaging.system` of each implementation. */
export type MessagingSystem = 'nats' | 'in-process';

/** A send in progress: the headers to send (with the trace context) and the span to end. */
export interface SendTrace {
  readonly headers: Record<string, string>;
  end(error?: unknown): void;
}

function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
}

/**
 * Starts the PRODUCER (publish, enqueue) or CLIENT (request) span of a send and injects
 * its W3C trace context into a copy of the headers.
 */
export function startSend(
  system: MessagingSystem,
  operation: 'publish' | 'request',
  subject: string,
  headers: MessageHeaders | undefined,
  attributes: Attributes = {},
): SendTrace {
  const span = tracer.startSpan(`${subject} ${operation}`, {
    kind: operation === 'request' ? SpanKind.CLIENT : SpanKind.PRODUCER,
    attributes: {
      'messaging.system': system,
      'messaging.destination.name': subject,
      'messaging.operation': 'publish',
      ...attributes,
    },
  });
  const carrier: Record<string, string> = { ...headers };
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return {
    headers: carrier,
    end(error?: unknown) {
      if (error !== undefined) recordFailure(span, error);
      span.end();
    },
  };
}

/**
 * Runs a handler inside the trace context carried by a message, in a CONSUMER (subscribe,
 * consume) or SERVER (serve) span named `<subject> process`.
 */
export async function runHandler<T>(
  system: MessagingSystem,
  kind: 'consumer' | 'server',
  subject: string,
  headers: MessageHeaders,
  attributes: Attributes,
  fn: () => T | Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return tracer.startActiveSpan(
    `${subject} process`,
    {
      kind: kind === 'server' ? SpanKind.SERVER : SpanKind.CONSUMER,
      attributes: {
        'messaging.system': system,
        'messaging.destination.name': subject,
        'messaging.operation': 'process',
        ...attributes,
      },
    },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
