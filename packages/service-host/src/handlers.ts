import type {
  Metadata,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
} from '@grpc/grpc-js';
import { ErrorKind, asRunplaneError, toGrpcError } from '@runplane/errors';
import type { Logger } from '@runplane/telemetry';

/** What a handler learns about its call besides the request. */
export interface CallContext {
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** A metadata value sent by the client, e.g. `x-request-id`. */
  metadata(key: string): string | undefined;
}

/** The parts of a server call the context needs; every grpc-js call kind has them. */
interface CancellableCall {
  readonly metadata: Metadata;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** A call's context, and `finish` to call once the handler has answered. */
interface CallScope {
  readonly ctx: CallContext;
  finish(): void;
}

function callContext(call: CancellableCall): CallScope {
  const controller = new AbortController();
  let finished = false;
  // grpc-js reports 'cancelled' on every call once its status is sent, answered or not; only a
  // cancel before the handler answered means anything (and an abort costs an AbortError each).
  call.on('cancelled', () => {
    if (!finished) controller.abort();
  });
  return {
    ctx: {
      signal: controller.signal,
      metadata: (key) => {
        const v = call.metadata.get(key)[0];
        return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : v;
      },
    },
    finish: () => {
      finished = true;
    },
  };
}

function logFailure(logger: Logger, method: string, err: unknown): void {
  const e = asRunplaneError(err);
  if (e.kind === ErrorKind.Unexpected) logger.error({ err, method }, 'gRPC handler failed unexpectedly');
  else logger.debug({ code: e.code, method }, 'gRPC handler refused the call');
}

/** Sends a handler's result (or its error, mapped with `toGrpcError`) as the call's single answer. */
function answer<Res>(
  result: Promise<Res>,
  scope: CallScope,
  callback: sendUnaryData<Res>,
  logger: Logger,
  method: string,
): void {
  result.then(
    (res) => {
      scope.finish();
      callback(null, res);
    },
    (err: unknown) => {
      scope.finish();
      logFailure(logger, method, err);
      callback(toGrpcError(err));
    },
  );
}

/**
 * Adapts an async function to a grpc-js unary handler: the returned value is the
 * response; a thrown error is mapped with `toGrpcError` (unexpected ones are logged).
 */
export function unaryHandler<Req, Res>(
  logger: Logger,
  method: string,
  fn: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const scope = callContext(call);
    answer(fn(call.request, scope.ctx), scope, callback, logger, method);
  };
}

/** Adapts an async generator to a grpc-js server-streaming handler. */
export function serverStreamHandler<Req, Res>(
  logger: Logger,
  method: string,
  fn: (request: Req, ctx: CallContext) => AsyncIterable<Res>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const scope = callContext(call);
    const ctx = scope.ctx;
    void (async () => {
      try {
        for await (const item of fn(call.request, ctx)) {
          if (ctx.signal.aborted) return;
          if (!call.write(item)) {
            await new Promise<void>((resolve) => call.once('drain', resolve));
          }
        }
        scope.finish();
        call.end();
      } catch (err) {
        scope.finish();
        logFailure(logger, method, err);
        // grpc-js sends the status of an 'error' event as the stream's trailing status.
        call.emit('error', toGrpcError(err));
      }
    })();
  };
}

/** Adapts an async function over the request stream to a grpc-js client-streaming handler. */
export function clientStreamHandler<Req, Res>(
  logger: Logger,
  method: string,
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>) => {
    const scope = callContext(call);
    answer(fn(call as AsyncIterable<Req>, scope.ctx), scope, callback, logger, method);
  };
}
