import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  context,
  createLogger,
  createMetrics,
  extractTraceContext,
  inSpan,
  injectTraceContext,
  startTelemetry,
  trace,
  tracer,
  type Telemetry,
} from './index.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(() => {
  telemetry = startTelemetry({
    service: 'test',
    nodeId: 'test-1',
    settings: {
      otelSdkDisabled: false,
      otelServiceName: undefined,
      otelExporterOtlpEndpoint: undefined,
      otelExporterOtlpTracesEndpoint: undefined,
      otelTracesExporter: 'none',
      otelTracesSampler: 'parentbased_always_on',
      otelTracesSamplerArg: undefined,
      otelResourceAttributes: 'deployment.environment=test',
    },
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
});

afterAll(async () => {
  await telemetry.shutdown();
});

function captureLines(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('telemetry', () => {
  it('writes JSON log lines carrying the trace and span id of the active span', async () => {
    const out = captureLines();
    const logger = createLogger({ service: 'test', nodeId: 'n1', level: 'info', destination: out.stream });
    let ids: { traceId: string; spanId: string } | undefined;
    await inSpan(tracer('test'), 'work', {}, async (span) => {
      ids = { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
      logger.info('inside');
      await Promise.resolve();
    });
    logger.info('outside');
    const [inside, outside] = out.lines();
    expect(inside).toMatchObject({
      level: 'info',
      service: 'test',
      node_id: 'n1',
      msg: 'inside',
      trace_id: ids?.traceId,
      span_id: ids?.spanId,
    });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('redacts secrets from log lines', () => {
    const out = captureLines();
    const logger = createLogger({ service: 'test', nodeId: 'n1', level: 'info', destination: out.stream });
    logger.info({ password: 'hunter2', sessionId: 'abc', user: 'alice' }, 'login');
    const [line] = out.lines();
    expect(JSON.stringify(line)).not.toContain('hunter2');
    expect(line).toMatchObject({ password: '[redacted]', sessionId: '[redacted]', user: 'alice' });
  });

  it('carries W3C trace context through message headers to a child span in the same trace', async () => {
    exporter.reset();
    const headers: Record<string, string> = {};
    let parentTraceId = '';
    await inSpan(tracer('test'), 'producer', {}, async (span) => {
      parentTraceId = span.spanContext().traceId;
      injectTraceContext(headers);
      await Promise.resolve();
    });
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const parent = extractTraceContext((name) => headers[name], context.active());
    await inSpan(tracer('test'), 'consumer', { parent }, async () => {
      expect(trace.getActiveSpan()?.spanContext().traceId).toBe(parentTraceId);
      await Promise.resolve();
    });
    const spans = exporter.getFinishedSpans();
    const consumer = spans.find((s) => s.name === 'consumer');
    const producer = spans.find((s) => s.name === 'producer');
    expect(consumer?.spanContext().traceId).toBe(parentTraceId);
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
    expect(consumer?.resource.attributes['service.name']).toBe('runplane-test');
    expect(consumer?.resource.attributes['deployment.environment']).toBe('test');
  });

  it('marks a span failed when its work throws, and ends it', async () => {
    exporter.reset();
    await expect(
      inSpan(tracer('test'), 'failing', {}, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(2);
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('renders Prometheus metrics and returns one metric for one name', async () => {
    const metrics = createMetrics({ service: 'test' });
    const c = metrics.counter('runplane_test_total', 'A test counter.', ['kind']);
    expect(metrics.counter('runplane_test_total', 'A test counter.', ['kind'])).toBe(c);
    c.inc({ kind: 'a' }, 2);
    const text = await metrics.render();
    expect(text).toContain('runplane_test_total{kind="a",service="test"} 2');
    expect(text).toContain('runplane_process_cpu_user_seconds_total');
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });
});
