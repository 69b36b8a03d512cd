import { credentials } from '@grpc/grpc-js';
import { ErrorStatus, OperationalError } from '@runplane/errors';
import { executor } from '@runplane/proto';
import {
  CLIENT_OPTIONS,
  callUnary,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from '@runplane/service-host';
import { RetrieveStreams } from './retrieve-stream.js';

/** Streams the gateway's retrieves are spread over (each may reach another executor replica). */
const RETRIEVE_LANES = 4;
/** How long a retrieve stream takes new calls, so that executor replicas started since get some too. */
const RETRIEVE_LANE_MAX_AGE_MS = 30_000;
/**
 * HTTP/2 flow-control window of the channel: the answers of many retrieves in flight on one
 * stream must not wait for window updates (the default is 64 KiB).
 */
const FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;

/** Where a call comes from: for the deadline and the request id on the executor's logs. */
export interface CallOrigin {
  readonly requestId: string;
  /** Epoch ms by which the HTTP request must be answered; the call's deadline is what is left. */
  readonly deadlineAtMs: number;
}

type Method = UnaryMethodName<executor.ExecutorServiceClient>;

/** The request ran out of its time before a call could start. */
export function requestTimedOut(): OperationalError {
  return new OperationalError({
    code: 'DEPENDENCY_TIMEOUT',
    status: ErrorStatus.Timeout,
    message: 'The request took too long.',
  });
}

/**
 * The gateway's client of the microflow executor: one long-lived channel (round robin over
 * the replicas a name resolves to), each call with the request id as metadata and the time
 * left of the HTTP request as its deadline. Retrieves go over RetrieveStream lanes
 * ({@link retrieve}); the other methods are unary calls.
 */
export class ExecutorClient {
  private readonly client: executor.ExecutorServiceClient;
  private readonly streams: RetrieveStreams;

  constructor(address: string) {
    this.client = new executor.ExecutorServiceClient(address, credentials.createInsecure(), {
      ...CLIENT_OPTIONS,
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES,
    });
    this.streams = new RetrieveStreams(
      {
        open: () => this.client.retrieveStream(),
        unary: (request, origin) => this.call('retrieve', request, origin),
      },
      { lanes: RETRIEVE_LANES, laneMaxAgeMs: RETRIEVE_LANE_MAX_AGE_MS },
    );
  }

  /** A Retrieve, over a RetrieveStream lane; errors come back as the Runplane errors the executor raised. */
  retrieve(request: executor.RetrieveRequest, origin: CallOrigin): Promise<executor.RetrieveResponse> {
    return this.streams.retrieve(request, origin);
  }

  /** Calls a method; errors come back as the Runplane errors the executor raised. */
  call<K extends Method>(
    method: K,
    request: RequestOf<executor.ExecutorServiceClient, K>,
    origin: CallOrigin,
  ): Promise<ResponseOf<executor.ExecutorServiceClient, K>> {
    const deadlineMs = origin.deadlineAtMs - Date.now();
    if (deadlineMs <= 0) return Promise.reject(requestTimedOut());
    return callUnary(this.client, method, request, {
      deadlineMs,
      service: 'microflow-executor',
      metadata: { 'x-request-id': origin.requestId },
    });
  }

  close(): void {
    this.streams.close();
    this.client.close();
  }
}
