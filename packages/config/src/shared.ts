import { setting } from './field.js';

/** Settings every service has. */
export const baseSettings = {
  logLevel: setting.oneOf(
    'RUNPLANE_LOG_LEVEL',
    ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    {
      default: 'info',
      doc: 'Lowest level of log lines written (JSON, to standard output).',
    },
  ),
  shutdownTimeoutMs: setting.durationMs('RUNPLANE_SHUTDOWN_TIMEOUT_MS', {
    default: 4000,
    doc: 'On SIGTERM, how long in-flight calls may finish before they are cut off; the process exits 0 within 5 s.',
  }),
  grpcListenAddress: setting.address('RUNPLANE_GRPC_LISTEN_ADDRESS', {
    doc: "Where this service's gRPC server binds. Unset: the service's own RUNPLANE_<SERVICE>_GRPC_ADDRESS.",
  }),
} as const;

/** The standard OpenTelemetry variables Runplane honours. */
export const telemetrySettings = {
  otelSdkDisabled: setting.boolean('OTEL_SDK_DISABLED', {
    default: false,
    doc: 'Turns tracing off entirely.',
  }),
  otelServiceName: setting.string('OTEL_SERVICE_NAME', {
    doc: 'Service name on spans. Unset: runplane-<service>.',
  }),
  otelExporterOtlpEndpoint: setting.url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:'], {
    doc: 'Base URL of an OTLP/HTTP receiver (traces go to <url>/v1/traces), e.g. http://jaeger:4318.',
  }),
  otelExporterOtlpTracesEndpoint: setting.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:'], {
    doc: 'Full URL for traces; overrides OTEL_EXPORTER_OTLP_ENDPOINT.',
  }),
  otelTracesExporter: setting.oneOf('OTEL_TRACES_EXPORTER', ['otlp', 'console', 'none'], {
    doc: 'Where spans go. Unset: otlp when an OTLP endpoint is set, otherwise none (trace ids still reach the logs).',
  }),
  otelTracesSampler: setting.oneOf(
    'OTEL_TRACES_SAMPLER',
    [
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ],
    { default: 'parentbased_always_on', doc: 'Which traces are recorded.' },
  ),
  otelTracesSamplerArg: setting.string('OTEL_TRACES_SAMPLER_ARG', {
    doc: 'Ratio from 0 to 1 for the traceidratio samplers.',
  }),
  otelResourceAttributes: setting.string('OTEL_RESOURCE_ATTRIBUTES', {
    doc: 'Extra resource attributes, key=value pairs separated by commas.',
  }),
} as const;

/** Where each service's gRPC server is reached (and, by default, binds). */
export const grpcAddresses = {
  gateway: setting.address('RUNPLANE_GATEWAY_GRPC_ADDRESS', {
    default: '127.0.0.1:50050',
    doc: "gRPC address of the gateway's own service (info, health).",
  }),
  session: setting.address('RUNPLANE_SESSION_GRPC_ADDRESS', {
    default: '127.0.0.1:50051',
    doc: 'gRPC address of the session service.',
  }),
  executor: setting.address('RUNPLANE_EXECUTOR_GRPC_ADDRESS', {
    default: '127.0.0.1:50052',
    doc: 'gRPC address of the microflow-executor service.',
  }),
  file: setting.address('RUNPLANE_FILE_GRPC_ADDRESS', {
    default: '127.0.0.1:50053',
    doc: 'gRPC address of the file service.',
  }),
  scheduler: setting.address('RUNPLANE_SCHEDULER_GRPC_ADDRESS', {
    default: '127.0.0.1:50054',
    doc: 'gRPC address of the scheduler service.',
  }),
  leaderElection: setting.address('RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS', {
    default: '127.0.0.1:50055',
    doc: 'gRPC address of the leader-election service.',
  }),
} as const;

/** Connections to the shared infrastructure. */
export const infraSettings = {
  databaseUrl: setting.url('RUNPLANE_DATABASE_URL', ['postgres:', 'postgresql:'], {
    default: 'postgres://postgres@127.0.0.1:5432/runplane',
    doc: 'PostgreSQL connection URL.',
    secret: true,
  }),
  natsUrl: setting.urlList('RUNPLANE_NATS_URL', ['nats:', 'tls:'], {
    default: ['nats://127.0.0.1:4222'],
    doc: 'NATS server URL(s) with JetStream enabled, comma-separated.',
    secret: true,
  }),
  natsNamespace: setting.matching(
    'RUNPLANE_NATS_NAMESPACE',
    /^[a-z][a-z0-9-]{0,31}$/,
    'lowercase letters, digits and -, starting with a letter, at most 32',
    {
      default: 'runplane',
      doc: 'Prefix of every NATS subject, stream and bucket, so that several Runplane apps can share one NATS.',
    },
  ),
  modelDir: setting.path('RUNPLANE_MODEL_DIR', {
    default: 'examples/orders',
    doc: 'Folder of the app model (YAML or JSON files) to run.',
  }),
} as const;
