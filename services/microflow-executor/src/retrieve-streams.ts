/**
 * The server side of `ExecutorService.RetrieveStream`: many retrieves over one long-lived
 * stream, each answered with its call id (see executor.proto for why). Calls come in batches;
 * the answers finished in one turn of the event loop leave together in one message. Each call
 * runs as a unary Retrieve would — its own span in the caller's trace, its errors as the whole
 * Runplane error — and the open streams are ended, after answering what they were given, when
 * the executor shuts down.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ErrorKind, asRunplaneError } from '@runplane/errors';
import type { executor } from '@runplane/proto';
import { SpanKind, extractTraceContext, inSpan, tracer, type Logger } from '@runplane/telemetry';
import { invalidRequest } from './errors.js';

const RETRIEVE_SPAN = 'runplane.executor.v1.ExecutorService/Retrieve';
const streamTracer = tracer('runplane.executor');

/** What one open stream needs to know to end in time. */
interface OpenStream {
  /** Calls being answered or whose answers wait to be sent. */
  inFlight: number;
  /** Answers finished this turn, sent together at its end. */
  outbox: executor.RetrieveAnswer[];
  /** The client ended its side. */
  clientDone: boolean;
  /** The stream was ended (by us) or broke. */
  closed: boolean;
  readonly call: ServerDuplexStream<executor.RetrieveCalls, executor.RetrieveAnswers>;
}

/** The executor's RetrieveStream calls: serves them, and ends them on shutdown. */
export class RetrieveStreams {
  readonly #open = new Set<OpenStream>();
  readonly #retrieve: (request: executor.RetrieveRequest) => Promise<executor.RetrieveResponse>;
  readonly #logger: Logger;
  readonly #transportable: (error: unknown) => unknown;
  #draining = false;
  #drained: (() => void) | undefined;

  /**
   * @param retrieve Answers one retrieve, as the unary Retrieve does.
   * @param transportable Makes an error fit to travel (JSON-safe details), as for unary calls.
   */
  constructor(
    retrieve: (request: executor.RetrieveRequest) => Promise<executor.RetrieveResponse>,
    logger: Logger,
    transportable: (error: unknown) => unknown,
  ) {
    this.#retrieve = retrieve;
    this.#logger = logger;
    this.#transportable = transportable;
  }

  /** The grpc-js handler of RetrieveStream. */
  readonly handler = (call: ServerDuplexStream<executor.RetrieveCalls, executor.RetrieveAnswers>): void => {
    const stream: OpenStream = { inFlight: 0, outbox: [], clientDone: false, closed: false, call };
    this.#open.add(stream);
    const gone = (): void => {
      stream.closed = true;
      this.#forget(stream);
    };
    call.on('data', (message: executor.RetrieveCalls) => {
      for (const one of message.calls) {
        stream.inFlight++;
        void this.#answer(one).then((answer) => {
          this.#post(stream, answer);
        });
      }
    });
    call.on('end', () => {
      stream.clientDone = true;
      this.#settle(stream);
    });
    call.on('error', gone);
    call.on('cancelled', gone);
    if (this.#draining) this.#settle(stream);
  };

  /** Queues an answer; the first of a turn schedules the turn's message. */
  #post(stream: OpenStream, answer: executor.RetrieveAnswer): void {
    stream.outbox.push(answer);
    if (stream.outbox.length > 1) return;
    setImmediate(() => {
      const answers = stream.outbox;
      stream.outbox = [];
      stream.inFlight -= answers.length;
      if (!stream.closed) stream.call.write({ answers });
      this.#settle(stream);
    });
  }

  /**
   * Ends every open stream once the calls it was given are answered (streams opened from now on
   * are ended at once); resolves when all have ended or `timeoutMs` has passed.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    const done = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    for (const stream of this.#open) this.#settle(stream);
    if (this.#open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ends a stream whose client is done (or that must close) once nothing is in flight. */
  #settle(stream: OpenStream): void {
    if (stream.closed || stream.inFlight > 0 || !(stream.clientDone || this.#draining)) return;
    stream.closed = true;
    stream.call.end();
    this.#forget(stream);
  }

  #forget(stream: OpenStream): void {
    this.#open.delete(stream);
    if (this.#draining && this.#open.size === 0) this.#drained?.();
  }

  async #answer(message: executor.RetrieveCall): Promise<executor.RetrieveAnswer> {
    const callId = message.callId;
    const parent = extractTraceContext((name) => message.traceContext[name]);
    try {
      const request = message.request;
      if (request === undefined) throw invalidRequest('A RetrieveCall needs a request.');
      const response = await inSpan(
        streamTracer,
        RETRIEVE_SPAN,
        {
          kind: SpanKind.SERVER,
          parent,
          attributes: { 'rpc.system': 'grpc', 'runplane.call_id': String(callId) },
        },
        () => this.#retrieve(request),
      );
      return { callId, outcome: { $case: 'response', value: response } };
    } catch (error) {
      const e = asRunplaneError(this.#transportable(error));
      if (e.kind === ErrorKind.Unexpected) {
        this.#logger.error(
          { err: error, method: 'RetrieveStream', request_id: message.requestId },
          'retrieve failed unexpectedly',
        );
      } else {
        this.#logger.debug(
          { code: e.code, method: 'RetrieveStream', request_id: message.requestId },
          'retrieve refused',
        );
      }
      return { callId, outcome: { $case: 'error', value: JSON.stringify(e.toJSON()) } };
    }
  }
}
