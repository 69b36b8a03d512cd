import { asRunplaneError } from '@runplane/errors';
import {
  BusEventKind,
  BusState,
  KvOperation,
  type Bus,
  type BusEventHandler,
  type BusMessage,
  type BusStatus,
  type CloseOptions,
  type ConsumeOptions,
  type EnqueueOptions,
  type EnqueueResult,
  type JobHandler,
  type KeyValueStore,
  type KvEntry,
  type KvOptions,
  type KvWatch,
  type KvWatchHandler,
  type KvWatchOptions,
  type MessageHandler,
  type MessageHeaders,
  type PublishOptions,
  type Reply,
  type RequestHandler,
  type RequestOptions,
  type ServeOptions,
  type SubscribeOptions,
  type Subscription,
  type WorkConsumer,
  type WorkQueue,
  type WorkQueueDefinition,
} from './bus.js';
import {
  closedError,
  kvConflictError,
  noRespondersError,
  resourceConflictError,
  timeoutError,
} from './errors.js';
import { DEFAULT_RESPONDER_QUEUE } from './names.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DeliveredJob,
  InFlight,
  SerialQueue,
  answer,
  assertWorkQueueDefinition,
  deliverMessage,
  emit,
  errorOfReply,
  requestTimeoutMs,
  resolveConsumeOptions,
  runJob,
  within,
  type ResolvedConsumeOptions,
} from './runtime.js';
import { startSend, type MessagingSystem } from './tracing.js';
import {
  assertHeaders,
  assertKey,
  assertKeyFilter,
  assertMsgId,
  assertNumberOption,
  assertPayloadSize,
  assertResourceName,
  assertSubject,
  assertSubjectPattern,
  subjectMatches,
  subjectPatternsOverlap,
} from './validate.js';

const SYSTEM: MessagingSystem = 'in-process';

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Largest message (data plus headers) accepted, as a NATS server's `max_payload`. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
}

/** Options of {@link MemoryBroker.connect}. */
export interface MemoryConnectOptions {
  /** Receives events worth logging; the bus logs nothing itself. */
  readonly onEvent?: BusEventHandler;
}

/**
 * The in-process "server" of standalone mode: subjects, work-queue streams with
 * de-duplication and ack-wait timers, and KV buckets with revisions and TTL — the
 * semantics of NATS with JetStream (2.9), checked by the same conformance suite.
 * Nothing is persisted; everything lives as long as the broker.
 */
export interface MemoryBroker {
  /**
   * Opens a connection, as one service would to a NATS server. Closing it without
   * settling its jobs lets them be redelivered after their ack wait, exactly like a
   * NATS consumer that died.
   */
  connect(name: string, options?: MemoryConnectOptions): Bus;
  /**
   * Closes every connection still open at once (no grace), stops every timer and drops
   * all state. Close the connections first for a graceful stop.
   */
  close(): Promise<void>;
}

/** Creates an in-process broker. Its timers never keep the process alive. */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  assertNumberOption('maxPayloadBytes', maxPayloadBytes, 1);
  return new Broker(maxPayloadBytes);
}

/** A message on its way to one receiver. */
interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  /** Present on requests: sends the reply; only the first call counts. */
  readonly respond?: (reply: Reply) => void;
}

/** A subscription or responder as the broker routes to it. */
interface Route {
  readonly pattern: string;
  readonly queue: string | undefined;
  receive(delivery: Delivery): void;
}

class Broker implements MemoryBroker {
  readonly maxPayloadBytes: number;
  readonly #routes = new Set<Route>();
  readonly #queueTurns = new Map<string, number>();
  readonly #streams = new Map<string, MemStream>();
  readonly #buckets = new Map<string, MemBucket>();
  readonly #connections = new Set<MemoryBus>();
  #closed = false;

  constructor(maxPayloadBytes: number) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  connect(name: string, options: MemoryConnectOptions = {}): Bus {
    if (this.#closed) throw closedError(name);
    const connection = new MemoryBus(this, name, options.onEvent);
    this.#connections.add(connection);
    return connection;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#connections].map((c) => c.close({ gracePeriodMs: 0 })));
    for (const stream of this.#streams.values()) stream.close();
    this.#streams.clear();
    this.#buckets.clear();
    this.#routes.clear();
  }

  disconnected(connection: MemoryBus): void {
    this.#connections.delete(connection);
  }

  addRoute(route: Route): void {
    this.#routes.add(route);
  }

  removeRoute(route: Route): void {
    this.#routes.delete(route);
  }

  /** Hands a message to every matching plain route and one member per queue group; returns how many got it. */
  route(delivery: Delivery): number {
    const groups = new Map<string, Route[]>();
    let receivers = 0;
    for (const route of this.#routes) {
      if (!subjectMatches(route.pattern, delivery.subject)) continue;
      if (route.queue === undefined) {
        route.receive(copyDelivery(delivery));
        receivers++;
        continue;
      }
      // A queue group is a queue name on one subject pattern, as in NATS.
      const key = `${route.queue}\u0000${route.pattern}`;
      const members = groups.get(key);
      if (members === undefined) groups.set(key, [route]);
      else members.push(route);
    }
    for (const [key, members] of groups) {
      const turn = this.#queueTurns.get(key) ?? 0;
      this.#queueTurns.set(key, turn + 1);
      members[turn % members.length]?.receive(copyDelivery(delivery));
      receivers++;
    }
    return receivers;
  }

  ensureStream(def: WorkQueueDefinition): MemStream {
    if (this.#closed) throw closedError('broker');
    for (const other of this.#streams.values()) {
      if (other.name === def.stream) continue;
      const clash = other.subjects.some((a) => def.streamSubjects.some((b) => subjectPatternsOverlap(a, b)));
      if (clash) {
        throw resourceConflictError(
          `Subjects of stream ${def.stream} overlap those of stream ${other.name}`,
          {
            stream: def.stream,
            other: other.name,
          },
        );
      }
    }
    let stream = this.#streams.get(def.stream);
    if (stream === undefined) {
      stream = new MemStream(def.stream);
      this.#streams.set(def.stream, stream);
    }
    stream.configure(def);
    return stream;
  }

  ensureBucket(name: string, ttlMs: number | undefined): MemBucket {
    if (this.#closed) throw closedError('broker');
    let bucket = this.#buckets.get(name);
    if (bucket === undefined) {
      bucket = new MemBucket(name);
      this.#buckets.set(name, bucket);
    }
    if (ttlMs !== undefined) bucket.ttlMs = ttlMs;
    return bucket;
  }
}

function copyDelivery(d: Delivery): Delivery {
  return { ...d, data: d.data.slice(), headers: { ...d.headers } };
}

/** A first-in first-out queue with O(1) removal from the front. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface StoredMessage {
  readonly sequence: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  readonly msgId: string | undefined;
  readonly timeMs: number;
}

/** A stream with work-queue retention: a message lives until acknowledged, terminated or too old. */
class MemStream {
  readonly name: string;
  subjects: readonly string[] = [];
  duplicateWindowMs = 0;
  maxAgeMs: number | undefined;
  #lastSequence = 0;
  readonly #messages = new Map<number, StoredMessage>();
  /** Message ids in the order they were stored, which is also age order. */
  readonly #seenIds = new Map<string, { readonly sequence: number; readonly timeMs: number }>();
  readonly #consumers = new Map<string, MemConsumer>();

  constructor(name: string) {
    this.name = name;
  }

  configure(def: WorkQueueDefinition): void {
    this.subjects = [...def.streamSubjects];
    this.duplicateWindowMs = def.duplicateWindowMs;
    this.maxAgeMs = def.maxAgeMs;
  }

  append(
    subject: string,
    data: Uint8Array,
    headers: MessageHeaders,
    msgId: string | undefined,
  ): EnqueueResult {
    const now = Date.now();
    for (const [id, seen] of this.#seenIds) {
      if (now - seen.timeMs < this.duplicateWindowMs) break;
      this.#seenIds.delete(id);
    }
    if (msgId !== undefined) {
      const seen = this.#seenIds.get(msgId);
      if (seen !== undefined) return { sequence: seen.sequence, duplicate: true };
    }
    const sequence = ++this.#lastSequence;
    this.#messages.set(sequence, { sequence, subject, data, headers, msgId, timeMs: now });
    if (msgId !== undefined) this.#seenIds.set(msgId, { sequence, timeMs: now });
    for (const consumer of this.#consumers.values()) {
      if (subjectMatches(consumer.filter, subject)) consumer.offer(sequence);
    }
    return { sequence, duplicate: false };
  }

  /** The message, unless it is gone or older than the stream's max age (then it goes). */
  message(sequence: number): StoredMessage | undefined {
    const message = this.#messages.get(sequence);
    if (
      message !== undefined &&
      this.maxAgeMs !== undefined &&
      Date.now() - message.timeMs >= this.maxAgeMs
    ) {
      this.remove(sequence);
      return undefined;
    }
    return message;
  }

  has(sequence: number): boolean {
    return this.#messages.has(sequence);
  }

  remove(sequence: number): void {
    if (!this.#messages.delete(sequence)) return;
    for (const consumer of this.#consumers.values()) consumer.forget(sequence);
  }

  ensureConsumer(name: string, filter: string, options: ResolvedConsumeOptions): MemConsumer {
    const existing = this.#consumers.get(name);
    if (existing !== undefined) {
      if (existing.filter !== filter) {
        throw resourceConflictError(`Consumer ${name} of stream ${this.name} filters ${existing.filter}`, {
          stream: this.name,
          consumer: name,
          filter,
        });
      }
      existing.configure(options);
      return existing;
    }
    for (const other of this.#consumers.values()) {
      if (subjectPatternsOverlap(other.filter, filter)) {
        throw resourceConflictError(
          `Consumer ${name} would share subjects with ${other.name} on work queue ${this.name}`,
          {
            stream: this.name,
            consumer: name,
            other: other.name,
          },
        );
      }
    }
    const consumer = new MemConsumer(this, name, filter, options);
    for (const message of this.#messages.values()) {
      if (subjectMatches(filter, message.subject)) consumer.offer(message.sequence);
    }
    this.#consumers.set(name, consumer);
    return consumer;
  }

  close(): void {
    for (const consumer of this.#consumers.values()) consumer.close();
    this.#consumers.clear();
    this.#messages.clear();
    this.#seenIds.clear();
  }
}

/** Takes jobs for one `consume` call, up to its concurrency. */
interface Puller {
  readonly connection: MemoryBus;
  capacity(): number;
  take(job: DeliveredJob): void;
}

/**
 * A durable pull consumer with explicit acks, as NATS runs it: redeliveries go first,
 * every delivery arms an ack-wait timer, a nak with a delay re-arms it, and a job that
 * reached `maxDeliver` is left in the stream but never delivered again.
 */
class MemConsumer {
  readonly name: string;
  readonly filter: string;
  readonly #stream: MemStream;
  #ackWaitMs = 0;
  #maxDeliver = -1;
  readonly #fresh = new Fifo<number>();
  readonly #redeliver = new Fifo<number>();
  readonly #queuedForRedelivery = new Set<number>();
  readonly #deliveries = new Map<number, number>();
  readonly #pending = new Map<number, NodeJS.Timeout>();
  #pullers: Puller[] = [];
  #turn = 0;
  #pumping = false;
  #closed = false;

  constructor(stream: MemStream, name: string, filter: string, options: ResolvedConsumeOptions) {
    this.#stream = stream;
    this.name = name;
    this.filter = filter;
    this.configure(options);
  }

  configure(options: ResolvedConsumeOptions): void {
    this.#ackWaitMs = options.ackWaitMs;
    this.#maxDeliver = options.maxDeliver;
  }

  offer(sequence: number): void {
    this.#fresh.push(sequence);
    this.pump();
  }

  attach(puller: Puller): void {
    this.#pullers.push(puller);
    this.pump();
  }

  detach(puller: Puller): void {
    this.#pullers = this.#pullers.filter((p) => p !== puller);
  }

  /** Delivers while some puller has room and some message is due. */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      for (;;) {
        const puller = this.#nextPuller();
        if (puller === undefined) return;
        const message = this.#nextMessage();
        if (message === undefined) return;
        this.#deliver(puller, message);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #nextPuller(): Puller | undefined {
    for (let i = 0; i < this.#pullers.length; i++) {
      const puller = this.#pullers[(this.#turn + i) % this.#pullers.length];
      if (puller !== undefined && puller.capacity() > 0) {
        this.#turn = (this.#turn + i + 1) % this.#pullers.length;
        return puller;
      }
    }
    return undefined;
  }

  #nextMessage(): StoredMessage | undefined {
    for (let seq = this.#redeliver.shift(); seq !== undefined; seq = this.#redeliver.shift()) {
      if (!this.#queuedForRedelivery.delete(seq) || this.#pending.has(seq)) continue;
      const message = this.#stream.message(seq);
      if (message !== undefined) return message;
    }
    for (let seq = this.#fresh.shift(); seq !== undefined; seq = this.#fresh.shift()) {
      if (this.#deliveries.has(seq) || this.#pending.has(seq)) continue;
      const message = this.#stream.message(seq);
      if (message !== undefined) return message;
    }
    return undefined;
  }

  #deliver(puller: Puller, message: StoredMessage): void {
    const seq = message.sequence;
    const deliveryCount = (this.#deliveries.get(seq) ?? 0) + 1;
    this.#deliveries.set(seq, deliveryCount);
    this.#arm(seq, this.#ackWaitMs);
    const connection = puller.connection;
    const job = new DeliveredJob(
      {
        subject: message.subject,
        data: message.data.slice(),
        headers: { ...message.headers },
        msgId: message.msgId,
        sequence: seq,
        deliveryCount,
      },
      {
        // Settling travels over the connection: once it is closed nothing arrives, as with NATS.
        ack: () => {
          if (connection.canSettle()) this.#stream.remove(seq);
        },
        term: () => {
          if (connection.canSettle()) this.#stream.remove(seq);
        },
        nak: (delayMs) => {
          if (!connection.canSettle() || !this.#pending.has(seq)) return;
          if (delayMs > 0) this.#arm(seq, delayMs);
          else this.#expire(seq);
        },
        working: () => {
          if (connection.canSettle() && this.#pending.has(seq)) this.#arm(seq, this.#ackWaitMs);
        },
      },
    );
    puller.take(job);
  }

  #arm(seq: number, ms: number): void {
    clearTimeout(this.#pending.get(seq));
    const timer = setTimeout(() => {
      this.#expire(seq);
    }, ms);
    timer.unref();
    this.#pending.set(seq, timer);
  }

  #expire(seq: number): void {
    clearTimeout(this.#pending.get(seq));
    this.#pending.delete(seq);
    if (!this.#stream.has(seq)) {
      this.#deliveries.delete(seq);
      return;
    }
    if (this.#maxDeliver > 0 && (this.#deliveries.get(seq) ?? 0) >= this.#maxDeliver) return;
    if (!this.#queuedForRedelivery.has(seq)) {
      this.#queuedForRedelivery.add(seq);
      this.#redeliver.push(seq);
    }
    this.pump();
  }

  /** The message left the stream: drop every trace of it. */
  forget(seq: number): void {
    clearTimeout(this.#pending.get(seq));
    this.#pending.delete(seq);
    this.#deliveries.delete(seq);
    this.#queuedForRedelivery.delete(seq);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    this.#pullers = [];
  }
}

interface MemKvRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly revision: number;
  readonly operation: KvOperation;
  readonly createdMs: number;
}

/** What a KV write expects of the key's current state. */
type KvExpectation =
  | { readonly kind: 'any' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'revision'; readonly revision: number };

/**
 * A KV bucket: one revision counter for the bucket, the latest record per key (a delete
 * leaves a marker), and a bucket TTL under which a record silently disappears — the
 * behaviour of a NATS KV stream with history 1 and a max age.
 */
class MemBucket {
  readonly name: string;
  ttlMs: number | undefined;
  #revision = 0;
  #lastSweepMs = 0;
  readonly #records = new Map<string, MemKvRecord>();
  readonly watchers = new Set<MemWatcher>();

  constructor(name: string) {
    this.name = name;
  }

  #expired(record: MemKvRecord, now: number): boolean {
    return this.ttlMs !== undefined && now - record.createdMs >= this.ttlMs;
  }

  latest(key: string): MemKvRecord | undefined {
    const record = this.#records.get(key);
    if (record !== undefined && this.#expired(record, Date.now())) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  /** Every unexpired record (puts and delete markers), oldest revision first. */
  records(): MemKvRecord[] {
    this.#sweep(true);
    return [...this.#records.values()].sort((a, b) => a.revision - b.revision);
  }

  write(key: string, value: Uint8Array, operation: KvOperation, expect: KvExpectation): number {
    this.#sweep(false);
    const current = this.latest(key);
    if (expect.kind === 'absent' && current?.operation === KvOperation.Put) {
      throw kvConflictError(this.name, key, 0);
    }
    if (expect.kind === 'revision' && (current?.revision ?? 0) !== expect.revision) {
      throw kvConflictError(this.name, key, expect.revision);
    }
    const record: MemKvRecord = {
      key,
      value: value.slice(),
      revision: ++this.#revision,
      operation,
      createdMs: Date.now(),
    };
    this.#records.set(key, record);
    for (const watcher of this.watchers) watcher.offer(record);
    return record.revision;
  }

  /** Drops expired records; without `force`, at most once per TTL so writes stay cheap. */
  #sweep(force: boolean): void {
    if (this.ttlMs === undefined) return;
    const now = Date.now();
    if (!force && now - this.#lastSweepMs < this.ttlMs) return;
    this.#lastSweepMs = now;
    for (const [key, record] of this.#records) {
      if (this.#expired(record, now)) this.#records.delete(key);
    }
  }
}

function toEntry(record: MemKvRecord): KvEntry {
  return {
    key: record.key,
    value: record.value.slice(),
    revision: record.revision,
    created: new Date(record.createdMs),
  };
}

class MemWatcher {
  readonly #pattern: string;
  readonly #handler: KvWatchHandler;
  readonly #onEvent: BusEventHandler | undefined;
  readonly queue = new SerialQueue();
  #stopped = false;
  dropped = false;

  constructor(pattern: string, handler: KvWatchHandler, onEvent: BusEventHandler | undefined) {
    this.#pattern = pattern;
    this.#handler = handler;
    this.#onEvent = onEvent;
  }

  offer(record: MemKvRecord): void {
    if (this.#stopped || !subjectMatches(this.#pattern, record.key)) return;
    const event = {
      key: record.key,
      value: record.operation === KvOperation.Put ? record.value.slice() : new Uint8Array(0),
      revision: record.revision,
      operation: record.operation,
      created: new Date(record.createdMs),
    };
    this.queue.push(async () => {
      if (this.dropped) return;
      try {
        await this.#handler(event);
      } catch (error) {
        emit(this.#onEvent, {
          kind: BusEventKind.HandlerFailed,
          level: 'error',
          message: `Watch handler failed on key ${record.key}`,
          error: asRunplaneError(error),
        });
      }
    });
  }

  stop(): void {
    this.#stopped = true;
  }
}

/** A subscription or responder of a memory connection. */
class MemRoute implements Route, Subscription {
  readonly subject: string;
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly #connection: MemoryBus;
  readonly #receive: (delivery: Delivery) => Promise<void>;
  readonly #serial: boolean;
  readonly #work = new SerialQueue();
  readonly #inFlight = new InFlight();
  #active = true;
  dropped = false;

  constructor(
    connection: MemoryBus,
    pattern: string,
    queue: string | undefined,
    serial: boolean,
    receive: (delivery: Delivery) => Promise<void>,
  ) {
    this.#connection = connection;
    this.subject = pattern;
    this.pattern = pattern;
    this.queue = queue;
    this.#serial = serial;
    this.#receive = receive;
  }

  receive(delivery: Delivery): void {
    const run = async (): Promise<void> => {
      if (!this.dropped) await this.#receive(delivery);
    };
    if (this.#serial) this.#work.push(run);
    else this.#inFlight.track(Promise.resolve().then(run));
  }

  /** Stops routing here; pending messages are still handled. */
  detach(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#connection.broker.removeRoute(this);
  }

  idle(): Promise<void> {
    return Promise.all([this.#work.idle(), this.#inFlight.allSettled()]).then(() => undefined);
  }

  async unsubscribe(): Promise<void> {
    this.detach();
    this.#connection.forgetRoute(this);
    await this.idle();
  }
}

class MemPuller implements Puller {
  readonly connection: MemoryBus;
  readonly consumer: MemConsumer;
  readonly inFlight = new InFlight();
  readonly #handler: JobHandler;
  readonly #options: ResolvedConsumeOptions;
  #active = 0;
  #stopped = false;

  constructor(
    connection: MemoryBus,
    consumer: MemConsumer,
    handler: JobHandler,
    options: ResolvedConsumeOptions,
  ) {
    this.connection = connection;
    this.consumer = consumer;
    this.#handler = handler;
    this.#options = options;
  }

  capacity(): number {
    return this.#stopped || !this.connection.accepting() ? 0 : this.#options.concurrency - this.#active;
  }

  take(job: DeliveredJob): void {
    this.#active++;
    const work = Promise.resolve()
      .then(() =>
        runJob(SYSTEM, job, this.#handler, this.#options, this.consumer.name, this.connection.onEvent),
      )
      .finally(() => {
        this.#active--;
        if (!this.#stopped) this.consumer.pump();
      });
    this.inFlight.track(work);
  }

  halt(): void {
    this.#stopped = true;
    this.consumer.detach(this);
  }

  async stop(): Promise<void> {
    this.halt();
    this.connection.forgetPuller(this);
    await this.inFlight.allSettled();
  }
}

/** A connection to the in-process broker. */
class MemoryBus implements Bus {
  readonly name: string;
  readonly broker: Broker;
  readonly onEvent: BusEventHandler | undefined;
  #state: BusState = BusState.Connected;
  #closing: Promise<void> | undefined;
  readonly #routes = new Set<MemRoute>();
  readonly #pullers = new Set<MemPuller>();
  readonly #watchers = new Set<{ readonly bucket: MemBucket; readonly watcher: MemWatcher }>();
  readonly #requests = new Set<(error: Error) => void>();

  constructor(broker: Broker, name: string, onEvent: BusEventHandler | undefined) {
    this.broker = broker;
    this.name = name;
    this.onEvent = onEvent;
  }

  /** True while new work may be started. */
  accepting(): boolean {
    return this.#state === BusState.Connected;
  }

  /** True while acks and naks still reach the broker (also during a graceful close). */
  canSettle(): boolean {
    return this.#state !== BusState.Closed;
  }

  assertOpen(): void {
    if (this.#state !== BusState.Connected) throw closedError(this.name);
  }

  forgetRoute(route: MemRoute): void {
    this.#routes.delete(route);
  }

  forgetPuller(puller: MemPuller): void {
    this.#pullers.delete(puller);
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    this.assertOpen();
    assertSubject(subject);
    assertHeaders(options.headers);
    const send = startSend(SYSTEM, 'publish', subject, options.headers, {
      'messaging.message.body.size': data.byteLength,
    });
    try {
      assertPayloadSize(subject, data, send.headers, this.broker.maxPayloadBytes);
      this.broker.route({ subject, data, headers: send.headers });
      send.end();
    } catch (error) {
      send.end(error);
      throw error;
    }
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    try {
      return Promise.resolve(this.#subscribe(subject, handler, options));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  #subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions): Subscription {
    this.assertOpen();
    assertSubjectPattern(subject);
    if (options.queue !== undefined) assertSubject(options.queue);
    const attributes: Record<string, string> =
      options.queue === undefined ? {} : { 'messaging.consumer.group.name': options.queue };
    const route = new MemRoute(this, subject, options.queue, true, (d) =>
      deliverMessage(SYSTEM, toMessage(d), handler, attributes, this.onEvent),
    );
    this.#routes.add(route);
    this.broker.addRoute(route);
    return route;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions = {}): Promise<BusMessage> {
    this.assertOpen();
    assertSubject(subject);
    assertHeaders(options.headers);
    const timeoutMs = requestTimeoutMs(options);
    const send = startSend(SYSTEM, 'request', subject, options.headers, {
      'messaging.message.body.size': data.byteLength,
    });
    try {
      assertPayloadSize(subject, data, send.headers, this.broker.maxPayloadBytes);
      const reply = await new Promise<Reply>((resolve, reject) => {
        let done = false;
        const fail = (error: Error): void => {
          finish();
          reject(error);
        };
        const timer = setTimeout(() => {
          fail(timeoutError(subject, timeoutMs));
        }, timeoutMs);
        const finish = (): void => {
          done = true;
          clearTimeout(timer);
          this.#requests.delete(fail);
        };
        this.#requests.add(fail);
        const receivers = this.broker.route({
          subject,
          data,
          headers: send.headers,
          respond: (r) => {
            if (done) return;
            finish();
            resolve(r);
          },
        });
        if (receivers === 0) fail(noRespondersError(subject));
      });
      const headers = reply.headers ?? {};
      const error = errorOfReply(headers);
      if (error !== undefined) throw error;
      send.end();
      return { subject, data: reply.data.slice(), headers: { ...headers } };
    } catch (error) {
      send.end(error);
      throw error;
    }
  }

  serve(subject: string, handler: RequestHandler, options: ServeOptions = {}): Promise<Subscription> {
    try {
      return Promise.resolve(this.#serve(subject, handler, options));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  #serve(subject: string, handler: RequestHandler, options: ServeOptions): Subscription {
    this.assertOpen();
    assertSubjectPattern(subject);
    const queue = options.queue === false ? undefined : (options.queue ?? DEFAULT_RESPONDER_QUEUE);
    if (queue !== undefined) assertSubject(queue);
    const route = new MemRoute(this, subject, queue, false, async (d) => {
      const respond = d.respond;
      // Like a NATS service, a responder ignores messages that expect no reply.
      if (respond === undefined) return;
      const reply = await answer(SYSTEM, toMessage(d), handler, this.broker.maxPayloadBytes, this.onEvent);
      if (this.canSettle()) respond(reply);
    });
    this.#routes.add(route);
    this.broker.addRoute(route);
    return route;
  }

  workQueue(definition: WorkQueueDefinition): Promise<WorkQueue> {
    try {
      this.assertOpen();
      assertWorkQueueDefinition(definition);
      const stream = this.broker.ensureStream(definition);
      return Promise.resolve(new MemWorkQueue(this, stream, definition));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  startConsumer(
    stream: MemStream,
    definition: WorkQueueDefinition,
    handler: JobHandler,
    options: ConsumeOptions | undefined,
  ): WorkConsumer {
    this.assertOpen();
    const resolved = resolveConsumeOptions(options);
    const consumer = stream.ensureConsumer(definition.consumer, definition.subject, resolved);
    const puller = new MemPuller(this, consumer, handler, resolved);
    this.#pullers.add(puller);
    consumer.attach(puller);
    return { stop: () => puller.stop() };
  }

  kv(bucket: string, options: KvOptions = {}): Promise<KeyValueStore> {
    try {
      this.assertOpen();
      assertResourceName('bucket', bucket);
      assertNumberOption('ttlMs', options.ttlMs, 1);
      return Promise.resolve(new MemKvStore(this, this.broker.ensureBucket(bucket, options.ttlMs)));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  addWatcher(bucket: MemBucket, watcher: MemWatcher): void {
    bucket.watchers.add(watcher);
    this.#watchers.add({ bucket, watcher });
  }

  async removeWatcher(bucket: MemBucket, watcher: MemWatcher): Promise<void> {
    watcher.stop();
    bucket.watchers.delete(watcher);
    for (const w of this.#watchers) if (w.watcher === watcher) this.#watchers.delete(w);
    await watcher.queue.idle();
  }

  status(): BusStatus {
    return { name: this.name, transport: 'memory', state: this.#state };
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.gracePeriodMs ?? DEFAULT_CLOSE_GRACE_MS);
    return this.#closing;
  }

  async #close(gracePeriodMs: number): Promise<void> {
    assertNumberOption('gracePeriodMs', gracePeriodMs, 0);
    this.#state = BusState.Closing;
    for (const route of this.#routes) route.detach();
    for (const puller of this.#pullers) puller.halt();
    for (const { bucket, watcher } of this.#watchers) {
      watcher.stop();
      bucket.watchers.delete(watcher);
    }
    if (gracePeriodMs > 0) {
      const work = Promise.all([
        ...[...this.#routes].map((r) => r.idle()),
        ...[...this.#pullers].map((p) => p.inFlight.allSettled()),
        ...[...this.#watchers].map((w) => w.watcher.queue.idle()),
      ]);
      await within(work, gracePeriodMs);
    }
    this.#state = BusState.Closed;
    for (const route of this.#routes) route.dropped = true;
    for (const { watcher } of this.#watchers) watcher.dropped = true;
    for (const fail of [...this.#requests]) fail(closedError(this.name));
    this.#routes.clear();
    this.#pullers.clear();
    this.#watchers.clear();
    this.broker.disconnected(this);
    emit(this.onEvent, {
      kind: BusEventKind.Closed,
      level: 'info',
      message: `Bus connection ${this.name} closed`,
    });
  }
}

function toMessage(d: Delivery): BusMessage {
  return { subject: d.subject, data: d.data, headers: d.headers };
}

class MemWorkQueue implements WorkQueue {
  readonly definition: WorkQueueDefinition;
  readonly #connection: MemoryBus;
  readonly #stream: MemStream;

  constructor(connection: MemoryBus, stream: MemStream, definition: WorkQueueDefinition) {
    this.#connection = connection;
    this.#stream = stream;
    this.definition = definition;
  }

  enqueue(data: Uint8Array, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    try {
      this.#connection.assertOpen();
      assertHeaders(options.headers);
      assertMsgId(options.msgId);
      const subject = this.definition.subject;
      const send = startSend(SYSTEM, 'publish', subject, options.headers, {
        'messaging.message.body.size': data.byteLength,
        ...(options.msgId === undefined ? {} : { 'messaging.message.id': options.msgId }),
      });
      const sized =
        options.msgId === undefined ? send.headers : { ...send.headers, 'Nats-Msg-Id': options.msgId };
      try {
        assertPayloadSize(subject, data, sized, this.#connection.broker.maxPayloadBytes);
        const result = this.#stream.append(subject, data.slice(), send.headers, options.msgId);
        send.end();
        return Promise.resolve(result);
      } catch (error) {
        send.end(error);
        throw error;
      }
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  consume(handler: JobHandler, options?: ConsumeOptions): Promise<WorkConsumer> {
    try {
      return Promise.resolve(this.#connection.startConsumer(this.#stream, this.definition, handler, options));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }
}

class MemKvStore implements KeyValueStore {
  readonly bucket: string;
  readonly #connection: MemoryBus;
  readonly #bucket: MemBucket;

  constructor(connection: MemoryBus, bucket: MemBucket) {
    this.#connection = connection;
    this.#bucket = bucket;
    this.bucket = bucket.name;
  }

  #write(key: string, value: Uint8Array, operation: KvOperation, expect: KvExpectation): Promise<number> {
    try {
      this.#connection.assertOpen();
      assertKey(key);
      if (expect.kind === 'revision') assertNumberOption('revision', expect.revision, 1);
      assertPayloadSize(key, value, undefined, this.#connection.broker.maxPayloadBytes);
      return Promise.resolve(this.#bucket.write(key, value, operation, expect));
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  get(key: string): Promise<KvEntry | undefined> {
    try {
      this.#connection.assertOpen();
      assertKey(key);
      const record = this.#bucket.latest(key);
      return Promise.resolve(record?.operation === KvOperation.Put ? toEntry(record) : undefined);
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.#write(key, value, KvOperation.Put, { kind: 'absent' });
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.#write(key, value, KvOperation.Put, { kind: 'revision', revision });
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.#write(key, value, KvOperation.Put, { kind: 'any' });
  }

  async delete(key: string, options: { readonly revision?: number } = {}): Promise<void> {
    const expect: KvExpectation =
      options.revision === undefined ? { kind: 'any' } : { kind: 'revision', revision: options.revision };
    await this.#write(key, new Uint8Array(0), KvOperation.Delete, expect);
  }

  async keys(filter = '>'): Promise<string[]> {
    return (await this.entries(filter)).map((e) => e.key);
  }

  entries(filter = '>'): Promise<KvEntry[]> {
    try {
      this.#connection.assertOpen();
      assertKeyFilter(filter);
      const live = this.#bucket
        .records()
        .filter((r) => r.operation === KvOperation.Put && subjectMatches(filter, r.key))
        .map(toEntry)
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return Promise.resolve(live);
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }

  watch(handler: KvWatchHandler, options: KvWatchOptions = {}): Promise<KvWatch> {
    try {
      this.#connection.assertOpen();
      const pattern = options.key ?? '>';
      assertKeyFilter(pattern);
      const watcher = new MemWatcher(pattern, handler, this.#connection.onEvent);
      if (options.initialValues ?? true) {
        for (const record of this.#bucket.records()) watcher.offer(record);
      }
      this.#connection.addWatcher(this.#bucket, watcher);
      return Promise.resolve({ stop: () => this.#connection.removeWatcher(this.#bucket, watcher) });
    } catch (error) {
      return Promise.reject(asRunplaneError(error));
    }
  }
}
