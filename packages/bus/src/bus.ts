import type { RunplaneError } from '@runplane/errors';

/**
 * Message headers. Names are case-sensitive as sent; names starting with `Nats-` are
 * reserved for the transport. The W3C trace context (`traceparent`, `tracestate`) is
 * added on send and is visible to handlers.
 */
export type MessageHeaders = Readonly<Record<string, string>>;

/** A message as a handler receives it. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
}

/** Options of {@link Bus.publish}. */
export interface PublishOptions {
  readonly headers?: MessageHeaders;
}

/** Options of {@link Bus.subscribe}. */
export interface SubscribeOptions {
  /**
   * Queue group: of all subscriptions with the same group on a matching subject, only
   * one receives each message. Without a group every subscription receives every message.
   */
  readonly queue?: string;
}

/**
 * Handles one message of a subscription. Messages of one subscription are handled one
 * at a time, in the order they arrived; a thrown error is reported through
 * {@link BusEventHandler} and the next message is handled.
 */
export type MessageHandler = (message: BusMessage) => void | Promise<void>;

/** A live subscription or responder. */
export interface Subscription {
  readonly subject: string;
  /** Stops receiving; resolves when the messages already received have been handled. Idempotent. */
  unsubscribe(): Promise<void>;
}

/** Options of {@link Bus.request}. */
export interface RequestOptions {
  /** How long to wait for a reply. Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly headers?: MessageHeaders;
}

/** A reply with headers, as a {@link RequestHandler} may return it. */
export interface Reply {
  readonly data: Uint8Array;
  readonly headers?: MessageHeaders;
}

/**
 * Answers one request. Requests are handled concurrently. A thrown error becomes a NATS
 * service error reply (`Nats-Service-Error` headers), which {@link Bus.request} rethrows
 * as the same Runplane error (class, code, status and details).
 */
export type RequestHandler = (request: BusMessage) => Uint8Array | Reply | Promise<Uint8Array | Reply>;

/** Options of {@link Bus.serve}. */
export interface ServeOptions {
  /**
   * Queue group, so that replicas of a service share the requests. Default
   * {@link DEFAULT_RESPONDER_QUEUE}; `false` makes every responder answer every request
   * (the first reply wins).
   */
  readonly queue?: string | false;
}

/**
 * A durable work queue: a JetStream stream with work-queue retention and one durable
 * pull consumer, shared by every process that consumes it. Get one from
 * `busNames().workQueues`; nothing else should build these.
 */
export interface WorkQueueDefinition {
  /** Stream name (no dots; uppercase by convention). */
  readonly stream: string;
  /** Subjects the stream captures; must cover {@link subject}. Every definition of one stream must agree. */
  readonly streamSubjects: readonly string[];
  /** The subject jobs of this queue are sent to (no wildcards). */
  readonly subject: string;
  /** Durable consumer name of this queue. */
  readonly consumer: string;
  /** How long a message id is remembered for de-duplication. */
  readonly duplicateWindowMs: number;
  /** Jobs older than this are dropped, delivered or not. Default: kept until acknowledged. */
  readonly maxAgeMs?: number;
}

/** Options of {@link WorkQueue.enqueue}. */
export interface EnqueueOptions {
  /**
   * De-duplication id: a second job with the same id within the stream's duplicate
   * window is not stored, and the result says `duplicate: true` — also after the first
   * job was consumed.
   */
  readonly msgId?: string;
  readonly headers?: MessageHeaders;
}

/** What the stream did with an enqueued job. */
export interface EnqueueResult {
  /** Stream sequence of the job; for a duplicate, the sequence of the original. */
  readonly sequence: number;
  readonly duplicate: boolean;
}

/**
 * One delivery of a job. Settle it once with {@link ack}, {@link nak} or {@link term}; a
 * job left unsettled when its handler returns is acknowledged, and one whose handler
 * throws is redelivered after the consumer's backoff (or terminated on its last
 * delivery). Settling after the connection closed does nothing: the job is redelivered
 * after the ack wait, as if the process had died.
 */
export interface Job {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  /** The de-duplication id the job was enqueued with, if any. */
  readonly msgId: string | undefined;
  /** Stream sequence; equal across redeliveries. */
  readonly sequence: number;
  /** 1 on the first delivery, 2 on the first redelivery, and so on. */
  readonly deliveryCount: number;
  /** Done: removes the job from the queue. */
  ack(): void;
  /** Failed: redeliver now, or after `delayMs`. */
  nak(delayMs?: number): void;
  /** Failed for good: never redeliver (dead-lettering is the caller's, using {@link deliveryCount}). */
  term(): void;
  /** Still working: restarts the ack-wait timer, so a long job is not redelivered. */
  working(): void;
}

/** Handles one job delivery. */
export type JobHandler = (job: Job) => void | Promise<void>;

/** Options of {@link WorkQueue.consume}; they configure the shared durable consumer (last writer wins). */
export interface ConsumeOptions {
  /** How long a delivered job may stay unsettled before it is redelivered. Default 30000 ms. */
  readonly ackWaitMs?: number;
  /** Deliveries after which a job is no longer redelivered. Default unlimited (-1). */
  readonly maxDeliver?: number;
  /**
   * Delays before redelivering a job whose handler threw: the n-th failed delivery waits
   * `backoffMs[min(n, length) - 1]`. Default: redeliver at once. Does not change
   * {@link ackWaitMs}, which alone governs jobs whose consumer went silent.
   */
  readonly backoffMs?: readonly number[];
  /** Jobs this process handles at once; no more than this many are taken from the queue. Default 1. */
  readonly concurrency?: number;
}

/** A running consumer of a work queue. */
export interface WorkConsumer {
  /** Takes no new jobs; resolves when the jobs in hand have been handled. Idempotent. */
  stop(): Promise<void>;
}

/** A durable work queue (at-least-once). */
export interface WorkQueue {
  readonly definition: WorkQueueDefinition;
  enqueue(data: Uint8Array, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Starts consuming with the queue's durable consumer; competing consumers share the jobs. */
  consume(handler: JobHandler, options?: ConsumeOptions): Promise<WorkConsumer>;
}

/** Options of {@link Bus.kv}. */
export interface KvOptions {
  /**
   * Bucket TTL: an entry disappears this long after its last write (no watch event is
   * emitted). Applies to the whole bucket; per-key TTLs are not supported. A new bucket
   * without it keeps entries for good; an existing bucket is reconfigured when given
   * another TTL, and keeps its own when this is left out (so an observer opening the
   * bucket cannot switch lease expiry off).
   */
  readonly ttlMs?: number;
}

/** A stored value. */
export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of this write; revisions increase across the whole bucket. */
  readonly revision: number;
  readonly created: Date;
}

/** Operations a watch reports. */
export const KvOperation = {
  Put: 'put',
  Delete: 'delete',
} as const;
export type KvOperation = (typeof KvOperation)[keyof typeof KvOperation];

/** A change seen by a watch. For a delete, `value` is empty. */
export interface KvWatchEvent {
  readonly key: string;
  readonly value: Uint8Array;
  readonly revision: number;
  readonly operation: KvOperation;
  readonly created: Date;
}

/** Options of {@link KeyValueStore.watch}. */
export interface KvWatchOptions {
  /** Keys to watch; `*` and `>` as in subjects. Default all (`>`). */
  readonly key?: string;
  /** Report the latest entry of every matching key first (including deletes), then changes. Default true. */
  readonly initialValues?: boolean;
}

/**
 * Handles one watch event; events of one watch are handled one at a time, in revision
 * order. Only the latest revision of a key is kept, so a watch that has not yet read a
 * value may skip it when it is overwritten; it always ends at the latest state.
 */
export type KvWatchHandler = (event: KvWatchEvent) => void | Promise<void>;

/** A running watch. */
export interface KvWatch {
  stop(): Promise<void>;
}

/**
 * A key-value bucket (NATS KV semantics): every write gets a new revision, `create` and
 * `update` are compare-and-set, and the bucket TTL expires entries silently.
 */
export interface KeyValueStore {
  readonly bucket: string;
  /** The live entry, or undefined when the key is absent, deleted or expired. */
  get(key: string): Promise<KvEntry | undefined>;
  /** Writes only if the key is absent (or deleted or expired); else {@link BusErrorCode.KvConflict}. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if the key's latest revision is `revision`; else `KV_CONFLICT`. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  /** Writes unconditionally. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Deletes (leaves a delete marker); with `revision`, only if the key is at that revision. */
  delete(key: string, options?: { readonly revision?: number }): Promise<void>;
  /** Keys of live entries, optionally matching a filter (`*`, `>`), sorted. */
  keys(filter?: string): Promise<string[]>;
  /** Live entries, optionally matching a filter, sorted by key. */
  entries(filter?: string): Promise<KvEntry[]>;
  watch(handler: KvWatchHandler, options?: KvWatchOptions): Promise<KvWatch>;
}

/** Connection states. */
export const BusState = {
  Connected: 'connected',
  /** Lost the server; reconnecting. Operations wait or fail with `BUS_UNAVAILABLE`/`BUS_TIMEOUT`. */
  Reconnecting: 'reconnecting',
  Closing: 'closing',
  Closed: 'closed',
} as const;
export type BusState = (typeof BusState)[keyof typeof BusState];

/** A snapshot of a connection. */
export interface BusStatus {
  readonly name: string;
  readonly transport: 'nats' | 'memory';
  readonly state: BusState;
  /** The server connected to, for NATS. */
  readonly server?: string;
}

/** Things a service may want to log; the bus itself logs nothing. */
export const BusEventKind = {
  Disconnected: 'disconnected',
  Reconnected: 'reconnected',
  /** The server reported an error, went into lame-duck mode, or the connection went stale. */
  ServerWarning: 'server-warning',
  /** A subscription, responder, watch or job handler threw. */
  HandlerFailed: 'handler-failed',
  /** A work-queue consumer could not fetch jobs; it retries. */
  ConsumerFailed: 'consumer-failed',
  Closed: 'closed',
} as const;
export type BusEventKind = (typeof BusEventKind)[keyof typeof BusEventKind];

/** One reportable event. */
export interface BusEvent {
  readonly kind: BusEventKind;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly subject?: string;
  readonly error?: RunplaneError;
}

/** Receives {@link BusEvent}s; must not throw. */
export type BusEventHandler = (event: BusEvent) => void;

/** Options of {@link Bus.close}. */
export interface CloseOptions {
  /**
   * How long to wait for handlers in progress before closing anyway. Jobs not settled by
   * then are redelivered after their ack wait. 0 closes at once, like a crash. Default 10000 ms.
   */
  readonly gracePeriodMs?: number;
}

/**
 * One connection to the message bus: pub/sub, request/reply, durable work queues and
 * KV. Implemented over NATS ({@link connectNats}) and in process
 * ({@link createMemoryBroker}) with the same behaviour; subjects and names come from
 * {@link busNames}. Every send injects the active OpenTelemetry trace context into the
 * headers, and every handler runs in a span continuing it.
 */
export interface Bus {
  readonly name: string;
  /** Sends a message to every matching subscription (one per queue group). Throws `BUS_CLOSED` when closed. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  /** Subscribes; resolves once the server knows, so a message published after that is received. */
  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Promise<Subscription>;
  /**
   * Sends a request and waits for the first reply. Fails with `BUS_NO_RESPONDERS` at once
   * when nobody listens, `BUS_TIMEOUT` after `timeoutMs`, or the responder's own error.
   */
  request(subject: string, data: Uint8Array, options?: RequestOptions): Promise<BusMessage>;
  /** Answers requests on a subject. */
  serve(subject: string, handler: RequestHandler, options?: ServeOptions): Promise<Subscription>;
  /** Opens a work queue, creating or reconciling its stream. */
  workQueue(definition: WorkQueueDefinition): Promise<WorkQueue>;
  /** Opens a KV bucket, creating or reconciling it. */
  kv(bucket: string, options?: KvOptions): Promise<KeyValueStore>;
  status(): BusStatus;
  /**
   * Closes gracefully: stops consumers and waits for handlers in progress (up to the
   * grace period), drains subscriptions and flushes what was sent. Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
}
