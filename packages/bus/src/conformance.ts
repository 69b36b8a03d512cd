import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ErrorStatus, UserError } from '@runplane/errors';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  Bus,
  BusEvent,
  BusEventHandler,
  BusMessage,
  Job,
  KvWatchEvent,
  WorkQueueDefinition,
} from './bus.js';
import { BusEventKind, BusState, KvOperation } from './bus.js';
import { decodeJson, decodeText, encodeJson, encodeText } from './codec.js';
import { BusErrorCode } from './errors.js';
import { busNames } from './names.js';

/** What the conformance suite needs of an implementation. */
export interface BusConformanceTarget {
  /** Opens a new connection; each is a separate client, as separate processes would be. */
  connect(name: string, options: { readonly onEvent?: BusEventHandler }): Promise<Bus>;
  /** Namespace of every name the suite uses; unique per run when a server is shared. */
  readonly namespace: string;
  /** Removes what the suite created (streams, buckets). Runs after all tests. */
  cleanup?(): Promise<void>;
}

/** A promise with its resolver, for events a test waits on. */
interface Signal<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function signal<T = void>(): Signal<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Polls until `check` passes (returns without throwing), for states that no event announces. */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Resolves when `items` holds at least `count` entries. */
function collect<T>(): { readonly items: T[]; push(item: T): void; atLeast(count: number): Promise<T[]> } {
  const items: T[] = [];
  const waiters: { count: number; done: Signal<T[]> }[] = [];
  return {
    items,
    push(item) {
      items.push(item);
      for (const w of waiters) if (items.length >= w.count) w.done.resolve(items);
    },
    atLeast(count) {
      if (items.length >= count) return Promise.resolve(items);
      const done = signal<T[]>();
      waiters.push({ count, done });
      return done.promise;
    },
  };
}

async function rejection(work: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const text = encodeText;

/**
 * The one conformance suite of the bus: every behaviour Runplane relies on, asserted
 * against an implementation. Both the NATS bus and the in-process bus run it, so the
 * in-process one cannot drift into a toy. Timings are lower bounds only (a redelivery
 * must not come before its ack wait), never upper bounds.
 */
export function describeBusConformance(implementation: string, target: BusConformanceTarget): void {
  const names = busNames(target.namespace);
  const ns = names.namespace;
  const NS = names.streams.tasks.replace(/_TASKS$/, '');
  const open: Bus[] = [];
  let counter = 0;
  const unique = (prefix: string): string => `${prefix}${++counter}`;
  const exporter = new InMemorySpanExporter();

  async function connect(name: string, onEvent?: BusEventHandler): Promise<Bus> {
    const bus = await target.connect(`${name}-${++counter}`, { onEvent });
    open.push(bus);
    return bus;
  }

  function taskQueue(): WorkQueueDefinition {
    return names.workQueues.tasks(unique('Conformance.Queue'));
  }

  describe(`the ${implementation} bus`, () => {
    beforeAll(() => {
      const contextManager = new AsyncLocalStorageContextManager();
      contextManager.enable();
      context.setGlobalContextManager(contextManager);
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(
        new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
      );
    });

    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close({ gracePeriodMs: 0 })));
      exporter.reset();
    });

    afterAll(async () => {
      trace.disable();
      propagation.disable();
      context.disable();
      await target.cleanup?.();
    });

    describe('publish and subscribe', () => {
      it('delivers a message with its payload and headers to a subscriber on another connection', async () => {
        const [a, b] = [await connect('a'), await connect('b')];
        const subject = names.subjects.sessionEvent('logout');
        const got = collect<BusMessage>();
        await b.subscribe(subject, (m) => {
          got.push(m);
        });
        a.publish(subject, encodeJson({ sessionId: 's1' }), {
          headers: { 'X-Request-Id': 'r-1', tenant: 't' },
        });
        const [message] = await got.atLeast(1);
        expect(message?.subject).toBe(subject);
        expect(decodeJson(message?.data ?? new Uint8Array())).toEqual({ sessionId: 's1' });
        expect(message?.headers).toMatchObject({ 'X-Request-Id': 'r-1', tenant: 't' });
      });

      it('handles the messages of one subscription one at a time, in publish order', async () => {
        const [a, b] = [await connect('a'), await connect('b')];
        const subject = names.subjects.objectEvent('Sales.Order', 'committed');
        const got = collect<number>();
        let running = 0;
        let overlapped = false;
        await b.subscribe(subject, async (m) => {
          running++;
          overlapped ||= running > 1;
          await new Promise((r) => setImmediate(r));
          got.push(Number(decodeText(m.data)));
          running--;
        });
        for (let i = 0; i < 50; i++) a.publish(subject, text(String(i)));
        expect(await got.atLeast(50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect(overlapped).toBe(false);
      });

      it('matches * to exactly one token and > to one or more', async () => {
        const bus = await connect('w');
        const star = collect<string>();
        const tail = collect<string>();
        await bus.subscribe(`${ns}.wild.*`, (m) => {
          star.push(m.subject);
        });
        await bus.subscribe(`${ns}.wild.>`, (m) => {
          tail.push(m.subject);
        });
        for (const s of [`${ns}.wild`, `${ns}.wild.a`, `${ns}.wild.a.b`, `${ns}.other.a`, `${ns}.wild.z`]) {
          bus.publish(s, text(s));
        }
        expect(await tail.atLeast(3)).toEqual([`${ns}.wild.a`, `${ns}.wild.a.b`, `${ns}.wild.z`]);
        expect(await star.atLeast(2)).toEqual([`${ns}.wild.a`, `${ns}.wild.z`]);
      });

      it('gives each message to one member of a queue group and to every plain subscriber', async () => {
        const [pub, m1, m2, plain] = await Promise.all(['p', 'm1', 'm2', 'plain'].map((n) => connect(n)));
        const subject = names.subjects.modelDeployed;
        const members = collect<[string, number]>();
        const all = collect<number>();
        for (const [name, bus] of [
          ['m1', m1],
          ['m2', m2],
        ] as const) {
          await bus?.subscribe(
            subject,
            (m) => {
              members.push([name, Number(decodeText(m.data))]);
            },
            { queue: 'deployers' },
          );
        }
        await plain?.subscribe(subject, (m) => {
          all.push(Number(decodeText(m.data)));
        });
        for (let i = 0; i < 40; i++) pub?.publish(subject, text(String(i)));
        expect((await all.atLeast(40)).length).toBe(40);
        const handled = await members.atLeast(40);
        expect(handled.map(([, i]) => i).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 40 }, (_, i) => i),
        );
        expect(new Set(handled.map(([n]) => n))).toEqual(new Set(['m1', 'm2']));
      });

      it('stops delivering to a subscription once unsubscribed', async () => {
        const bus = await connect('u');
        const subject = `${ns}.unsub.x`;
        const first = collect<string>();
        const second = collect<string>();
        const sub = await bus.subscribe(subject, (m) => {
          first.push(decodeText(m.data));
        });
        bus.publish(subject, text('before'));
        await first.atLeast(1);
        await sub.unsubscribe();
        await bus.subscribe(subject, (m) => {
          second.push(decodeText(m.data));
        });
        bus.publish(subject, text('after'));
        expect(await second.atLeast(1)).toEqual(['after']);
        expect(first.items).toEqual(['before']);
      });

      it('keeps a subscription alive when its handler throws, and reports the failure', async () => {
        const events = collect<BusEvent>();
        const bus = await connect('t', (e) => {
          events.push(e);
        });
        const subject = `${ns}.throws.x`;
        const got = collect<string>();
        await bus.subscribe(subject, (m) => {
          const body = decodeText(m.data);
          if (body === 'bad') throw new UserError({ code: 'BAD_EVENT', message: 'bad' });
          got.push(body);
        });
        bus.publish(subject, text('bad'));
        bus.publish(subject, text('good'));
        expect(await got.atLeast(1)).toEqual(['good']);
        const failures = (await events.atLeast(1)).filter((e) => e.kind === BusEventKind.HandlerFailed);
        expect(failures[0]?.error?.code).toBe('BAD_EVENT');
      });

      it('rejects invalid subjects and reserved headers with typed errors', async () => {
        const bus = await connect('v');
        for (const subject of ['', 'a..b', 'a.*', 'a.>', 'a b']) {
          expect(
            await rejection(() => {
              bus.publish(subject, text('x'));
            }),
          ).toMatchObject({
            code: BusErrorCode.InvalidSubject,
          });
        }
        expect(await rejection(bus.subscribe('a.>.b', () => undefined))).toMatchObject({
          code: BusErrorCode.InvalidSubject,
        });
        expect(
          await rejection(() => {
            bus.publish(`${ns}.h`, text('x'), { headers: { 'Nats-Msg-Id': 'x' } });
          }),
        ).toMatchObject({ code: BusErrorCode.InvalidHeader });
      });

      it('rejects a message larger than the maximum payload', async () => {
        const bus = await connect('big');
        const err = await rejection(() => {
          bus.publish(`${ns}.big`, new Uint8Array(2 * 1024 * 1024));
        });
        expect(err).toMatchObject({
          code: BusErrorCode.PayloadTooLarge,
          status: ErrorStatus.PayloadTooLarge,
        });
      });
    });

    describe('request and reply', () => {
      it('answers a request with the reply and headers of the responder', async () => {
        const [client, server] = [await connect('client'), await connect('server')];
        const subject = `${ns}.rpc.echo`;
        await server.serve(subject, (req) => ({
          data: text(`echo ${decodeText(req.data)}`),
          headers: { 'X-Served-By': 'server' },
        }));
        const reply = await client.request(subject, text('hi'), { timeoutMs: 5_000 });
        expect(decodeText(reply.data)).toBe('echo hi');
        expect(reply.headers['X-Served-By']).toBe('server');
      });

      it('fails at once with BUS_NO_RESPONDERS when nobody listens', async () => {
        const bus = await connect('lonely');
        const err = await rejection(bus.request(`${ns}.rpc.nobody`, text('?'), { timeoutMs: 60_000 }));
        expect(err).toMatchObject({ code: BusErrorCode.NoResponders });
      });

      it('fails with BUS_TIMEOUT when no reply comes in time', async () => {
        const [client, server] = [await connect('client'), await connect('server')];
        const subject = `${ns}.rpc.slow`;
        const release = signal();
        await server.serve(subject, async () => {
          await release.promise;
          return text('late');
        });
        const err = await rejection(client.request(subject, text('?'), { timeoutMs: 300 }));
        release.resolve();
        expect(err).toMatchObject({ code: BusErrorCode.Timeout, status: ErrorStatus.Timeout });
      });

      it('rethrows the error of the responder with its class, code and details', async () => {
        const [client, server] = [await connect('client'), await connect('server')];
        const subject = `${ns}.rpc.denied`;
        await server.serve(subject, () => {
          throw new UserError({
            code: 'ACCESS_DENIED',
            status: ErrorStatus.PermissionDenied,
            message: 'You may not read Sales.Order',
            details: { entity: 'Sales.Order' },
          });
        });
        const err = await rejection(client.request(subject, text('?')));
        expect(err).toBeInstanceOf(UserError);
        expect(err).toMatchObject({
          code: 'ACCESS_DENIED',
          status: ErrorStatus.PermissionDenied,
          message: 'You may not read Sales.Order',
          details: { entity: 'Sales.Order' },
        });
      });

      it('shares requests among the responders of a service, each answered once', async () => {
        const [client, r1, r2] = [await connect('client'), await connect('r1'), await connect('r2')];
        const subject = `${ns}.rpc.shared`;
        const handled = collect<string>();
        for (const [name, bus] of [
          ['r1', r1],
          ['r2', r2],
        ] as const) {
          await bus.serve(subject, () => {
            handled.push(name);
            return text(name);
          });
        }
        const replies = await Promise.all(
          Array.from({ length: 40 }, () =>
            client.request(subject, text('?')).then((m) => decodeText(m.data)),
          ),
        );
        expect(handled.items).toHaveLength(40);
        expect(new Set(replies)).toEqual(new Set(['r1', 'r2']));
      });
      it('lets every responder answer when no queue group is used, the first reply winning', async () => {
        const [client, r1, r2] = [await connect('client'), await connect('r1'), await connect('r2')];
        const subject = `${ns}.rpc.everyone`;
        const handled = collect<string>();
        for (const [name, bus] of [
          ['r1', r1],
          ['r2', r2],
        ] as const) {
          await bus.serve(
            subject,
            () => {
              handled.push(name);
              return text(name);
            },
            { queue: false },
          );
        }
        const reply = decodeText((await client.request(subject, text('?'))).data);
        expect(['r1', 'r2']).toContain(reply);
        expect((await handled.atLeast(2)).sort()).toEqual(['r1', 'r2']);
      });
    });

    describe('work queues', () => {
      it('delivers a job with its data, headers and message id, and removes it once acknowledged', async () => {
        const bus = await connect('wq');
        const queue = await bus.workQueue(taskQueue());
        const first = await queue.enqueue(text('job-1'), { msgId: 'job-1', headers: { 'X-Kind': 'task' } });
        expect(first.duplicate).toBe(false);
        const got = collect<Job>();
        const consumer = await queue.consume((job) => {
          got.push(job);
          job.ack();
        });
        const [job] = await got.atLeast(1);
        expect(job).toMatchObject({ msgId: 'job-1', sequence: first.sequence, deliveryCount: 1 });
        expect(decodeText(job?.data ?? new Uint8Array())).toBe('job-1');
        expect(job?.headers['X-Kind']).toBe('task');
        await consumer.stop();
        const again = collect<string>();
        await queue.enqueue(text('job-2'));
        await queue.consume((j) => {
          again.push(decodeText(j.data));
        });
        expect(await again.atLeast(1)).toEqual(['job-2']);
      });

      it('reports a second enqueue with the same message id as a duplicate, also after the job was consumed', async () => {
        const bus = await connect('dup');
        const queue = await bus.workQueue(taskQueue());
        const original = await queue.enqueue(text('run'), { msgId: 'Module.Event@1700000000000' });
        const repeat = await queue.enqueue(text('run'), { msgId: 'Module.Event@1700000000000' });
        expect(repeat).toEqual({ sequence: original.sequence, duplicate: true });
        const got = collect<number>();
        const done = signal();
        await queue.consume((job) => {
          got.push(job.sequence);
          if (decodeText(job.data) === 'sentinel') done.resolve();
        });
        expect(await got.atLeast(1)).toEqual([original.sequence]);
        const late = await queue.enqueue(text('run'), { msgId: 'Module.Event@1700000000000' });
        expect(late).toEqual({ sequence: original.sequence, duplicate: true });
        const other = await queue.enqueue(text('sentinel'), { msgId: 'Module.Event@1700000060000' });
        expect(other.duplicate).toBe(false);
        await done.promise;
        expect(got.items).toEqual([original.sequence, other.sequence]);
      });

      it('forgets message ids once the duplicate window has passed', async () => {
        const bus = await connect('window');
        const queue = await bus.workQueue({
          stream: `${NS}_WINDOW`,
          streamSubjects: [`${ns}.window.>`],
          subject: `${ns}.window.jobs`,
          consumer: 'window',
          duplicateWindowMs: 1_000,
        });
        const first = await queue.enqueue(text('x'), { msgId: 'same' });
        expect((await queue.enqueue(text('x'), { msgId: 'same' })).duplicate).toBe(true);
        const later = await eventually(async () => {
          const result = await queue.enqueue(text('x'), { msgId: 'same' });
          expect(result.duplicate).toBe(false);
          return result;
        });
        expect(later.sequence).toBeGreaterThan(first.sequence);
      });

      it('shares the jobs among competing consumers, each job once', async () => {
        const [producer, c1, c2] = [await connect('producer'), await connect('c1'), await connect('c2')];
        const def = taskQueue();
        const queue = await producer.workQueue(def);
        const handled = collect<[string, string]>();
        const bothBusy = signal();
        const busy = new Set<string>();
        for (const [name, bus] of [
          ['c1', c1],
          ['c2', c2],
        ] as const) {
          const q = await bus.workQueue(def);
          await q.consume(async (job) => {
            busy.add(name);
            if (busy.size === 2) bothBusy.resolve();
            await bothBusy.promise;
            handled.push([name, decodeText(job.data)]);
          });
        }
        for (let i = 0; i < 20; i++) await queue.enqueue(text(`job-${i}`));
        const done = await handled.atLeast(20);
        expect(done.map(([, j]) => j).sort()).toEqual(
          Array.from({ length: 20 }, (_, i) => `job-${i}`).sort(),
        );
        expect(new Set(done.map(([n]) => n))).toEqual(new Set(['c1', 'c2']));
      });

      it('redelivers the job of a consumer that died without acknowledging, after the ack wait', async () => {
        const [producer, doomed, survivor] = [
          await connect('p'),
          await connect('doomed'),
          await connect('survivor'),
        ];
        const def = taskQueue();
        const queue = await producer.workQueue(def);
        const ackWaitMs = 1_000;
        const taken = signal<number>();
        const afterDeath = signal();
        await (
          await doomed.workQueue(def)
        ).consume(
          async (job) => {
            taken.resolve(Date.now());
            await afterDeath.promise;
            // Too late: the connection is gone, so this ack must not reach the queue.
            job.ack();
          },
          { ackWaitMs },
        );
        const { sequence } = await queue.enqueue(text('important'));
        const takenAt = await taken.promise;
        const redelivered = signal<[Job, number]>();
        await (
          await survivor.workQueue(def)
        ).consume(
          (job) => {
            redelivered.resolve([job, Date.now()]);
          },
          { ackWaitMs },
        );
        await doomed.close({ gracePeriodMs: 0 });
        afterDeath.resolve();
        const [job, at] = await redelivered.promise;
        expect(job).toMatchObject({ sequence, deliveryCount: 2 });
        expect(decodeText(job.data)).toBe('important');
        expect(at - takenAt).toBeGreaterThanOrEqual(ackWaitMs - 50);
      });

      it('redelivers a nak\u2019d job at once, or after the delay it asked for', async () => {
        const bus = await connect('nak');
        const queue = await bus.workQueue(taskQueue());
        const order = collect<string>();
        let nakAt = 0;
        let delayedAt = 0;
        await queue.consume(
          async (job) => {
            const body = decodeText(job.data);
            order.push(`${body}#${job.deliveryCount}`);
            if (body === 'now' && job.deliveryCount === 1) job.nak();
            if (body === 'later' && job.deliveryCount === 1) {
              nakAt = Date.now();
              job.nak(1_000);
              await queue.enqueue(text('after'));
            }
            if (body === 'later' && job.deliveryCount === 2) delayedAt = Date.now();
          },
          { ackWaitMs: 30_000 },
        );
        await queue.enqueue(text('now'));
        expect(await order.atLeast(2)).toEqual(['now#1', 'now#2']);
        await queue.enqueue(text('later'));
        expect((await order.atLeast(5)).slice(2)).toEqual(['later#1', 'after#1', 'later#2']);
        expect(delayedAt - nakAt).toBeGreaterThanOrEqual(1_000 - 50);
      });

      it('stops redelivering a job after maxDeliver deliveries', async () => {
        const bus = await connect('max');
        const queue = await bus.workQueue(taskQueue());
        const seen = collect<string>();
        await queue.consume(
          (job) => {
            const body = decodeText(job.data);
            seen.push(`${body}#${job.deliveryCount}`);
            if (body === 'poison') job.nak();
          },
          { maxDeliver: 2 },
        );
        await queue.enqueue(text('poison'));
        await seen.atLeast(2);
        await queue.enqueue(text('sentinel'));
        expect(await seen.atLeast(3)).toEqual(['poison#1', 'poison#2', 'sentinel#1']);
      });

      it('retries a failing handler after its backoff and terminates the job on the last delivery', async () => {
        const events = collect<BusEvent>();
        const bus = await connect('backoff', (e) => {
          if (e.kind === BusEventKind.HandlerFailed) events.push(e);
        });
        const queue = await bus.workQueue(taskQueue());
        const attempts = collect<[string, number]>();
        await queue.consume(
          (job) => {
            const body = decodeText(job.data);
            attempts.push([`${body}#${job.deliveryCount}`, Date.now()]);
            if (body === 'failing') throw new Error('microflow failed');
          },
          { maxDeliver: 3, backoffMs: [300, 600] },
        );
        await queue.enqueue(text('failing'));
        await attempts.atLeast(3);
        await queue.enqueue(text('sentinel'));
        const all = await attempts.atLeast(4);
        expect(all.map(([a]) => a)).toEqual(['failing#1', 'failing#2', 'failing#3', 'sentinel#1']);
        const at = all.map(([, t]) => t);
        expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(300 - 50);
        expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(600 - 50);
        expect((await events.atLeast(3)).map((e) => e.error?.code)).toEqual([
          'INTERNAL',
          'INTERNAL',
          'INTERNAL',
        ]);
      });

      it('never redelivers a terminated job', async () => {
        const bus = await connect('term');
        const queue = await bus.workQueue(taskQueue());
        const seen = collect<string>();
        await queue.consume(
          (job) => {
            seen.push(`${decodeText(job.data)}#${job.deliveryCount}`);
            if (decodeText(job.data) === 'dead') job.term();
          },
          { ackWaitMs: 500 },
        );
        await queue.enqueue(text('dead'));
        await seen.atLeast(1);
        await new Promise((r) => setTimeout(r, 700));
        await queue.enqueue(text('sentinel'));
        expect(await seen.atLeast(2)).toEqual(['dead#1', 'sentinel#1']);
      });

      it('keeps a job from being redelivered while its handler reports working()', async () => {
        const [a, b] = [await connect('a'), await connect('b')];
        const def = taskQueue();
        const ackWaitMs = 1_000;
        const seenByB = collect<string>();
        const finished = signal();
        const takenByA = signal();
        let deliveriesToA = 0;
        await (
          await a.workQueue(def)
        ).consume(
          async (job) => {
            deliveriesToA++;
            takenByA.resolve();
            for (let waited = 0; waited < 2_500; waited += 250) {
              await new Promise((r) => setTimeout(r, 250));
              job.working();
            }
            job.ack();
            finished.resolve();
          },
          { ackWaitMs },
        );
        const queueB = await b.workQueue(def);
        await queueB.enqueue(text('long'));
        await takenByA.promise;
        await queueB.consume(
          (job) => {
            seenByB.push(`${decodeText(job.data)}#${job.deliveryCount}`);
          },
          { ackWaitMs },
        );
        await finished.promise;
        await queueB.enqueue(text('sentinel'));
        await eventually(() => {
          expect(seenByB.items).toContain('sentinel#1');
        });
        expect(seenByB.items).toEqual(['sentinel#1']);
        expect(deliveriesToA).toBe(1);
      });

      it('takes no more jobs at once than the consumer\u2019s concurrency', async () => {
        const bus = await connect('conc');
        const queue = await bus.workQueue(taskQueue());
        let running = 0;
        let most = 0;
        const done = collect<number>();
        for (let i = 0; i < 9; i++) await queue.enqueue(text(String(i)));
        await queue.consume(
          async (job) => {
            running++;
            most = Math.max(most, running);
            await new Promise((r) => setTimeout(r, 30));
            running--;
            done.push(job.sequence);
          },
          { concurrency: 3 },
        );
        expect(new Set(await done.atLeast(9)).size).toBe(9);
        expect(most).toBe(3);
      });

      it('lets a consumer stop after finishing the jobs in hand', async () => {
        const bus = await connect('stop');
        const def = taskQueue();
        const queue = await bus.workQueue(def);
        const started = signal();
        const release = signal();
        const finished: string[] = [];
        const consumer = await queue.consume(async (job) => {
          started.resolve();
          await release.promise;
          finished.push(decodeText(job.data));
        });
        await queue.enqueue(text('in-hand'));
        await started.promise;
        const stopping = consumer.stop();
        await queue.enqueue(text('left'));
        release.resolve();
        await stopping;
        expect(finished).toEqual(['in-hand']);
        const next = collect<string>();
        await queue.consume((job) => {
          next.push(`${decodeText(job.data)}#${job.deliveryCount}`);
        });
        expect(await next.atLeast(1)).toEqual(['left#1']);
      });

      it('rejects invalid consume options', async () => {
        const bus = await connect('opts');
        const queue = await bus.workQueue(taskQueue());
        for (const options of [
          { concurrency: 0 },
          { ackWaitMs: -1 },
          { maxDeliver: 0 },
          { backoffMs: [-5] },
        ]) {
          expect(await rejection(queue.consume(() => undefined, options))).toMatchObject({
            code: BusErrorCode.InvalidOption,
          });
        }
      });
    });

    describe('key-value buckets', () => {
      it('creates a key only when it is absent and reports KV_CONFLICT otherwise', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(names.buckets.leases);
        const key = unique('leader-');
        const revision = await kv.create(key, text('node-a'));
        const err = await rejection(kv.create(key, text('node-b')));
        expect(err).toMatchObject({ code: BusErrorCode.KvConflict, status: ErrorStatus.Conflict });
        const entry = await kv.get(key);
        expect(entry?.revision).toBe(revision);
        expect(decodeText(entry?.value ?? new Uint8Array())).toBe('node-a');
      });

      it('updates a key only at the expected revision (compare-and-set)', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(names.buckets.leases);
        const key = unique('lease-');
        const r1 = await kv.create(key, text('v1'));
        const r2 = await kv.update(key, text('v2'), r1);
        expect(r2).toBeGreaterThan(r1);
        expect(await rejection(kv.update(key, text('v3'), r1))).toMatchObject({
          code: BusErrorCode.KvConflict,
        });
        expect(await rejection(kv.update(unique('missing-'), text('v'), 1))).toMatchObject({
          code: BusErrorCode.KvConflict,
        });
        expect(decodeText((await kv.get(key))?.value ?? new Uint8Array())).toBe('v2');
      });

      it('deletes only at the expected revision, and allows creating the key again', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(names.buckets.leases);
        const key = unique('resign-');
        const r1 = await kv.create(key, text('v1'));
        const r2 = await kv.put(key, text('v2'));
        expect(await rejection(kv.delete(key, { revision: r1 }))).toMatchObject({
          code: BusErrorCode.KvConflict,
        });
        await kv.delete(key, { revision: r2 });
        expect(await kv.get(key)).toBeUndefined();
        const r3 = await kv.create(key, text('v3'));
        expect(r3).toBeGreaterThan(r2);
      });

      it('numbers revisions across the whole bucket, deletes included', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(`${NS}_REVISIONS`);
        const a = await kv.put('a', text('1'));
        const b = await kv.put('b', text('1'));
        await kv.delete('a');
        const c = await kv.put('a', text('2'));
        expect([b - a, c - b]).toEqual([1, 2]);
      });

      it('lists the keys and entries of live values, optionally filtered', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(`${NS}_NODES_LIST`);
        await kv.put('node.gateway.1', text('g1'));
        await kv.put('node.gateway.2', text('g2'));
        await kv.put('node.executor.1', text('e1'));
        await kv.put('node.executor.2', text('e2'));
        await kv.delete('node.executor.2');
        expect(await kv.keys()).toEqual(['node.executor.1', 'node.gateway.1', 'node.gateway.2']);
        expect(await kv.keys('node.gateway.*')).toEqual(['node.gateway.1', 'node.gateway.2']);
        const entries = await kv.entries('node.executor.>');
        expect(entries.map((e) => [e.key, decodeText(e.value)])).toEqual([['node.executor.1', 'e1']]);
        expect(await rejection(kv.put('bad key', text('x')))).toMatchObject({
          code: BusErrorCode.InvalidKey,
        });
      });

      it('expires entries after the bucket TTL, silently, and allows creating them again', async () => {
        const bus = await connect('kv');
        await bus.kv(`${NS}_TTL`, { ttlMs: 1_000 });
        // Opened without a TTL by another service, the bucket keeps the one it has.
        const kv = await (await connect('observer')).kv(`${NS}_TTL`);
        const events = collect<KvWatchEvent>();
        await kv.watch((e) => {
          events.push(e);
        });
        const r1 = await kv.create('lease', text('node-a'));
        expect((await kv.get('lease'))?.revision).toBe(r1);
        await eventually(async () => {
          expect(await kv.get('lease')).toBeUndefined();
        });
        expect(await kv.keys()).toEqual([]);
        const r2 = await kv.create('lease', text('node-b'));
        expect(r2).toBeGreaterThan(r1);
        const seen = await events.atLeast(2);
        expect(seen.map((e) => [e.operation, e.revision])).toEqual([
          [KvOperation.Put, r1],
          [KvOperation.Put, r2],
        ]);
      });

      it('shows a watch the current values first, then puts and deletes in revision order', async () => {
        const bus = await connect('kv');
        const writer = await connect('writer');
        const bucket = `${NS}_WATCH`;
        const kv = await writer.kv(bucket);
        const r0 = await kv.put('election.cluster', text('node-a'));
        await kv.put('other.key', text('x'));
        const events = collect<KvWatchEvent>();
        const watch = await (
          await bus.kv(bucket)
        ).watch(
          (e) => {
            events.push(e);
          },
          { key: 'election.*' },
        );
        const summary = (e: KvWatchEvent): unknown[] => [e.key, e.operation, e.revision, decodeText(e.value)];
        expect((await events.atLeast(1)).map(summary)).toEqual([
          ['election.cluster', KvOperation.Put, r0, 'node-a'],
        ]);
        // One revision is kept per key, so each write waits to be seen before it is overwritten.
        const r1 = await kv.update('election.cluster', text('node-b'), r0);
        await events.atLeast(2);
        await kv.delete('election.cluster', { revision: r1 });
        await events.atLeast(3);
        const burst = [await kv.put('election.a', text('1')), await kv.put('election.b', text('2'))];
        expect((await events.atLeast(5)).map(summary)).toEqual([
          ['election.cluster', KvOperation.Put, r0, 'node-a'],
          ['election.cluster', KvOperation.Put, r1, 'node-b'],
          ['election.cluster', KvOperation.Delete, r1 + 1, ''],
          ['election.a', KvOperation.Put, burst[0], '1'],
          ['election.b', KvOperation.Put, burst[1], '2'],
        ]);
        const later = collect<string>();
        await kv.watch(
          (e) => {
            later.push(decodeText(e.value));
          },
          { key: 'election.*', initialValues: false },
        );
        await watch.stop();
        await kv.put('election.cluster', text('node-c'));
        expect(await later.atLeast(1)).toEqual(['node-c']);
        expect(events.items).toHaveLength(5);
      });

      it('shows a watch only later changes when asked to skip current values', async () => {
        const bus = await connect('kv');
        const kv = await bus.kv(`${NS}_WATCH_NEW`);
        await kv.put('k', text('old'));
        const events = collect<string>();
        await kv.watch(
          (e) => {
            events.push(decodeText(e.value));
          },
          { initialValues: false },
        );
        await kv.put('k', text('new'));
        expect(await events.atLeast(1)).toEqual(['new']);
      });
    });

    describe('tracing', () => {
      it('continues the trace of the sender in subscribers, responders and job handlers', async () => {
        const [a, b] = [await connect('a'), await connect('b')];
        const tracer = trace.getTracer('conformance');
        const subject = `${ns}.traced.event`;
        const rpc = `${ns}.traced.rpc`;
        const traces = collect<[string, string | undefined]>();
        const active = (): string | undefined => trace.getActiveSpan()?.spanContext().traceId;
        await b.subscribe(subject, () => {
          traces.push(['subscribe', active()]);
        });
        await b.serve(rpc, () => {
          traces.push(['serve', active()]);
          return text('ok');
        });
        const queue = await b.workQueue(taskQueue());
        await queue.consume(() => {
          traces.push(['consume', active()]);
        });
        const origin = await tracer.startActiveSpan('origin', async (span) => {
          a.publish(subject, text('x'));
          await a.request(rpc, text('x'));
          await (await a.workQueue(queue.definition)).enqueue(text('x'));
          span.end();
          return span.spanContext().traceId;
        });
        const seen = await traces.atLeast(3);
        expect(Object.fromEntries(seen)).toEqual({ subscribe: origin, serve: origin, consume: origin });
        await eventually(() => {
          const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === origin);
          expect(spans.map((s) => [s.name, s.kind]).sort()).toEqual(
            [
              ['origin', SpanKind.INTERNAL],
              [`${subject} publish`, SpanKind.PRODUCER],
              [`${subject} process`, SpanKind.CONSUMER],
              [`${rpc} request`, SpanKind.CLIENT],
              [`${rpc} process`, SpanKind.SERVER],
              [`${queue.definition.subject} publish`, SpanKind.PRODUCER],
              [`${queue.definition.subject} process`, SpanKind.CONSUMER],
            ].sort(),
          );
          const processed = spans.find((s) => s.name === `${subject} process`);
          expect(processed?.attributes['messaging.destination.name']).toBe(subject);
        });
      });
    });

    describe('closing', () => {
      it('rejects every operation after close with BUS_CLOSED', async () => {
        const bus = await connect('closing');
        await bus.close();
        await bus.close();
        expect(bus.status().state).toBe(BusState.Closed);
        expect(
          await rejection(() => {
            bus.publish(`${ns}.x`, text('x'));
          }),
        ).toMatchObject({
          code: BusErrorCode.Closed,
        });
        for (const op of [
          bus.request(`${ns}.x`, text('x')),
          bus.subscribe(`${ns}.x`, () => undefined),
          bus.workQueue(taskQueue()),
          bus.kv(names.buckets.nodes),
        ]) {
          expect(await rejection(op)).toMatchObject({ code: BusErrorCode.Closed });
        }
      });

      it('delivers what was published before a graceful close and waits for handlers in progress', async () => {
        const [a, b] = [await connect('a'), await connect('b')];
        const subject = `${ns}.drain.x`;
        const handled = collect<string>();
        const started = signal();
        await b.subscribe(subject, async (m) => {
          started.resolve();
          await new Promise((r) => setTimeout(r, 100));
          handled.push(decodeText(m.data));
        });
        for (let i = 0; i < 3; i++) a.publish(subject, text(String(i)));
        await a.close();
        await started.promise;
        await b.close({ gracePeriodMs: 5_000 });
        expect(handled.items).toEqual(['0', '1', '2']);
        expect(b.status().state).toBe(BusState.Closed);
      });
    });
  });
}
