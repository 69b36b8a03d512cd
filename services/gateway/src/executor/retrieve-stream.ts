/**
 * The client side of `ExecutorService.RetrieveStream`: the gateway's retrieves, many at a time
 * over a few long-lived streams instead of one unary call each (a unary call costs grpc-js
 * about five times the CPU of a message on an open stream; see executor.proto).
 *
 * The calls made in one turn of the event loop leave together, as one message on one lane; the
 * turns go round robin over a few lanes (streams). Each lane is a call of its own on the
 * channel, so the channel's round-robin balancing spreads the lanes over the executor
 * replicas, and a lane takes new calls for a limited time only, so that replicas that come up
 * later get lanes too. A call keeps the deadline of its HTTP request. A lane that breaks or ends
 * with calls unanswered sends them once more on a fresh lane (retrieves only read); an executor
 * that does not know RetrieveStream gets unary calls from then on.
 */
import { status as GrpcStatus, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  ErrorStatus,
  OperationalError,
  UnexpectedError,
  deserializeError,
  fromGrpcError,
} from '@runplane/errors';
import type { executor } from '@runplane/proto';
import {
  SpanKind,
  context,
  injectTraceContext,
  recordError,
  trace,
  tracer,
  type Span,
} from '@runplane/telemetry';

const SERVICE = 'microflow-executor';
const SPAN_NAME = 'runplane.executor.v1.ExecutorService/Retrieve';
const streamTracer = tracer('runplane.gateway');

/** Where a call comes from: its request id, and when its HTTP request must be answered. */
export interface RetrieveOrigin {
  readonly requestId: string;
  readonly deadlineAtMs: number;
}

/** How the lanes behave. */
export interface RetrieveStreamOptions {
  /** Streams calls are spread over. */
  readonly lanes: number;
  /** How long a lane takes new calls before a fresh one replaces it. */
  readonly laneMaxAgeMs: number;
}

/** What the lanes need of the executor client. */
export interface RetrieveChannel {
  /** Opens a RetrieveStream call. */
  open(): ClientDuplexStream<executor.RetrieveCalls, executor.RetrieveAnswers>;
  /** A unary Retrieve, for executors without RetrieveStream. */
  unary(request: executor.RetrieveRequest, origin: RetrieveOrigin): Promise<executor.RetrieveResponse>;
}

interface PendingCall {
  readonly request: executor.RetrieveRequest;
  readonly origin: RetrieveOrigin;
  readonly resolve: (response: executor.RetrieveResponse) => void;
  readonly reject: (error: unknown) => void;
  readonly span: Span;
  /** Sends so far. */
  attempts: number;
  timer: NodeJS.Timeout | undefined;
}

interface Lane {
  readonly stream: ClientDuplexStream<executor.RetrieveCalls, executor.RetrieveAnswers>;
  readonly pending: Map<number, PendingCall>;
  /** Calls of this turn, sent together at its end. */
  outbox: executor.RetrieveCall[];
  readonly openedAtMs: number;
  /** Takes no new calls (too old, ended or broken). */
  retired: boolean;
  /** Ended or failed: nothing more can be sent on it. */
  broken: boolean;
}

/** The error of a call whose time ran out: what a unary call past its deadline fails with. */
function timedOut(): OperationalError {
  return new OperationalError({
    code: 'DEPENDENCY_TIMEOUT',
    status: ErrorStatus.Timeout,
    message: `${SERVICE} did not answer in time`,
    details: { service: SERVICE },
  });
}

/** The error of a call no stream could carry: what a unary call to a gone executor fails with. */
function unavailable(): OperationalError {
  return new OperationalError({
    code: 'DEPENDENCY_UNAVAILABLE',
    status: ErrorStatus.Unavailable,
    message: `${SERVICE} is unavailable`,
    details: { service: SERVICE },
  });
}

/** The error an answer carries, as the executor raised it. */
function answerError(json: string): Error {
  try {
    const error = deserializeError(JSON.parse(json));
    if (error !== undefined) return error;
  } catch {
    // Fall through: a malformed error is still an error.
  }
  return new UnexpectedError({
    code: 'MALFORMED_ANSWER',
    message: `${SERVICE} answered with an error that could not be read.`,
    details: { service: SERVICE },
  });
}

/** Retrieves over RetrieveStream lanes; see the module comment. */
export class RetrieveStreams {
  readonly #channel: RetrieveChannel;
  readonly #options: RetrieveStreamOptions;
  readonly #lanes: (Lane | undefined)[];
  #next = 0;
  /** The lane of this turn's calls (undefined between turns). */
  #turnLane: Lane | undefined;
  #nextCallId = 1;
  #unaryOnly = false;
  #closed = false;

  constructor(channel: RetrieveChannel, options: RetrieveStreamOptions) {
    this.#channel = channel;
    this.#options = options;
    this.#lanes = new Array<Lane | undefined>(Math.max(1, options.lanes)).fill(undefined);
  }

  /** A retrieve, answered before the origin's deadline or failed with DEPENDENCY_TIMEOUT. */
  retrieve(request: executor.RetrieveRequest, origin: RetrieveOrigin): Promise<executor.RetrieveResponse> {
    if (this.#closed) return Promise.reject(unavailable());
    if (this.#unaryOnly) return this.#channel.unary(request, origin);
    if (origin.deadlineAtMs <= Date.now()) return Promise.reject(timedOut());
    return new Promise<executor.RetrieveResponse>((resolve, reject) => {
      const span = streamTracer.startSpan(SPAN_NAME, {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'grpc', 'rpc.service': 'runplane.executor.v1.ExecutorService' },
      });
      this.#send({ request, origin, resolve, reject, span, attempts: 0, timer: undefined });
    });
  }

  /** Ends every lane; calls still waiting fail with DEPENDENCY_UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes) {
      if (lane === undefined) continue;
      this.#retire(lane);
      lane.stream.cancel();
      this.#failAll(lane, unavailable(), false);
    }
  }

  #send(call: PendingCall): void {
    const remainingMs = call.origin.deadlineAtMs - Date.now();
    if (remainingMs <= 0) {
      this.#settle(call, timedOut());
      return;
    }
    if (this.#unaryOnly) {
      this.#channel.unary(call.request, call.origin).then(
        (response) => {
          this.#settle(call, undefined, response);
        },
        (error: unknown) => {
          this.#settle(call, error);
        },
      );
      return;
    }
    const lane = this.#turn();
    const callId = this.#nextCallId++;
    call.attempts++;
    lane.pending.set(callId, call);
    clearTimeout(call.timer);
    call.timer = setTimeout(() => {
      if (lane.pending.delete(callId)) this.#settle(call, timedOut());
    }, remainingMs).unref();
    const traceContext: Record<string, string> = {};
    injectTraceContext(traceContext, trace.setSpan(context.active(), call.span));
    lane.outbox.push({
      callId: BigInt(callId),
      request: call.request,
      requestId: call.origin.requestId,
      traceContext,
    });
  }

  /** The lane of this turn; the first call of a turn picks it and schedules the turn's message. */
  #turn(): Lane {
    const current = this.#turnLane;
    if (current !== undefined && !current.retired) return current;
    const lane = this.#lane();
    this.#turnLane = lane;
    setImmediate(() => {
      if (this.#turnLane === lane) this.#turnLane = undefined;
      this.#flush(lane);
    });
    return lane;
  }

  /** Sends the calls a lane gathered this turn. */
  #flush(lane: Lane): void {
    if (lane.outbox.length === 0) return;
    const calls = lane.outbox;
    lane.outbox = [];
    // A lane that broke meanwhile has handed its calls to another (see #failAll).
    if (!lane.broken) lane.stream.write({ calls });
  }

  /** The next lane round robin, opened (or replaced when too old) as needed. */
  #lane(): Lane {
    const index = this.#next;
    this.#next = (index + 1) % this.#lanes.length;
    let lane = this.#lanes[index];
    if (lane !== undefined && !lane.retired && Date.now() - lane.openedAtMs > this.#options.laneMaxAgeMs) {
      // Half-close once its last calls are sent: the executor answers them, then ends the stream.
      lane.retired = true;
      const old = lane;
      setImmediate(() => {
        this.#flush(old);
        if (!old.broken) old.stream.end();
      });
    }
    if (lane === undefined || lane.retired) {
      lane = this.#open();
      this.#lanes[index] = lane;
    }
    return lane;
  }

  #open(): Lane {
    const lane: Lane = {
      stream: this.#channel.open(),
      pending: new Map(),
      outbox: [],
      openedAtMs: Date.now(),
      retired: false,
      broken: false,
    };
    lane.stream.on('data', (message: executor.RetrieveAnswers) => {
      for (const answer of message.answers) {
        const callId = Number(answer.callId);
        const call = lane.pending.get(callId);
        if (call === undefined) continue;
        lane.pending.delete(callId);
        const outcome = answer.outcome;
        if (outcome?.$case === 'response') this.#settle(call, undefined, outcome.value);
        else if (outcome?.$case === 'error') this.#settle(call, answerError(outcome.value));
        else this.#settle(call, answerError(''));
      }
    });
    lane.stream.on('error', (error: ServiceError) => {
      this.#retire(lane);
      if (error.code === GrpcStatus.UNIMPLEMENTED) this.#unaryOnly = true;
      this.#failAll(lane, fromGrpcError(error, SERVICE), true);
    });
    lane.stream.on('end', () => {
      this.#retire(lane);
      this.#failAll(lane, unavailable(), true);
    });
    return lane;
  }

  #retire(lane: Lane): void {
    lane.retired = true;
    lane.broken = true;
    lane.outbox = [];
    const index = this.#lanes.indexOf(lane);
    if (index >= 0) this.#lanes[index] = undefined;
  }

  /** Calls a lane left unanswered: sent once more when `retry` (and they were sent only once), else failed. */
  #failAll(lane: Lane, error: unknown, retry: boolean): void {
    const calls = [...lane.pending.values()];
    lane.pending.clear();
    for (const call of calls) {
      if (retry && call.attempts < 2 && !this.#closed) this.#send(call);
      else this.#settle(call, error);
    }
  }

  #settle(call: PendingCall, error: unknown, response?: executor.RetrieveResponse): void {
    clearTimeout(call.timer);
    call.timer = undefined;
    if (error !== undefined || response === undefined) {
      recordError(call.span, error);
      call.span.end();
      call.reject(error);
      return;
    }
    call.span.end();
    call.resolve(response);
  }
}
