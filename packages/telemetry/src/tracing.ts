import {
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** The OTEL_* settings as the config package validated them. */
export interface TelemetrySettings {
  readonly otelSdkDisabled: boolean;
  readonly otelServiceName: string | undefined;
  readonly otelExporterOtlpEndpoint: string | undefined;
  readonly otelExporterOtlpTracesEndpoint: string | undefined;
  readonly otelTracesExporter: 'otlp' | 'console' | 'none' | undefined;
  readonly otelTracesSampler: string;
  readonly otelTracesSamplerArg: string | undefined;
  readonly otelResourceAttributes: string | undefined;
}

/** What {@link startTelemetry} needs. */
export interface TelemetryOptions {
  /** The Runplane service, e.g. `session`; spans carry `runplane-<service>` unless OTEL_SERVICE_NAME is set. */
  readonly service: string;
  /** Unique id of this process (`service.instance.id`). */
  readonly nodeId: string;
  readonly settings: TelemetrySettings;
  readonly version?: string;
  /** Extra span processors (tests use an in-memory exporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** A started telemetry pipeline. */
export interface Telemetry {
  /** Where spans go: `otlp <url>`, `console` or `none`. */
  readonly exportTarget: string;
  /** Flushes pending spans and stops. */
  shutdown(): Promise<void>;
}

function sampler(settings: TelemetrySettings): Sampler {
  const ratio = Number(settings.otelTracesSamplerArg ?? '1');
  const r = Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1;
  switch (settings.otelTracesSampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(r);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(r) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function parseResourceAttributes(raw: string | undefined): Attributes {
  const out: Attributes = {};
  for (const pair of (raw ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

function exporterFor(settings: TelemetrySettings): { exporter: SpanExporter | undefined; target: string } {
  const tracesUrl =
    settings.otelExporterOtlpTracesEndpoint ??
    (settings.otelExporterOtlpEndpoint === undefined
      ? undefined
      : `${settings.otelExporterOtlpEndpoint.replace(/\/+$/, '')}/v1/traces`);
  const kind = settings.otelTracesExporter ?? (tracesUrl === undefined ? 'none' : 'otlp');
  if (kind === 'console') return { exporter: new ConsoleSpanExporter(), target: 'console' };
  if (kind === 'none') return { exporter: undefined, target: 'none' };
  const url = tracesUrl ?? 'http://localhost:4318/v1/traces';
  return { exporter: new OTLPTraceExporter({ url }), target: `otlp ${url}` };
}

/**
 * Starts the OpenTelemetry NodeSDK: W3C trace context and baggage propagation,
 * AsyncLocalStorage context, the configured sampler, and OTLP/HTTP export when an
 * endpoint is configured. The HTTP, gRPC and pg instrumentations are enabled by
 * `@runplane/telemetry/preload`; this routes their spans.
 *
 * With OTEL_SDK_DISABLED=true nothing is started and spans are no-ops.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const { settings } = options;
  if (settings.otelSdkDisabled) {
    return { exportTarget: 'disabled', shutdown: () => Promise.resolve() };
  }
  const { exporter, target } = exporterFor(settings);
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (exporter) {
    processors.push(
      target === 'console'
        ? new SimpleSpanProcessor(exporter)
        : new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500, maxExportBatchSize: 512 }),
    );
  }
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      ...parseResourceAttributes(settings.otelResourceAttributes),
      [ATTR_SERVICE_NAME]: settings.otelServiceName ?? `runplane-${options.service}`,
      [ATTR_SERVICE_VERSION]: options.version ?? '0.1.0',
      'service.instance.id': options.nodeId,
      'service.namespace': 'runplane',
    }),
    autoDetectResources: false,
    sampler: sampler(settings),
    spanProcessors: processors,
    instrumentations: [],
  });
  sdk.start();
  return {
    exportTarget: target,
    async shutdown() {
      await sdk.shutdown();
    },
  };
}

/** The tracer of a Runplane component, e.g. `runplane.microflows`. */
export function tracer(name: string): Tracer {
  return trace.getTracer(name);
}

/**
 * Runs `fn` in a new active span; records an exception and an error status when `fn`
 * throws, and always ends the span.
 */
export async function inSpan<T>(
  t: Tracer,
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return t.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        recordError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks a span failed with the error. */
export function recordError(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Writes the active trace context (W3C `traceparent`, `tracestate`, `baggage`) into headers. */
export function injectTraceContext(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers);
}

/** Reads a trace context from headers (any case-insensitive getter). */
export function extractTraceContext(
  get: (name: string) => string | undefined,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, undefined, {
    get: (_carrier, key) => get(key),
    keys: () => [],
  });
}

/** The ids of the active span, for logs; undefined outside a span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const sc = span.spanContext();
  if (!trace.isSpanContextValid(sc)) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId };
}
