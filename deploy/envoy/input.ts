/**
 * The values `envoy.yaml.tmpl` is rendered with (`npm run deploy:render`). Change a value
 * here, re-render, and commit both files: a test fails when `envoy.yaml` is stale.
 *
 * Durations are in milliseconds and sizes in bytes, as everywhere in Runplane; the renderer
 * writes them in Envoy's forms ("2.5s").
 */
export interface EnvoyInput {
  /** The public front door: every path except the internal ones. */
  readonly publicListener: { readonly port: number };
  /** The operators' listener: everything, including `/ready` and `/metrics`. Compose publishes it on localhost only. */
  readonly internalListener: { readonly port: number };
  readonly admin: { readonly port: number };
  /** Paths the public listener answers with 404 without asking the gateway. */
  readonly internalPaths: readonly string[];
  /** The gateway replicas, found by DNS (Docker answers a service name with every replica's address). */
  readonly gateway: {
    readonly host: string;
    readonly port: number;
    readonly healthPath: string;
    readonly connectTimeoutMs: number;
    /** How often the name is resolved again, so that scaled replicas join and leave quickly. */
    readonly dnsRefreshMs: number;
    /** Below the gateway's keep-alive timeout (Fastify: 72 s), so Envoy never reuses a connection the gateway is closing. */
    readonly upstreamIdleTimeoutMs: number;
  };
  readonly healthCheck: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly unhealthyThreshold: number;
    readonly healthyThreshold: number;
  };
  /**
   * Ejects a replica after this many connection failures, resets or timeouts in a row.
   * Only failures Envoy sees itself count: a 5xx the gateway answers (a database down, say)
   * would come from every replica alike, and ejecting replicas would not help.
   */
  readonly outlierDetection: {
    readonly consecutiveLocalOriginFailure: number;
    readonly intervalMs: number;
    readonly baseEjectionTimeMs: number;
    readonly maxEjectionPercent: number;
  };
  /** Envoy's circuit breakers towards the gateway cluster (all replicas together). */
  readonly circuitBreakers: {
    readonly maxConnections: number;
    readonly maxPendingRequests: number;
    readonly maxRequests: number;
    readonly maxRetries: number;
  };
  readonly timeouts: {
    /** Whole request, for API routes (client API, REST, health). */
    readonly routeMs: number;
    /** Whole request for `/file` (uploads and downloads stream for longer); 0 turns the limit off. */
    readonly fileRouteMs: number;
    /** No bytes either way on a request for this long ends it (file transfers included). */
    readonly streamIdleMs: number;
    /** Time for a client to send its request headers. */
    readonly requestHeadersMs: number;
    /** A downstream connection with no request open is closed after this long. */
    readonly connectionIdleMs: number;
    /** On shutdown, how long connections may finish. */
    readonly drainMs: number;
  };
  /**
   * Retries on another replica. GET, HEAD and OPTIONS are retried after a connection
   * failure or reset; other methods only when the request never reached a replica, so a
   * microflow is never run twice.
   */
  readonly retry: {
    readonly numRetries: number;
    readonly backOffBaseMs: number;
    readonly backOffMaxMs: number;
  };
  readonly limits: {
    readonly maxDownstreamConnections: number;
    /** Envoy's heap; beyond 95 % it stops accepting requests instead of being killed. */
    readonly maxHeapBytes: number;
    readonly perConnectionBufferBytes: number;
    readonly maxRequestHeadersKb: number;
  };
  readonly compression: { readonly minContentLengthBytes: number };
  /** Envoy's own spans, sent as OTLP/gRPC to the collector (Jaeger) and joined to the services' traces. */
  readonly tracing: {
    readonly host: string;
    readonly port: number;
    readonly serviceName: string;
    readonly samplingPercent: number;
    readonly exportTimeoutMs: number;
  };
}

/** The values compose runs with: must agree with docker-compose.yml (a test checks that). */
export const envoyInput: EnvoyInput = {
  publicListener: { port: 8080 },
  internalListener: { port: 8081 },
  admin: { port: 9901 },
  internalPaths: ['/ready', '/metrics'],
  gateway: {
    host: 'gateway',
    port: 8080,
    healthPath: '/health',
    connectTimeoutMs: 1000,
    dnsRefreshMs: 5000,
    upstreamIdleTimeoutMs: 60_000,
  },
  healthCheck: { intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 },
  outlierDetection: {
    consecutiveLocalOriginFailure: 3,
    intervalMs: 5000,
    baseEjectionTimeMs: 15_000,
    maxEjectionPercent: 50,
  },
  circuitBreakers: { maxConnections: 4096, maxPendingRequests: 2048, maxRequests: 4096, maxRetries: 16 },
  timeouts: {
    routeMs: 60_000,
    fileRouteMs: 0,
    streamIdleMs: 120_000,
    requestHeadersMs: 10_000,
    connectionIdleMs: 300_000,
    drainMs: 5000,
  },
  retry: { numRetries: 2, backOffBaseMs: 25, backOffMaxMs: 250 },
  limits: {
    maxDownstreamConnections: 10_000,
    maxHeapBytes: 512 * 1024 * 1024,
    perConnectionBufferBytes: 32 * 1024,
    maxRequestHeadersKb: 60,
  },
  compression: { minContentLengthBytes: 1024 },
  tracing: {
    host: 'jaeger',
    port: 4317,
    serviceName: 'runplane-envoy',
    samplingPercent: 100,
    exportTimeoutMs: 1000,
  },
};
