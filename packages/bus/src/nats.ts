import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Status, Subscription as NatsSubscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  BusEventKind,
  BusState,
  type Bus,
  type BusEventHandler,
  type BusMessage,
  type BusStatus,
  type CloseOptions,
  type KeyValueStore,
  type KvOptions,
  type MessageHandler,
  type PublishOptions,
  type RequestHandler,
  type RequestOptions,
  type ServeOptions,
  type SubscribeOptions,
  type Subscription,
  type WorkQueue,
  type WorkQueueDefinition,
} from './bus.js';
import { closedError, unavailableError } from './errors.js';
import { DEFAULT_RESPONDER_QUEUE } from './names.js';
import { openBucket, type NatsKvWatch } from './nats-kv.js';
import {
  ApiCode,
  NATS_SYSTEM,
  allHeaders,
  apiCode,
  fromNatsError,
  isNoResponders,
  toMsgHdrs,
  visibleHeaders,
  type NatsContext,
} from './nats-support.js';
import { NatsWorkQueue, ensureStream, type NatsWorkConsumer } from './nats-work-queue.js';
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  InFlight,
  answer,
  assertWorkQueueDefinition,
  deliverMessage,
  emit,
  errorOfReply,
  requestTimeoutMs,
  within,
} from './runtime.js';
import { startSend } from './tracing.js';
import {
  assertHeaders,
  assertNumberOption,
  assertPayloadSize,
  assertResourceName,
  assertSubject,
  assertSubjectPattern,
} from './validate.js';

/** Options of {@link connectNats}. */
export interface NatsBusOptions {
  /** Server URLs (`nats://host:4222`, `tls://...`). */
  readonly servers: string | readonly string[];
  /** Connection name shown by the server's monitoring, e.g. `gateway-7f9c`. */
  readonly name: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** How long the first connection attempt may take. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Keep trying when no server answers at start, instead of failing with
   * `BUS_UNAVAILABLE`. Default false: let the orchestrator restart the service.
   */
  readonly waitOnFirstConnect?: boolean;
  /** Timeout of JetStream API calls and of enqueue acknowledgements. Default 5000 ms. */
  readonly apiTimeoutMs?: number;
  /** How long one pull request of a work-queue consumer waits for jobs. Default 5000 ms, at least 1000. */
  readonly pullExpiresMs?: number;
  /** Replicas of streams and buckets this connection creates (1, 3 or 5). Default 1. */
  readonly streamReplicas?: number;
  /** First reconnect delay; doubles per failed attempt up to {@link reconnectMaxDelayMs}. Default 250 ms. */
  readonly reconnectDelayMs?: number;
  /** Longest reconnect delay. Default 5000 ms. */
  readonly reconnectMaxDelayMs?: number;
  /** Receives events worth logging; the bus logs nothing itself. */
  readonly onEvent?: BusEventHandler;
}

/**
 * Connects to NATS (with JetStream for work queues and KV). Once connected it reconnects
 * forever, with exponential backoff and jitter, reporting through `onEvent`. Fails with
 * `BUS_UNAVAILABLE` when no server can be reached at start.
 */
export async function connectNats(options: NatsBusOptions): Promise<Bus> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const baseDelayMs = options.reconnectDelayMs ?? 250;
  const maxDelayMs = options.reconnectMaxDelayMs ?? 5_000;
  const pullExpiresMs = options.pullExpiresMs ?? 5_000;
  const apiTimeoutMs = options.apiTimeoutMs ?? 5_000;
  const streamReplicas = options.streamReplicas ?? 1;
  assertNumberOption('connectTimeoutMs', connectTimeoutMs, 1);
  assertNumberOption('reconnectDelayMs', baseDelayMs, 1);
  assertNumberOption('reconnectMaxDelayMs', maxDelayMs, baseDelayMs);
  assertNumberOption('pullExpiresMs', pullExpiresMs, 1_000);
  assertNumberOption('apiTimeoutMs', apiTimeoutMs, 1);
  assertNumberOption('streamReplicas', streamReplicas, 1);
  const servers = typeof options.servers === 'string' ? [options.servers] : [...options.servers];
  let failedAttempts = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: options.name,
      user: options.user,
      pass: options.pass,
      token: options.token,
      timeout: connectTimeoutMs,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      maxReconnectAttempts: -1,
      reconnectTimeWait: baseDelayMs,
      reconnectDelayHandler: () => {
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failedAttempts, 16));
        failedAttempts++;
        return delay / 2 + Math.random() * (delay / 2);
      },
      pingInterval: 20_000,
      maxPingOut: 3,
    });
  } catch (err) {
    throw unavailableError(
      `Cannot connect to NATS at ${servers.join(', ')}`,
      { servers, connection: options.name },
      err,
    );
  }
  return new NatsBus(nc, options.name, {
    onEvent: options.onEvent,
    apiTimeoutMs,
    pullExpiresMs,
    streamReplicas,
    onReconnected: () => {
      failedAttempts = 0;
    },
  });
}

interface NatsBusSettings {
  readonly onEvent: BusEventHandler | undefined;
  readonly apiTimeoutMs: number;
  readonly pullExpiresMs: number;
  readonly streamReplicas: number;
  readonly onReconnected: () => void;
}

/** A subscription with the loop that handles its messages. */
class NatsRoute implements Subscription {
  readonly subject: string;
  readonly #sub: NatsSubscription;
  readonly #done: Promise<void>;
  #unsubscribing: Promise<void> | undefined;

  constructor(subject: string, sub: NatsSubscription, done: Promise<void>) {
    this.subject = subject;
    this.#sub = sub;
    this.#done = done;
  }

  unsubscribe(): Promise<void> {
    this.#unsubscribing ??= (async () => {
      try {
        await this.#sub.drain();
      } catch {
        // Closed already: nothing left to drain.
      }
      await this.#done;
    })();
    return this.#unsubscribing;
  }
}

class NatsBus implements Bus, NatsContext {
  readonly name: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly onEvent: BusEventHandler | undefined;
  readonly apiTimeoutMs: number;
  readonly pullExpiresMs: number;
  readonly streamReplicas: number;
  #jsm: Promise<JetStreamManager> | undefined;
  #state: BusState = BusState.Connected;
  #closing: Promise<void> | undefined;
  readonly #routes = new Set<NatsRoute>();
  readonly #consumers = new Set<NatsWorkConsumer>();
  readonly #watches = new Set<NatsKvWatch>();

  constructor(nc: NatsConnection, name: string, settings: NatsBusSettings) {
    this.nc = nc;
    this.name = name;
    this.onEvent = settings.onEvent;
    this.apiTimeoutMs = settings.apiTimeoutMs;
    this.pullExpiresMs = settings.pullExpiresMs;
    this.streamReplicas = settings.streamReplicas;
    this.js = jetstream(nc, { timeout: settings.apiTimeoutMs });
    void this.#watchStatus(settings.onReconnected);
  }

  async #watchStatus(onReconnected: () => void): Promise<void> {
    try {
      for await (const s of this.nc.status()) this.#report(s, onReconnected);
    } catch {
      // The status stream ends with the connection.
    }
  }

  #report(s: Status, onReconnected: () => void): void {
    switch (s.type) {
      case 'disconnect':
        if (this.#state === BusState.Connected) this.#state = BusState.Reconnecting;
        emit(this.onEvent, {
          kind: BusEventKind.Disconnected,
          level: 'warn',
          message: `Bus connection ${this.name} lost ${s.server}; reconnecting`,
        });
        break;
      case 'reconnect':
        onReconnected();
        if (this.#state === BusState.Reconnecting) this.#state = BusState.Connected;
        emit(this.onEvent, {
          kind: BusEventKind.Reconnected,
          level: 'info',
          message: `Bus connection ${this.name} reconnected to ${s.server}`,
        });
        break;
      case 'error':
        emit(this.onEvent, {
          kind: BusEventKind.ServerWarning,
          level: 'error',
          message: `NATS reported an error to ${this.name}: ${s.error.message}`,
          error: fromNatsError(s.error, { connection: this.name, subject: '' }),
        });
        break;
      case 'ldm':
        emit(this.onEvent, {
          kind: BusEventKind.ServerWarning,
          level: 'warn',
          message: `NATS server ${s.server} entered lame-duck mode; ${this.name} will move`,
        });
        break;
      case 'staleConnection':
        emit(this.onEvent, {
          kind: BusEventKind.ServerWarning,
          level: 'warn',
          message: `Bus connection ${this.name} went stale`,
        });
        break;
      case 'slowConsumer':
        emit(this.onEvent, {
          kind: BusEventKind.ServerWarning,
          level: 'warn',
          message: `Subscription on ${s.sub.getSubject()} of ${this.name} falls behind (${s.pending} pending)`,
          subject: s.sub.getSubject(),
        });
        break;
      case 'close':
        // Closed by the client itself, not by close(): e.g. the server rejected the credentials.
        if (this.#state !== BusState.Closing) this.#state = BusState.Closed;
        break;
      default:
        break;
    }
  }

  jsm(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.nc, { timeout: this.apiTimeoutMs, checkAPI: true }).catch(
      (err: unknown) => {
        this.#jsm = undefined;
        const code = apiCode(err);
        if (
          isNoResponders(err) ||
          code === ApiCode.JetStreamNotEnabled ||
          code === ApiCode.JetStreamNotEnabledForAccount
        ) {
          throw unavailableError(`JetStream is not enabled on the NATS server of ${this.name}`, {}, err);
        }
        throw fromNatsError(err, { connection: this.name, subject: '$JS.API', timeoutMs: this.apiTimeoutMs });
      },
    );
    return this.#jsm;
  }

  accepting(): boolean {
    return this.#state === BusState.Connected || this.#state === BusState.Reconnecting;
  }

  assertOpen(): void {
    if (!this.accepting() || this.nc.isClosed()) throw closedError(this.name);
  }

  maxPayloadBytes(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  #toMessage(m: Msg): BusMessage {
    return { subject: m.subject, data: m.data, headers: visibleHeaders(m.headers) };
  }

  async #registered(): Promise<void> {
    // The server must know of a subscription before a publish elsewhere can reach it.
    try {
      await this.nc.flush();
    } catch (err) {
      throw fromNatsError(err, { connection: this.name, subject: '' });
    }
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    this.assertOpen();
    assertSubject(subject);
    assertHeaders(options.headers);
    const send = startSend(NATS_SYSTEM, 'publish', subject, options.headers, {
      'messaging.message.body.size': data.byteLength,
    });
    try {
      assertPayloadSize(subject, data, send.headers, this.maxPayloadBytes());
      this.nc.publish(subject, data, { headers: toMsgHdrs(send.headers) });
      send.end();
    } catch (err) {
      const error = fromNatsError(err, { connection: this.name, subject });
      send.end(error);
      throw error;
    }
  }

  async subscribe(
    subject: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.assertOpen();
    assertSubjectPattern(subject);
    if (options.queue !== undefined) assertSubject(options.queue);
    const attributes: Record<string, string> =
      options.queue === undefined ? {} : { 'messaging.consumer.group.name': options.queue };
    let sub: NatsSubscription;
    try {
      sub = this.nc.subscribe(subject, options.queue === undefined ? {} : { queue: options.queue });
    } catch (err) {
      throw fromNatsError(err, { connection: this.name, subject });
    }
    const done = (async () => {
      try {
        for await (const m of sub) {
          await deliverMessage(NATS_SYSTEM, this.#toMessage(m), handler, attributes, this.onEvent);
        }
      } catch {
        // The connection closed under the subscription.
      }
    })();
    const route = new NatsRoute(subject, sub, done);
    this.#routes.add(route);
    void done.finally(() => this.#routes.delete(route));
    await this.#registered();
    return route;
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions = {}): Promise<BusMessage> {
    this.assertOpen();
    assertSubject(subject);
    assertHeaders(options.headers);
    const timeoutMs = requestTimeoutMs(options);
    const send = startSend(NATS_SYSTEM, 'request', subject, options.headers, {
      'messaging.message.body.size': data.byteLength,
    });
    try {
      assertPayloadSize(subject, data, send.headers, this.maxPayloadBytes());
      const reply = await this.nc.request(subject, data, {
        timeout: timeoutMs,
        headers: toMsgHdrs(send.headers),
      });
      const error = errorOfReply(allHeaders(reply.headers));
      if (error !== undefined) throw error;
      send.end();
      return { subject, data: reply.data, headers: visibleHeaders(reply.headers) };
    } catch (err) {
      const error = fromNatsError(err, { connection: this.name, subject, timeoutMs });
      send.end(error);
      throw error;
    }
  }

  async serve(subject: string, handler: RequestHandler, options: ServeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    assertSubjectPattern(subject);
    const queue = options.queue === false ? undefined : (options.queue ?? DEFAULT_RESPONDER_QUEUE);
    if (queue !== undefined) assertSubject(queue);
    const inFlight = new InFlight();
    let sub: NatsSubscription;
    try {
      sub = this.nc.subscribe(subject, {
        ...(queue === undefined ? {} : { queue }),
        callback: (err, m) => {
          // A responder ignores messages that expect no reply, like a NATS service.
          if (err !== null || m.reply === undefined) return;
          inFlight.track(
            (async () => {
              const reply = await answer(
                NATS_SYSTEM,
                this.#toMessage(m),
                handler,
                this.maxPayloadBytes(),
                this.onEvent,
              );
              try {
                m.respond(reply.data, { headers: toMsgHdrs(reply.headers) });
              } catch {
                // Closed meanwhile: the requester times out, as with a crashed responder.
              }
            })(),
          );
        },
      });
    } catch (err) {
      throw fromNatsError(err, { connection: this.name, subject });
    }
    const route = new NatsRoute(
      subject,
      sub,
      sub.closed.then(() => inFlight.allSettled()),
    );
    this.#routes.add(route);
    void sub.closed.finally(() => this.#routes.delete(route));
    await this.#registered();
    return route;
  }

  async workQueue(definition: WorkQueueDefinition): Promise<WorkQueue> {
    this.assertOpen();
    assertWorkQueueDefinition(definition);
    await ensureStream(this, definition);
    return new NatsWorkQueue(this, definition, (consumer) => {
      this.#consumers.add(consumer);
      void consumer.ended().finally(() => {
        void consumer.stop().finally(() => this.#consumers.delete(consumer));
      });
    });
  }

  async kv(bucket: string, options: KvOptions = {}): Promise<KeyValueStore> {
    this.assertOpen();
    assertResourceName('bucket', bucket);
    assertNumberOption('ttlMs', options.ttlMs, 1);
    return openBucket(this, bucket, options, this.#watches);
  }

  status(): BusStatus {
    return {
      name: this.name,
      transport: 'nats',
      state: this.#state,
      ...(this.nc.isClosed() ? {} : { server: this.nc.getServer() }),
    };
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.gracePeriodMs ?? DEFAULT_CLOSE_GRACE_MS);
    return this.#closing;
  }

  async #close(gracePeriodMs: number): Promise<void> {
    assertNumberOption('gracePeriodMs', gracePeriodMs, 0);
    const deadline = Date.now() + gracePeriodMs;
    this.#state = BusState.Closing;
    for (const consumer of this.#consumers) consumer.halt();
    for (const watch of this.#watches) watch.halt();
    if (gracePeriodMs > 0) {
      const handlers = Promise.all([
        ...[...this.#consumers].map((c) => c.stop()),
        ...[...this.#routes].map((r) => r.unsubscribe()),
        ...[...this.#watches].map((w) => w.idle()),
      ]);
      await within(handlers, gracePeriodMs);
      const left = deadline - Date.now();
      if (left > 0 && !this.nc.isClosed()) await within(this.nc.drain(), left);
    }
    for (const watch of this.#watches) watch.dropped = true;
    if (!this.nc.isClosed()) {
      try {
        await this.nc.close();
      } catch {
        // Already closing by itself.
      }
    }
    this.#state = BusState.Closed;
    emit(this.onEvent, {
      kind: BusEventKind.Closed,
      level: 'info',
      message: `Bus connection ${this.name} closed`,
    });
  }
}
