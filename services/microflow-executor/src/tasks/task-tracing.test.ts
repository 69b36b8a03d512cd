import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { SYSTEM_CONTEXT, type RunplaneDatabase } from '@runplane/persistence';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAB_MODEL_DIR,
  createTestSite,
  eventually,
  openSiteDatabase,
  startTestExecutor,
  type TestExecutor,
  type TestSite,
} from '../testing/harness.js';

describe('tracing through the task queue', () => {
  const exporter = new InMemorySpanExporter();
  let site: TestSite;
  let exec: TestExecutor;
  let db: RunplaneDatabase;

  beforeAll(async () => {
    const contextManager = new AsyncLocalStorageContextManager();
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    site = await createTestSite('trace');
    exec = await startTestExecutor(site, LAB_MODEL_DIR);
    db = await openSiteDatabase(site, exec.model);
  });

  afterAll(async () => {
    await exec.stop();
    await db.close();
    await site.cleanup();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('makes the queued run part of the trace of the call that queued it', async () => {
    const tracer = trace.getTracer('test');
    const rootTraceId = await tracer.startActiveSpan('client call', async (span) => {
      await exec.running.api.execute(
        { context: SYSTEM_CONTEXT, details: { userName: '', language: '', sessionIdHash: '' } },
        {
          microflow: 'Lab.QueueRows',
          arguments: new Map([['Count', { kind: 'value', value: 1n }]]),
          state: { objects: [] },
          fromClient: false,
        },
      );
      span.end();
      return span.spanContext().traceId;
    });
    // The chain up from the queued run: the consumer's span, the enqueue, the queueing run, the
    // call. The consumer's span ends after the run's, so wait until the chain is complete.
    const chainOfRun = (): ReadableSpan[] => {
      const spans = exporter.getFinishedSpans();
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const chain: ReadableSpan[] = [];
      let s = spans.find((span) => span.attributes['runplane.microflow'] === 'Lab.InsertRow');
      for (; s !== undefined; s = byId.get(s.parentSpanContext?.spanId ?? '')) chain.push(s);
      return chain;
    };
    const chain = await eventually(() => {
      const found = chainOfRun();
      return Promise.resolve(found[found.length - 1]?.name === 'client call' ? found : undefined);
    });
    expect(chain[0]?.spanContext().traceId).toBe(rootTraceId);
    const kinds = chain.map((s) => s.kind);
    expect(kinds).toContain(SpanKind.CONSUMER);
    expect(kinds).toContain(SpanKind.PRODUCER);
    expect(chain.some((s) => s.attributes['runplane.microflow'] === 'Lab.QueueRows')).toBe(true);
    expect(chain[chain.length - 1]?.name).toBe('client call');
    const rows = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({ entity: 'Lab.Row', count: true }),
    );
    expect(rows.count).toBe(1);
  });
});
