import { DeliverPolicy, StorageType, type Consumer, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry as NatsKvEntry } from '@nats-io/kv';
import { nanos } from '@nats-io/nats-core';
import { asRunplaneError } from '@runplane/errors';
import {
  BusEventKind,
  KvOperation,
  type KeyValueStore,
  type KvEntry,
  type KvOptions,
  type KvWatch,
  type KvWatchEvent,
  type KvWatchHandler,
  type KvWatchOptions,
} from './bus.js';
import { kvConflictError } from './errors.js';
import { ApiCode, apiCode, fromNatsError, type NatsContext } from './nats-support.js';
import { emit } from './runtime.js';
import { assertKey, assertKeyFilter, assertNumberOption, assertPayloadSize } from './validate.js';

/** Opens a bucket (history 1, reads from the stream leader), creating it or reconciling a given TTL. */
export async function openBucket(
  ctx: NatsContext,
  bucket: string,
  options: KvOptions,
  watches: Set<NatsKvWatch>,
): Promise<NatsKvStore> {
  try {
    const kv = await new Kvm(ctx.js).create(bucket, {
      history: 1,
      replicas: ctx.streamReplicas,
      storage: StorageType.File,
      // Direct gets may be answered by a lagging replica; a lease must read what it wrote.
      allow_direct: false,
      ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs }),
    });
    if (options.ttlMs !== undefined) {
      const jsm = await ctx.jsm();
      const stream = `KV_${bucket}`;
      const info = await jsm.streams.info(stream);
      const maxAge = nanos(options.ttlMs);
      if (info.config.max_age !== maxAge)
        await jsm.streams.update(stream, { ...info.config, max_age: maxAge });
    }
    return new NatsKvStore(ctx, bucket, kv, watches);
  } catch (err) {
    throw fromNatsError(err, { connection: ctx.name, subject: `$KV.${bucket}` });
  }
}

/** The header of a KV message that marks a delete (`DEL`) or purge (`PURGE`). */
const KV_OPERATION_HEADER = 'KV-Operation';

function toEntry(e: NatsKvEntry): KvEntry {
  return { key: e.key, value: e.value, revision: e.revision, created: e.created };
}

/** A bucket of NATS KV. */
export class NatsKvStore implements KeyValueStore {
  readonly bucket: string;
  readonly #ctx: NatsContext;
  readonly #kv: KV;
  readonly #watches: Set<NatsKvWatch>;
  /** Subject prefix of the bucket's keys. */
  readonly #prefix: string;

  /** `watches` is the connection's set of running watches, so that closing it stops them. */
  constructor(ctx: NatsContext, bucket: string, kv: KV, watches: Set<NatsKvWatch>) {
    this.#ctx = ctx;
    this.bucket = bucket;
    this.#kv = kv;
    this.#watches = watches;
    this.#prefix = `$KV.${bucket}.`;
  }

  #fail(err: unknown, key: string, expectedRevision?: number): Error {
    const code = apiCode(err);
    if (
      expectedRevision !== undefined &&
      (code === ApiCode.WrongLastSequence || code === ApiCode.WrongLastSequenceUnknown)
    ) {
      return kvConflictError(this.bucket, key, expectedRevision, err);
    }
    return fromNatsError(err, { connection: this.#ctx.name, subject: `$KV.${this.bucket}.${key}` });
  }

  #checkWrite(key: string, value: Uint8Array): void {
    this.#ctx.assertOpen();
    assertKey(key);
    assertPayloadSize(key, value, undefined, this.#ctx.maxPayloadBytes());
  }

  async get(key: string): Promise<KvEntry | undefined> {
    this.#ctx.assertOpen();
    assertKey(key);
    try {
      const e = await this.#kv.get(key);
      return e === null || e.operation !== 'PUT' ? undefined : toEntry(e);
    } catch (err) {
      throw this.#fail(err, key);
    }
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    this.#checkWrite(key, value);
    try {
      return await this.#kv.create(key, value);
    } catch (err) {
      throw this.#fail(err, key, 0);
    }
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    this.#checkWrite(key, value);
    assertNumberOption('revision', revision, 1);
    try {
      return await this.#kv.update(key, value, revision);
    } catch (err) {
      throw this.#fail(err, key, revision);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.#checkWrite(key, value);
    try {
      return await this.#kv.put(key, value);
    } catch (err) {
      throw this.#fail(err, key);
    }
  }

  async delete(key: string, options: { readonly revision?: number } = {}): Promise<void> {
    this.#ctx.assertOpen();
    assertKey(key);
    assertNumberOption('revision', options.revision, 1);
    try {
      await this.#kv.delete(
        key,
        options.revision === undefined ? undefined : { previousSeq: options.revision },
      );
    } catch (err) {
      throw this.#fail(err, key, options.revision);
    }
  }

  async keys(filter = '>'): Promise<string[]> {
    return (await this.entries(filter)).map((e) => e.key);
  }

  async entries(filter = '>'): Promise<KvEntry[]> {
    this.#ctx.assertOpen();
    assertKeyFilter(filter);
    let consumer: Consumer | undefined;
    try {
      consumer = await this.#orderedConsumer(filter, DeliverPolicy.LastPerSubject);
      const entries: KvEntry[] = [];
      // A snapshot: the latest entry of every key as the consumer was created.
      const snapshot = (await consumer.info(true)).num_pending;
      if (snapshot > 0) {
        const messages = await consumer.consume({ max_messages: 256 });
        let received = 0;
        for await (const m of messages) {
          received++;
          const change = this.#change(m);
          if (change.operation === KvOperation.Put) {
            entries.push({
              key: change.key,
              value: change.value,
              revision: change.revision,
              created: change.created,
            });
          }
          if (received >= snapshot || m.info.pending === 0) break;
        }
      }
      return entries.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    } catch (err) {
      throw this.#fail(err, filter);
    } finally {
      // An ephemeral consumer would otherwise linger on the server until its inactivity threshold.
      void consumer?.delete().catch(() => undefined);
    }
  }

  /**
   * An ordered pull consumer over the bucket's stream. Pull, not push: a push consumer
   * (what nats.js's own watch and keys use) can lose its first messages to the race
   * between creating the consumer and subscribing to its deliver subject.
   */
  #orderedConsumer(filter: string, deliverPolicy: DeliverPolicy): Promise<Consumer> {
    return this.#ctx.js.consumers.get(`KV_${this.bucket}`, {
      filter_subjects: `${this.#prefix}${filter}`,
      deliver_policy: deliverPolicy,
    });
  }

  #change(m: JsMsg): KvWatchEvent {
    const op = m.headers?.get(KV_OPERATION_HEADER) ?? '';
    const deleted = op === 'DEL' || op === 'PURGE';
    return {
      key: m.subject.slice(this.#prefix.length),
      value: deleted ? new Uint8Array(0) : m.data,
      revision: m.seq,
      operation: deleted ? KvOperation.Delete : KvOperation.Put,
      created: m.time,
    };
  }

  async watch(handler: KvWatchHandler, options: KvWatchOptions = {}): Promise<KvWatch> {
    this.#ctx.assertOpen();
    const key = options.key ?? '>';
    assertKeyFilter(key);
    try {
      const consumer = await this.#orderedConsumer(
        key,
        (options.initialValues ?? true) ? DeliverPolicy.LastPerSubject : DeliverPolicy.New,
      );
      const messages = await consumer.consume();
      const watch = new NatsKvWatch(
        () => {
          messages.stop();
          void consumer.delete().catch(() => undefined);
        },
        async (self) => {
          try {
            for await (const m of messages) {
              if (self.dropped) continue;
              await this.#deliver(handler, this.#change(m));
            }
          } catch {
            // The connection closed under the watch; nothing more will come.
          } finally {
            this.#watches.delete(self);
          }
        },
      );
      this.#watches.add(watch);
      return watch;
    } catch (err) {
      throw this.#fail(err, key);
    }
  }

  async #deliver(handler: KvWatchHandler, event: KvWatchEvent): Promise<void> {
    try {
      await handler(event);
    } catch (error) {
      emit(this.#ctx.onEvent, {
        kind: BusEventKind.HandlerFailed,
        level: 'error',
        message: `Watch handler failed on key ${event.key} of bucket ${this.bucket}`,
        error: asRunplaneError(error),
      });
    }
  }
}

/** A running watch over an ordered push consumer. */
export class NatsKvWatch implements KvWatch {
  dropped = false;
  readonly #stopIterator: () => void;
  readonly #loop: Promise<void>;

  /** `run` handles the events until the iterator stops. */
  constructor(stopIterator: () => void, run: (watch: NatsKvWatch) => Promise<void>) {
    this.#stopIterator = stopIterator;
    this.#loop = run(this);
  }

  halt(): void {
    this.#stopIterator();
  }

  idle(): Promise<void> {
    return this.#loop;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.#loop;
  }
}
