import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import {
  BusEventKind,
  type ConsumeOptions,
  type EnqueueOptions,
  type EnqueueResult,
  type JobHandler,
  type WorkConsumer,
  type WorkQueue,
  type WorkQueueDefinition,
} from './bus.js';
import { resourceConflictError } from './errors.js';
import {
  ApiCode,
  NATS_SYSTEM,
  apiCode,
  fromNatsError,
  isNoResponders,
  toMsgHdrs,
  visibleHeaders,
  type NatsContext,
} from './nats-support.js';
import {
  DeliveredJob,
  InFlight,
  emit,
  pause,
  resolveConsumeOptions,
  runJob,
  type ResolvedConsumeOptions,
} from './runtime.js';
import { startSend } from './tracing.js';
import { assertHeaders, assertMsgId, assertPayloadSize } from './validate.js';

const MSG_ID_HEADER = 'Nats-Msg-Id';
/** Pause before a consumer retries after a failed fetch. */
const FETCH_RETRY_MS = 1_000;
/** How far a pull request's expiry is kept from the moment a job this consumer nak'd falls due. */
const NAK_DUE_GUARD_MS = 100;

/**
 * How long the next pull request may wait so that it does not expire just as a job this consumer
 * nak'd with a delay falls due. nats-server 2.9 can hand such a job to a pull request in the very
 * millisecond it expires: the job counts as delivered but never reaches the client, and comes
 * back only after the ack wait (seen on this project's machines: a 1 s nak redelivered as the
 * third delivery 4 s later). A request that is still open at the due time gets the job.
 *
 * @param dueAt When the delayed naks of this consumer fall due (epoch ms), in any order.
 */
export function pullExpiresMs(now: number, expiresMs: number, dueAt: readonly number[]): number {
  let expires = expiresMs;
  // Each move puts the expiry past a due time, so a few rounds settle any set of due times.
  for (let round = 0; round <= dueAt.length; round++) {
    const end = now + expires;
    const near = dueAt.find((due) => Math.abs(end - due) < NAK_DUE_GUARD_MS);
    if (near === undefined) return expires;
    expires = near - now + NAK_DUE_GUARD_MS;
  }
  return expires;
}

/** Creates the work-queue stream, or reconciles its subjects, duplicate window and max age. */
export async function ensureStream(ctx: NatsContext, def: WorkQueueDefinition): Promise<void> {
  const jsm = await ctx.jsm();
  const subject = def.subject;
  const duplicateWindow = nanos(def.duplicateWindowMs);
  const maxAge = nanos(def.maxAgeMs ?? 0);
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(def.stream);
      const config = info.config;
      if (config.retention !== RetentionPolicy.Workqueue) {
        throw resourceConflictError(`Stream ${def.stream} exists without work-queue retention`, {
          stream: def.stream,
          retention: config.retention,
        });
      }
      const sameSubjects =
        config.subjects.length === def.streamSubjects.length &&
        def.streamSubjects.every((s) => config.subjects.includes(s));
      if (!sameSubjects || config.duplicate_window !== duplicateWindow || config.max_age !== maxAge) {
        await jsm.streams.update(def.stream, {
          ...config,
          subjects: [...def.streamSubjects],
          duplicate_window: duplicateWindow,
          max_age: maxAge,
        });
      }
      return;
    } catch (err) {
      if (apiCode(err) !== ApiCode.StreamNotFound) throw mapStreamError(ctx, def, err);
    }
    try {
      await jsm.streams.add({
        name: def.stream,
        subjects: [...def.streamSubjects],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: ctx.streamReplicas,
        duplicate_window: duplicateWindow,
        max_age: maxAge,
      });
      return;
    } catch (err) {
      // Another process may have created it in between: look again, once.
      if (attempt > 0) throw mapStreamError(ctx, def, err);
    }
  }
  function mapStreamError(c: NatsContext, d: WorkQueueDefinition, err: unknown): Error {
    const message = err instanceof Error ? err.message : '';
    if (apiCode(err) !== undefined && /overlap/i.test(message)) {
      return resourceConflictError(
        `Subjects of stream ${d.stream} overlap another stream`,
        { stream: d.stream },
        err,
      );
    }
    return fromNatsError(err, { connection: c.name, subject });
  }
}

/** Creates the durable consumer of a work queue, or reconciles its ack wait and max deliveries. */
async function ensureConsumer(
  ctx: NatsContext,
  def: WorkQueueDefinition,
  options: ResolvedConsumeOptions,
): Promise<Consumer> {
  const jsm = await ctx.jsm();
  const ackWait = nanos(options.ackWaitMs);
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.consumers.info(def.stream, def.consumer);
      if (info.config.filter_subject !== def.subject) {
        throw resourceConflictError(
          `Consumer ${def.consumer} of stream ${def.stream} filters another subject`,
          {
            stream: def.stream,
            consumer: def.consumer,
            filter: info.config.filter_subject,
          },
        );
      }
      if (info.config.ack_wait !== ackWait || (info.config.max_deliver ?? -1) !== options.maxDeliver) {
        const updated = await jsm.consumers.update(def.stream, def.consumer, {
          ack_wait: ackWait,
          max_deliver: options.maxDeliver,
        });
        return ctx.js.consumers.getConsumerFromInfo(updated);
      }
      return ctx.js.consumers.getConsumerFromInfo(info);
    } catch (err) {
      if (apiCode(err) !== ApiCode.ConsumerNotFound) throw mapConsumerError(err);
    }
    try {
      const info = await jsm.consumers.add(def.stream, {
        durable_name: def.consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
        filter_subject: def.subject,
        ack_wait: ackWait,
        max_deliver: options.maxDeliver,
      });
      return ctx.js.consumers.getConsumerFromInfo(info);
    } catch (err) {
      if (attempt > 0 || /not unique/i.test(err instanceof Error ? err.message : ''))
        throw mapConsumerError(err);
    }
  }
  function mapConsumerError(err: unknown): Error {
    if (apiCode(err) !== undefined && /not unique/i.test(err instanceof Error ? err.message : '')) {
      return resourceConflictError(
        `Consumer ${def.consumer} would share subjects with another consumer of work queue ${def.stream}`,
        { stream: def.stream, consumer: def.consumer },
        err,
      );
    }
    return fromNatsError(err, { connection: ctx.name, subject: def.subject });
  }
}

/** A work queue over a JetStream stream with work-queue retention. */
export class NatsWorkQueue implements WorkQueue {
  readonly definition: WorkQueueDefinition;
  readonly #ctx: NatsContext;
  readonly #track: (consumer: NatsWorkConsumer) => void;

  constructor(
    ctx: NatsContext,
    definition: WorkQueueDefinition,
    track: (consumer: NatsWorkConsumer) => void,
  ) {
    this.#ctx = ctx;
    this.definition = definition;
    this.#track = track;
  }

  async enqueue(data: Uint8Array, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const ctx = this.#ctx;
    const subject = this.definition.subject;
    ctx.assertOpen();
    assertHeaders(options.headers);
    assertMsgId(options.msgId);
    const send = startSend(NATS_SYSTEM, 'publish', subject, options.headers, {
      'messaging.message.body.size': data.byteLength,
      ...(options.msgId === undefined ? {} : { 'messaging.message.id': options.msgId }),
    });
    try {
      const sized =
        options.msgId === undefined ? send.headers : { ...send.headers, [MSG_ID_HEADER]: options.msgId };
      assertPayloadSize(subject, data, sized, ctx.maxPayloadBytes());
      const publish = () =>
        ctx.js.publish(subject, data, {
          headers: toMsgHdrs(send.headers),
          timeout: ctx.apiTimeoutMs,
          ...(options.msgId === undefined ? {} : { msgID: options.msgId }),
        });
      let ack;
      try {
        ack = await publish();
      } catch (err) {
        // The stream was deleted behind our back: recreate it and try once more.
        if (!isNoResponders(err)) throw err;
        await ensureStream(ctx, this.definition);
        ack = await publish();
      }
      send.end();
      return { sequence: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      const error = fromNatsError(err, { connection: ctx.name, subject, timeoutMs: ctx.apiTimeoutMs });
      send.end(error);
      throw error;
    }
  }

  async consume(handler: JobHandler, options?: ConsumeOptions): Promise<WorkConsumer> {
    this.#ctx.assertOpen();
    const resolved = resolveConsumeOptions(options);
    const consumer = await ensureConsumer(this.#ctx, this.definition, resolved);
    const running = new NatsWorkConsumer(this.#ctx, this.definition, consumer, handler, resolved);
    running.start();
    this.#track(running);
    return running;
  }
}

/**
 * Pulls exactly as many jobs as there are free handler slots, so a busy process never
 * holds jobs that an idle one could take; each fetch is a long poll of `pullExpiresMs`.
 */
export class NatsWorkConsumer implements WorkConsumer {
  readonly inFlight = new InFlight();
  readonly #ctx: NatsContext;
  readonly #def: WorkQueueDefinition;
  readonly #handler: JobHandler;
  readonly #options: ResolvedConsumeOptions;
  readonly #abort = new AbortController();
  #consumer: Consumer;
  #batch: ConsumerMessages | undefined;
  #loop: Promise<void> = Promise.resolve();
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** When the jobs this consumer nak'd with a delay fall due (epoch ms); see {@link pullExpiresMs}. */
  #nakDue: number[] = [];

  constructor(
    ctx: NatsContext,
    def: WorkQueueDefinition,
    consumer: Consumer,
    handler: JobHandler,
    options: ResolvedConsumeOptions,
  ) {
    this.#ctx = ctx;
    this.#def = def;
    this.#consumer = consumer;
    this.#handler = handler;
    this.#options = options;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped && this.#ctx.accepting()) {
      const free = this.#options.concurrency - this.inFlight.size;
      if (free <= 0) {
        await this.inFlight.oneSettled();
        continue;
      }
      try {
        const now = Date.now();
        this.#nakDue = this.#nakDue.filter((due) => due > now - NAK_DUE_GUARD_MS);
        const expires = pullExpiresMs(now, this.#ctx.pullExpiresMs, this.#nakDue);
        const batch = await this.#consumer.fetch({ max_messages: free, expires });
        this.#batch = batch;
        if (this.#stopped) batch.stop();
        for await (const message of batch) this.#dispatch(message);
      } catch (err) {
        if (this.#stopped || !this.#ctx.accepting()) break;
        emit(this.#ctx.onEvent, {
          kind: BusEventKind.ConsumerFailed,
          level: 'warn',
          message: `Consumer ${this.#def.consumer} of ${this.#def.stream} could not fetch jobs; retrying`,
          subject: this.#def.subject,
          error: fromNatsError(err, { connection: this.#ctx.name, subject: this.#def.subject }),
        });
        await pause(FETCH_RETRY_MS, this.#abort.signal);
        if (this.#stopped) break;
        try {
          // The consumer (or its stream) may be gone; recreate it with our settings.
          await ensureStream(this.#ctx, this.#def);
          this.#consumer = await ensureConsumer(this.#ctx, this.#def, this.#options);
        } catch {
          // Reported on the next failed fetch; keep retrying.
        }
      } finally {
        this.#batch = undefined;
      }
    }
  }

  #dispatch(message: JsMsg): void {
    const msgId = message.headers?.get(MSG_ID_HEADER);
    const job = new DeliveredJob(
      {
        subject: message.subject,
        data: message.data,
        headers: visibleHeaders(message.headers),
        msgId: msgId === undefined || msgId === '' ? undefined : msgId,
        sequence: message.seq,
        deliveryCount: message.info.deliveryCount,
      },
      {
        // Once the connection is closed these cannot reach the server; the job is then
        // redelivered after its ack wait, which is the at-least-once contract.
        ack: () => {
          quietly(() => {
            message.ack();
          });
        },
        nak: (delayMs) => {
          if (delayMs > 0) this.#nakDue.push(Date.now() + delayMs);
          quietly(() => {
            message.nak(delayMs > 0 ? delayMs : undefined);
          });
        },
        term: () => {
          quietly(() => {
            message.term();
          });
        },
        working: () => {
          quietly(() => {
            message.working();
          });
        },
      },
    );
    this.inFlight.track(
      Promise.resolve().then(() =>
        runJob(NATS_SYSTEM, job, this.#handler, this.#options, this.#def.consumer, this.#ctx.onEvent),
      ),
    );
  }

  /** Takes no new jobs (jobs in hand keep running). */
  halt(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#batch?.stop();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.halt();
      await this.#loop;
      await this.inFlight.allSettled();
    })();
    return this.#stopping;
  }

  /** Resolves when the fetch loop has ended (after {@link halt}). */
  ended(): Promise<void> {
    return this.#loop;
  }
}

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // See the settlement comment in #dispatch.
  }
}
