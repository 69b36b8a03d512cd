import {
  NatsErrorHeader,
  UserError,
  asRunplaneError,
  fromNatsErrorHeaders,
  toNatsErrorHeaders,
  type RunplaneError,
} from '@runplane/errors';
import type {
  BusEvent,
  BusEventHandler,
  BusMessage,
  ConsumeOptions,
  Job,
  JobHandler,
  MessageHeaders,
  Reply,
  RequestHandler,
  RequestOptions,
  WorkQueueDefinition,
} from './bus.js';
import { BusEventKind } from './bus.js';
import { BusErrorCode, invalidArgument } from './errors.js';
import { runHandler, type MessagingSystem } from './tracing.js';
import {
  assertHeaders,
  assertNumberOption,
  assertPayloadSize,
  assertResourceName,
  assertSubject,
  assertSubjectPattern,
  subjectMatches,
} from './validate.js';

// What both implementations share beyond the interface: option defaults, job settling
// and retry policy, ordered handler queues and waiting for work in progress. Keeping it
// here is what stops the in-process bus from drifting from the NATS one.

/** Default ack wait of a consumer (NATS's own default). */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Default request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** The default maximum payload, as a NATS server has it (1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Default grace period of {@link Bus.close}. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;

/** Consume options with defaults applied. */
export interface ResolvedConsumeOptions {
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly concurrency: number;
}

/** Applies defaults and checks the options of `consume`. */
export function resolveConsumeOptions(options: ConsumeOptions = {}): ResolvedConsumeOptions {
  const { ackWaitMs = DEFAULT_ACK_WAIT_MS, maxDeliver = -1, backoffMs = [], concurrency = 1 } = options;
  assertNumberOption('ackWaitMs', ackWaitMs, 1);
  if (maxDeliver !== -1) assertNumberOption('maxDeliver', maxDeliver, 1);
  assertNumberOption('concurrency', concurrency, 1);
  if (!Number.isInteger(maxDeliver) || !Number.isInteger(concurrency)) {
    throw invalidArgument(BusErrorCode.InvalidOption, 'maxDeliver and concurrency must be integers', {
      maxDeliver,
      concurrency,
    });
  }
  backoffMs.forEach((ms, i) => {
    assertNumberOption(`backoffMs[${i}]`, ms, 0);
  });
  return { ackWaitMs, maxDeliver, backoffMs: [...backoffMs], concurrency };
}

/** Checks a work-queue definition before any server sees it. */
export function assertWorkQueueDefinition(def: WorkQueueDefinition): void {
  assertResourceName('stream', def.stream);
  assertResourceName('consumer', def.consumer);
  assertSubject(def.subject);
  if (def.streamSubjects.length === 0) {
    throw invalidArgument(BusErrorCode.InvalidOption, `Stream ${def.stream} needs at least one subject`, {
      stream: def.stream,
    });
  }
  def.streamSubjects.forEach(assertSubjectPattern);
  if (!def.streamSubjects.some((p) => subjectMatches(p, def.subject))) {
    throw invalidArgument(
      BusErrorCode.InvalidOption,
      `Subject ${def.subject} is not captured by stream ${def.stream}`,
      { stream: def.stream, subject: def.subject },
    );
  }
  assertNumberOption('duplicateWindowMs', def.duplicateWindowMs, 1);
  assertNumberOption('maxAgeMs', def.maxAgeMs, 1);
}

/** The delay before redelivering a job whose n-th delivery failed. */
export function retryDelayMs(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1] ?? 0;
}

/** Reports an event without letting a faulty listener break the bus. */
export function emit(onEvent: BusEventHandler | undefined, event: BusEvent): void {
  try {
    onEvent?.(event);
  } catch {
    // A listener that throws must not take a subscription or a consumer down with it.
  }
}

/** The transport side of a delivered job: how to settle it. */
export interface JobSettlement {
  ack(): void;
  nak(delayMs: number): void;
  term(): void;
  working(): void;
}

/** The fields of a delivered job. */
export interface JobFields {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  readonly msgId: string | undefined;
  readonly sequence: number;
  readonly deliveryCount: number;
}

/** A {@link Job} that settles at most once; settling is delegated to the transport. */
export class DeliveredJob implements Job {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  readonly msgId: string | undefined;
  readonly sequence: number;
  readonly deliveryCount: number;
  #settled = false;
  readonly #settlement: JobSettlement;

  constructor(fields: JobFields, settlement: JobSettlement) {
    this.subject = fields.subject;
    this.data = fields.data;
    this.headers = fields.headers;
    this.msgId = fields.msgId;
    this.sequence = fields.sequence;
    this.deliveryCount = fields.deliveryCount;
    this.#settlement = settlement;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): void {
    if (this.#settle()) this.#settlement.ack();
  }

  nak(delayMs = 0): void {
    assertNumberOption('delayMs', delayMs, 0);
    if (this.#settle()) this.#settlement.nak(delayMs);
  }

  term(): void {
    if (this.#settle()) this.#settlement.term();
  }

  working(): void {
    if (!this.#settled) this.#settlement.working();
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}

/**
 * Runs a job handler in its span and applies the settling policy: unsettled after
 * success → ack; after a failure → nak with the backoff delay, or term on the last
 * delivery (a job at `maxDeliver` would otherwise stay in the stream for good).
 */
export async function runJob(
  system: MessagingSystem,
  job: DeliveredJob,
  handler: JobHandler,
  options: ResolvedConsumeOptions,
  consumer: string,
  onEvent: BusEventHandler | undefined,
): Promise<void> {
  try {
    await runHandler(
      system,
      'consumer',
      job.subject,
      job.headers,
      {
        'messaging.consumer.group.name': consumer,
        'messaging.message.body.size': job.data.byteLength,
        ...(job.msgId === undefined ? {} : { 'messaging.message.id': job.msgId }),
      },
      () => handler(job),
    );
    if (!job.settled) job.ack();
  } catch (error) {
    emit(onEvent, {
      kind: BusEventKind.HandlerFailed,
      level: 'error',
      message: `Job ${job.sequence} on ${job.subject} failed (delivery ${job.deliveryCount})`,
      subject: job.subject,
      error: asRunplaneError(error),
    });
    if (!job.settled) {
      if (options.maxDeliver > 0 && job.deliveryCount >= options.maxDeliver) job.term();
      else job.nak(retryDelayMs(options.backoffMs, job.deliveryCount));
    }
  }
}

/** Runs tasks one at a time in the order pushed. */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  get pending(): number {
    return this.#pending;
  }

  push(task: () => Promise<void>): void {
    this.#pending++;
    // A task reports its own failures; the chain must survive one that slips through.
    this.#tail = this.#tail
      .then(task)
      .catch(() => undefined)
      .finally(() => {
        this.#pending--;
      });
  }

  /** Resolves when every task pushed so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }
}

/** Tracks promises in progress so that shutdown can wait for them. */
export class InFlight {
  readonly #running = new Set<Promise<void>>();
  #waiters: (() => void)[] = [];

  get size(): number {
    return this.#running.size;
  }

  track(work: Promise<void>): void {
    const tracked = work.finally(() => {
      this.#running.delete(tracked);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
    this.#running.add(tracked);
  }

  /** Resolves when one tracked promise settles (or at once when none runs). */
  oneSettled(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when everything tracked (now and later) has settled. */
  async allSettled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}

/** Waits for `work` at most `ms`; true when it finished in time. Never rejects. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true as const,
        () => true as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise that resolves after `ms`, or earlier when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The timeout of a request, checked. */
export function requestTimeoutMs(options: RequestOptions | undefined): number {
  const timeoutMs = options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  assertNumberOption('timeoutMs', timeoutMs, 1);
  return timeoutMs;
}

/**
 * Runs a responder in its SERVER span and turns the outcome into the reply to send: the
 * handler's data and headers, or a service error reply. A reply too large for the server
 * becomes an error reply too. Caller errors (UserError) are the requester's business;
 * anything else is also reported as an event.
 */
export async function answer(
  system: MessagingSystem,
  request: BusMessage,
  handler: RequestHandler,
  maxPayloadBytes: number,
  onEvent: BusEventHandler | undefined,
): Promise<Reply> {
  try {
    const result = await runHandler(
      system,
      'server',
      request.subject,
      request.headers,
      { 'messaging.message.body.size': request.data.byteLength },
      () => handler(request),
    );
    const reply: Reply = result instanceof Uint8Array ? { data: result } : result;
    assertHeaders(reply.headers);
    assertPayloadSize(request.subject, reply.data, reply.headers, maxPayloadBytes);
    return reply;
  } catch (error) {
    if (!(error instanceof UserError)) {
      emit(onEvent, {
        kind: BusEventKind.HandlerFailed,
        level: 'error',
        message: `Responder on ${request.subject} failed`,
        subject: request.subject,
        error: asRunplaneError(error),
      });
    }
    return { data: new Uint8Array(0), headers: toNatsErrorHeaders(error) };
  }
}

/** The error a reply carries, when it is a service error reply. */
export function errorOfReply(headers: MessageHeaders): RunplaneError | undefined {
  if (headers[NatsErrorHeader.Code] === undefined && headers[NatsErrorHeader.Message] === undefined) {
    return undefined;
  }
  return fromNatsErrorHeaders((name) => headers[name]);
}

/** Runs a subscription handler in its CONSUMER span, reporting a failure as an event. */
export async function deliverMessage(
  system: MessagingSystem,
  message: BusMessage,
  handler: (message: BusMessage) => void | Promise<void>,
  attributes: Readonly<Record<string, string | number>>,
  onEvent: BusEventHandler | undefined,
): Promise<void> {
  try {
    await runHandler(system, 'consumer', message.subject, message.headers, attributes, () =>
      handler(message),
    );
  } catch (error) {
    emit(onEvent, {
      kind: BusEventKind.HandlerFailed,
      level: 'error',
      message: `Handler of ${message.subject} failed`,
      subject: message.subject,
      error: asRunplaneError(error),
    });
  }
}
