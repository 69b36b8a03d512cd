import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  userWith,
  type TestDatabase,
} from './testing/harness.js';

const FLOWS = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Thing:
    persistable: false
    attributes: { Name: String }
microflows:
  Parent:
    parameters: { Url: String }
    returnType: String
    start: decide
    nodes:
      decide:
        kind: decision
        expression: $Url != ''
        cases: { 'true': call, 'false': done }
      call: { kind: callMicroflow, microflow: Child, parameters: { Url: $Url }, output: Name, next: done }
      done: { kind: end, value: "'done'" }
  Child:
    parameters: { Url: String }
    returnType: String
    start: make
    nodes:
      make: { kind: create, entity: Thing, members: { Name: "'thing'" }, output: T, next: fetch }
      fetch: { kind: callRest, method: GET, url: '{1}', urlParameters: [$Url], response: { as: string }, output: Body, next: done }
      done: { kind: end, value: $T/Name }
  Broken:
    start: zero
    nodes:
      zero: { kind: createVariable, type: Integer, value: '0', output: Z, next: divide }
      divide: { kind: createVariable, type: Decimal, value: '1 div $Z', output: X, next: done }
      done: { kind: end }
`;

const exporter = new InMemorySpanExporter();
const model = testModel({ 'App/flows.yaml': FLOWS });
const { engine } = testEngine(model);
let database: TestDatabase;
let server: Server;
let url: string;
let traceparent: string | undefined;

beforeAll(async () => {
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  database = await testDatabase(model, 'tracing');
  server = createServer((request, response) => {
    traceparent = request.headers.traceparent as string | undefined;
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  trace.disable();
  propagation.disable();
  context.disable();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  await database.drop();
});
beforeEach(() => {
  exporter.reset();
});

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const span = spans.find((s) => s.name === name);
  if (span === undefined) throw new TypeError(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe('tracing', () => {
  it('makes a span per microflow run with a child span per activity, and none for decisions or ends', async () => {
    await resultOf(engine, database.db, {
      microflow: 'App.Parent',
      arguments: { Url: url },
      user: userWith(['Clerk'], 'user-7'),
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(
      [
        'callMicroflow call',
        'callRest fetch',
        'create make',
        'microflow App.Child',
        'microflow App.Parent',
      ].sort(),
    );
    const parent = byName(spans, 'microflow App.Parent');
    const call = byName(spans, 'callMicroflow call');
    const child = byName(spans, 'microflow App.Child');
    const make = byName(spans, 'create make');
    expect(parent.attributes).toMatchObject({
      'runplane.microflow': 'App.Parent',
      'runplane.user_id': 'user-7',
    });
    expect(call.attributes).toMatchObject({
      'runplane.microflow': 'App.Parent',
      'runplane.microflow.node': 'call',
      'runplane.microflow.node_kind': 'callMicroflow',
    });
    expect(parentOf(call)).toBe(parent.spanContext().spanId);
    expect(parentOf(child)).toBe(call.spanContext().spanId);
    expect(parentOf(make)).toBe(child.spanContext().spanId);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('carries the trace context to the server a Call REST activity calls', async () => {
    await resultOf(engine, database.db, { microflow: 'App.Parent', arguments: { Url: url } });
    const fetch = byName(exporter.getFinishedSpans(), 'callRest fetch');
    expect(traceparent).toContain(fetch.spanContext().traceId);
    expect(traceparent).toContain(fetch.spanContext().spanId);
  });

  it('records the error on the failing activity’s span and the run’s span', async () => {
    await errorOf(engine, database.db, { microflow: 'App.Broken' });
    const spans = exporter.getFinishedSpans();
    expect(byName(spans, 'createVariable divide').status.code).toBe(SpanStatusCode.ERROR);
    expect(byName(spans, 'microflow App.Broken').status.code).toBe(SpanStatusCode.ERROR);
    expect(byName(spans, 'createVariable zero').status.code).toBe(SpanStatusCode.UNSET);
  });
});
