import {
  Metadata,
  credentials,
  type CallOptions,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromGrpcError } from '@runplane/errors';
import { health } from '@runplane/proto';

/** Keep-alive and size settings for every Runplane client channel. */
export const CLIENT_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': 32 * 1024 * 1024,
  'grpc.max_send_message_length': 32 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A service name that resolves to several replicas (compose, a Kubernetes headless
  // service) gets its calls spread over all of them, not pinned to the first.
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

type ClientConstructor<C extends Client> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: ChannelOptions,
) => C;

/** A client of a generated service, on an insecure channel with Runplane's options. */
export function createClient<C extends Client>(ctor: ClientConstructor<C>, address: string): C {
  return new ctor(address, credentials.createInsecure(), CLIENT_OPTIONS);
}

/** A unary method of a generated client, in its full-argument form. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** The names of a generated client's unary methods. */
export type UnaryMethodName<C> = {
  [K in keyof C]: C[K] extends UnaryMethod<infer _Req, infer _Res> ? K : never;
}[keyof C] &
  string;

/** The request type of a client's unary method. */
export type RequestOf<C, K extends keyof C> = C[K] extends UnaryMethod<infer Req, infer _Res> ? Req : never;

/** The response type of a client's unary method. */
export type ResponseOf<C, K extends keyof C> = C[K] extends UnaryMethod<infer _Req, infer Res> ? Res : never;

/** Options of one call. */
export interface CallSettings {
  /** Deadline from now; none when unset. */
  readonly deadlineMs?: number;
  /** Metadata to send, e.g. `x-request-id`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** The called service's name, for error messages. */
  readonly service?: string;
}

/**
 * Calls a unary method and returns its response, or throws the Runplane error the
 * server sent (rebuilt with `fromGrpcError`), or an operational error when the
 * service cannot be reached.
 */
export function callUnary<C extends Client, K extends UnaryMethodName<C>>(
  client: C,
  method: K,
  request: RequestOf<C, K>,
  settings: CallSettings = {},
): Promise<ResponseOf<C, K>> {
  const fn = client[method] as UnaryMethod<RequestOf<C, K>, ResponseOf<C, K>>;
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(settings.metadata ?? {})) metadata.set(k, v);
  const options: Partial<CallOptions> =
    settings.deadlineMs === undefined ? {} : { deadline: new Date(Date.now() + settings.deadlineMs) };
  return new Promise<ResponseOf<C, K>>((resolve, reject) => {
    const call = fn.call(client, request, metadata, options, (err, res) => {
      settings.signal?.removeEventListener('abort', cancel);
      if (err) reject(fromGrpcError(err, settings.service));
      else resolve(res);
    });
    function cancel(): void {
      call.cancel();
    }
    settings.signal?.addEventListener('abort', cancel, { once: true });
  });
}

/** The answer of a health check: a serving state, or why there was none. */
export type HealthAnswer =
  'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN' | 'UNREACHABLE' | 'TIMEOUT';

/**
 * Asks a server's `grpc.health.v1.Health/Check` about a service ('' for the whole
 * server). Never throws.
 */
export async function checkHealth(
  client: health.HealthClient,
  service: string,
  timeoutMs: number,
): Promise<HealthAnswer> {
  try {
    const res = await callUnary(client, 'check', { service }, { deadlineMs: timeoutMs });
    const S = health.HealthCheckResponse_ServingStatus;
    switch (res.status) {
      case S.SERVING:
        return 'SERVING';
      case S.NOT_SERVING:
        return 'NOT_SERVING';
      case S.SERVICE_UNKNOWN:
        return 'SERVICE_UNKNOWN';
      default:
        return 'UNKNOWN';
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'DEPENDENCY_TIMEOUT') return 'TIMEOUT';
    if (code === 'NOT_FOUND') return 'SERVICE_UNKNOWN';
    return 'UNREACHABLE';
  }
}
