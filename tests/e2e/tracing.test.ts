/**
 * One trace across processes: a browser's request to the gateway (HTTP) leads to a gRPC call
 * to one executor, whose microflow queues a task that travels through NATS JetStream to another
 * executor, which runs it and calls an outside HTTP service. Every process exports its spans
 * over OTLP/HTTP to a receiver this test starts, as they would to Jaeger.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAddresses, clusterEnv, testNamespace, type ClusterAddresses } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/infra.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp.js';
import { freePort } from '../support/ports.js';
import { startService, waitForServing, type ServiceProcess } from '../support/processes.js';

/** OTLP span kinds. */
const Kind = { Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const basic = (user: string): string => `Basic ${Buffer.from(`${user}:Password1!`).toString('base64')}`;

describe('tracing across processes', () => {
  const ns = testNamespace('trace');
  let db: TestDatabase;
  let receiver: OtlpReceiver;
  let addresses: ClusterAddresses;
  let mail: Server;
  const mailed: { headers: IncomingHttpHeaders; body: string }[] = [];
  const processes: ServiceProcess[] = [];
  let executorB = '';

  beforeAll(async () => {
    db = await createTestDatabase('tracing_e2e');
    receiver = await startOtlpReceiver();
    addresses = await clusterAddresses();
    mail = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        mailed.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => mail.listen(0, '127.0.0.1', resolve));
    const mailAddress = mail.address();
    const mailPort = typeof mailAddress === 'object' && mailAddress !== null ? mailAddress.port : 0;
    const env = clusterEnv(addresses, {
      RUNPLANE_NATS_NAMESPACE: ns.namespace,
      RUNPLANE_DATABASE_URL: db.url,
      RUNPLANE_MODEL_DIR: 'examples/orders',
      RUNPLANE_DEMO_USERS: 'true',
      RUNPLANE_LOG_LEVEL: 'warn',
      RUNPLANE_CONSTANTS: JSON.stringify({ 'Sales.MailServiceUrl': `http://127.0.0.1:${mailPort}/messages` }),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    });
    executorB = `127.0.0.1:${await freePort()}`;
    // Executor A serves requests and runs no tasks; executor B only runs the queued ones.
    processes.push(
      startService('session', env),
      startService('microflow-executor', { ...env, RUNPLANE_TASK_QUEUES_ENABLED: 'false' }),
      startService('microflow-executor', { ...env, RUNPLANE_EXECUTOR_GRPC_ADDRESS: executorB }),
    );
    await Promise.all([
      waitForServing(addresses.grpc.session),
      waitForServing(addresses.grpc['microflow-executor']),
      waitForServing(executorB),
    ]);
    processes.push(startService('gateway', env));
    await waitForServing(addresses.grpc.gateway);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await new Promise<void>((resolve) => {
      mail.close(() => {
        resolve();
      });
    });
    await receiver.close();
    await ns.cleanup();
    await db.drop();
  });

  it('follows one request from HTTP through gRPC and a NATS work queue into three processes, under one trace id', async () => {
    const base = addresses.httpUrl;
    // Products, as the sales user.
    const product = (await (
      await fetch(`${base}/rest/orders/v1/products`, {
        method: 'POST',
        headers: { authorization: basic('sam'), 'content-type': 'application/json' },
        body: JSON.stringify({ Code: 'T-1', Name: 'Traced', Price: '5.00', Stock: 10 }),
      })
    ).json()) as { id: string };

    // alice: log in, build an order with one line in her state, place it.
    let cookie = '';
    let csrf = '';
    let state: unknown = { objects: [] };
    const call = async (
      action: string,
      params: Record<string, unknown>,
      withState = true,
    ): Promise<Answer> => {
      const res = await fetch(`${base}/xas/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(cookie === '' ? {} : { cookie: `XASSESSIONID=${cookie}` }),
          ...(csrf === '' ? {} : { 'x-csrf-token': csrf }),
        },
        body: JSON.stringify({ action, params, ...(withState ? { state } : {}) }),
      });
      const set = res.headers.getSetCookie()[0];
      if (set !== undefined) cookie = /^XASSESSIONID=([^;]*)/.exec(set)?.[1] ?? '';
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status === 200 && typeof body.state === 'object' && body.state !== null) state = body.state;
      return { status: res.status, body };
    };
    const login = await call('login', { username: 'alice', password: 'Password1!' }, false);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    csrf = String(login.body.csrfToken);
    const aliceId = ((await call('get_session_data', {}, false)).body.user as { id: string }).id;
    const orderId = ((await call('instantiate', { entity: 'Sales.Order' })).body.object as { id: string }).id;
    const lineId = ((await call('instantiate', { entity: 'Sales.OrderLine' })).body.object as { id: string })
      .id;
    const changed = await call('change', {
      objects: [
        { id: orderId, members: { 'Sales.Order_Customer': aliceId } },
        {
          id: lineId,
          members: { Quantity: 2, 'Sales.OrderLine_Product': product.id, 'Sales.OrderLine_Order': orderId },
        },
      ],
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const placed = await call('executeaction', {
      microflow: 'Sales.PlaceOrder',
      parameters: { Order: orderId },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body.result).toBe(true);

    // The queued confirmation ran on executor B and reached the mail service.
    const deadline = Date.now() + 20_000;
    while (mailed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mailed).toHaveLength(1);
    const mailTrace = /^00-([0-9a-f]{32})-/.exec(String(mailed[0]?.headers.traceparent))?.[1];
    expect(mailTrace).toMatch(/^[0-9a-f]{32}$/);

    // Every process's spans of that trace reach the receiver.
    const inTrace = (spans: readonly ReceivedSpan[]): ReceivedSpan[] =>
      spans.filter((s) => s.traceId === mailTrace);
    const executors = (spans: readonly ReceivedSpan[]): Set<string> =>
      new Set(
        inTrace(spans)
          .filter((s) => s.service === 'runplane-microflow-executor')
          .map((s) => s.instance),
      );
    await receiver.waitFor(
      (spans) =>
        executors(spans).size === 2 &&
        inTrace(spans).some((s) => s.service === 'runplane-gateway') &&
        inTrace(spans).some((s) => s.kind === Kind.Consumer),
    );
    const trace = inTrace(receiver.spans);
    const processesInTrace = new Set(trace.map((s) => s.instance));
    expect(processesInTrace.size).toBeGreaterThanOrEqual(3);

    const gateway = trace.filter((s) => s.service === 'runplane-gateway');
    expect(gateway.some((s) => s.kind === Kind.Server && /POST/.test(s.name))).toBe(true);
    expect(gateway.some((s) => s.kind === Kind.Client && s.name.includes('ExecutorService/Execute'))).toBe(
      true,
    );
    const [a, b] = [...executors(receiver.spans)];
    const byInstance = (instance: string | undefined): ReceivedSpan[] =>
      trace.filter((s) => s.instance === instance);
    // The executor that served the call: the gRPC server span and the microflow's.
    const served = [a, b].find((i) =>
      byInstance(i).some((s) => s.kind === Kind.Server && s.name.includes('Execute')),
    );
    const ran = [a, b].find((i) => i !== served);
    expect(byInstance(served).some((s) => s.name.includes('Sales.PlaceOrder'))).toBe(true);
    expect(byInstance(served).some((s) => s.kind === Kind.Producer)).toBe(true);
    // The executor that ran the task: the consumer span and the queued microflow, a child of the producer.
    const consumer = byInstance(ran).find((s) => s.kind === Kind.Consumer);
    expect(consumer).toBeDefined();
    expect(byInstance(ran).some((s) => s.name.includes('Sales.SendConfirmation'))).toBe(true);
    const ids = new Set(trace.map((s) => s.spanId));
    expect(ids.has(consumer?.parentSpanId ?? '')).toBe(true);
    // Database work shows below the microflows, in both executors.
    expect(
      byInstance(served).some(
        (s) => s.kind === Kind.Client && /^(pg|SELECT|INSERT|UPDATE|postgres)/i.test(s.name),
      ),
    ).toBe(true);
  });
});
