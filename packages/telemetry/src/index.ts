/**
 * Telemetry for every Runplane process: OpenTelemetry tracing with OTLP/HTTP export and
 * W3C trace context across HTTP, gRPC and NATS; JSON logs that carry the active
 * `trace_id`/`span_id`; Prometheus metrics.
 *
 * Processes start with `node --import tsx --import @runplane/telemetry/preload main.ts`
 * so that http, gRPC and pg are instrumented, then call {@link startTelemetry}.
 */
export {
  activeTraceIds,
  extractTraceContext,
  inSpan,
  injectTraceContext,
  recordError,
  startTelemetry,
  tracer,
  type Telemetry,
  type TelemetryOptions,
  type TelemetrySettings,
} from './tracing.js';
export {
  createLogDestination,
  createLogger,
  type LogLevel,
  type Logger,
  type LoggerOptions,
} from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { enableInstrumentations } from './instrumentations.js';
export {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
