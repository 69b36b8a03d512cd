/**
 * Rough throughput of the two bus implementations: publish→subscribe, sequential and
 * concurrent request/reply, enqueue→consume, and KV put. Run:
 *   node --import tsx packages/bus/test/throughput.bench.ts [nats-url]
 * Figures, not pass/fail.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames, connectNats, createMemoryBroker, encodeText, type Bus } from '../src/index.js';

const servers = process.argv[2] ?? 'nats://127.0.0.1:4222';
const namespace = `bench-${Math.random().toString(36).slice(2, 8)}`;
const names = busNames(namespace);
const N = 20_000;

async function rate(label: string, count: number, work: () => Promise<void>): Promise<void> {
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `  ${label.padEnd(34)} ${Math.round(count / seconds)
      .toLocaleString('en')
      .padStart(9)} /s`,
  );
}

async function run(label: string, a: Bus, b: Bus): Promise<void> {
  console.log(label);
  const payload = encodeText(JSON.stringify({ entity: 'Sales.Order', id: '123', changed: ['Total'] }));

  let received = 0;
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((r) => (allReceived = r));
  const subject = names.subjects.objectEvent('Sales.Order', 'committed');
  const sub = await b.subscribe(subject, () => {
    if (++received === N) allReceived();
  });
  await rate('publish → subscribe', N, async () => {
    for (let i = 0; i < N; i++) a.publish(subject, payload);
    await done;
  });
  await sub.unsubscribe();

  const rpc = `${namespace}.bench.rpc`;
  const responder = await b.serve(rpc, (req) => req.data);
  await rate('request/reply, sequential', 5_000, async () => {
    for (let i = 0; i < 5_000; i++) await a.request(rpc, payload);
  });
  await rate('request/reply, 100 in flight', N, async () => {
    for (let i = 0; i < N / 100; i++)
      await Promise.all(Array.from({ length: 100 }, () => a.request(rpc, payload)));
  });
  await responder.unsubscribe();

  const queue = await a.workQueue(names.workQueues.tasks(label.replace(/\W/g, '')));
  const jobs = 5_000;
  await rate('enqueue (awaited, sequential)', jobs, async () => {
    for (let i = 0; i < jobs; i++) await queue.enqueue(payload, { msgId: `job-${i}` });
  });
  let handled = 0;
  let allHandled: () => void = () => undefined;
  const drained = new Promise<void>((r) => (allHandled = r));
  await rate('consume + ack, concurrency 32', jobs, async () => {
    const consumer = await (
      await b.workQueue(queue.definition)
    ).consume(
      () => {
        if (++handled === jobs) allHandled();
      },
      { concurrency: 32 },
    );
    await drained;
    await consumer.stop();
  });

  const kv = await a.kv(names.buckets.nodes);
  await rate('KV put, sequential', 5_000, async () => {
    for (let i = 0; i < 5_000; i++) await kv.put(`node.${i % 50}`, payload);
  });
}

const broker = createMemoryBroker();
await run('in-process', broker.connect('a'), broker.connect('b'));
await broker.close();

const [a, b] = [
  await connectNats({ servers, name: 'bench-a' }),
  await connectNats({ servers, name: 'bench-b' }),
];
try {
  await run(`NATS (${servers})`, a, b);
} finally {
  await Promise.all([a.close(), b.close()]);
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  const prefix = names.streams.tasks.replace(/TASKS$/, '');
  for await (const stream of jsm.streams.names()) {
    if (stream.startsWith(prefix) || stream.startsWith(`KV_${prefix}`)) await jsm.streams.delete(stream);
  }
  await nc.close();
}
