import { setting } from './field.js';
import { defineConfig } from './load.js';
import { baseSettings, grpcAddresses, infraSettings, telemetrySettings } from './shared.js';

const common = { ...baseSettings, ...telemetrySettings } as const;

const demoUsersDoc =
  "Create the model's demo users at start when they do not exist (like Mendix's demo users). Never in production.";

/** Users and sessions: the first administrator, timeouts and login throttling. */
const identitySettings = {
  adminUser: setting.string('RUNPLANE_ADMIN_USER', {
    default: 'MxAdmin',
    doc: 'Name of the first administrator, created at start when no user has this name.',
  }),
  adminPassword: setting.string('RUNPLANE_ADMIN_PASSWORD', {
    doc: "Password of the first administrator, checked against the model's password policy. Unset: no administrator is created, except in standalone mode, which generates one and prints it once.",
    secret: true,
  }),
  sessionTimeoutMs: setting.durationMs('RUNPLANE_SESSION_TIMEOUT_MS', {
    min: 1000,
    doc: "A session ends after this long without activity. Unset: the model's sessionTimeoutMs (600000, 10 minutes, unless the model says otherwise).",
  }),
  loginMaxAttempts: setting.integer('RUNPLANE_LOGIN_MAX_ATTEMPTS', {
    min: 1,
    max: 1000,
    doc: "Failed logins in a row that block a user (at the production security level). Unset: the model's maxFailedLogins (3 unless the model says otherwise).",
  }),
  unblockAfterMs: setting.durationMs('RUNPLANE_UNBLOCK_AFTER_MS', {
    doc: "A user blocked by failed logins is unblocked by the cluster's leader duty this long after the block. Unset: the model's blockedUserTimeoutMs (300000, 5 minutes, unless the model says otherwise).",
  }),
} as const;

/** The lease length, which the leader-election service and its candidates must agree on. */
const leaseTtlSetting = setting.durationMs('RUNPLANE_LEADER_LEASE_TTL_MS', {
  default: 10_000,
  min: 1000,
  doc: 'A leader that stops renewing loses its lease after this long; leaders renew every third of it, and stop acting as leader when a quarter of it is left without a renewal. Set the same value for leader-election and its candidates (the scheduler).',
});

/** The gateway: the HTTP edge. */
export const gatewayConfig = defineConfig('gateway', {
  ...common,
  httpHost: setting.string('RUNPLANE_HTTP_HOST', {
    default: '0.0.0.0',
    doc: 'Interface the HTTP server listens on.',
  }),
  httpPort: setting.port('RUNPLANE_HTTP_PORT', { default: 8080, doc: 'Port of the HTTP server.' }),
  readyTimeoutMs: setting.durationMs('RUNPLANE_READY_TIMEOUT_MS', {
    default: 1000,
    min: 1,
    doc: 'How long /ready waits for each service to answer its health check.',
  }),
  grpcAddress: grpcAddresses.gateway,
  sessionAddress: grpcAddresses.session,
  executorAddress: grpcAddresses.executor,
  fileAddress: grpcAddresses.file,
  schedulerAddress: grpcAddresses.scheduler,
  leaderElectionAddress: grpcAddresses.leaderElection,
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
  modelDir: infraSettings.modelDir,
  sessionCacheMs: setting.durationMs('RUNPLANE_SESSION_CACHE_MS', {
    default: 2000,
    doc: 'How long a gateway may reuse a validated session without asking the session service. A logout, block or role change drops it at once (NATS event); this bounds staleness when events are lost. 0 turns the cache off.',
  }),
  sessionCacheMaxEntries: setting.integer('RUNPLANE_SESSION_CACHE_MAX_ENTRIES', {
    default: 10_000,
    min: 1,
    doc: 'Most validated sessions a gateway keeps; the least recently used go first.',
  }),
  sessionValidateTimeoutMs: setting.durationMs('RUNPLANE_SESSION_VALIDATE_TIMEOUT_MS', {
    default: 2000,
    min: 1,
    doc: 'Deadline of the calls a gateway makes to the session service (validate, login, logout, keep-alive).',
  }),
  cookieSecure: setting.boolean('RUNPLANE_COOKIE_SECURE', {
    default: false,
    doc: 'Mark the session cookie Secure, so browsers send it over HTTPS only. Turn it on whenever users reach the app over HTTPS.',
  }),
  httpBodyLimitBytes: setting.integer('RUNPLANE_HTTP_BODY_LIMIT_BYTES', {
    default: 1_048_576,
    min: 1,
    doc: 'Largest request body the gateway reads (client API and published REST); a larger one is refused with 413 PAYLOAD_TOO_LARGE.',
  }),
  httpRequestTimeoutMs: setting.durationMs('RUNPLANE_HTTP_REQUEST_TIMEOUT_MS', {
    default: 30_000,
    min: 100,
    doc: 'Longest time a request may take, from its first byte to the answer: calls to other services get what is left of it as their gRPC deadline, and a request that runs out answers 504 DEPENDENCY_TIMEOUT.',
  }),
  loginRateLimitPerMinute: setting.integer('RUNPLANE_LOGIN_RATE_LIMIT_PER_MINUTE', {
    default: 20,
    min: 0,
    doc: 'Password checks (client API login, HTTP Basic verifications not answered from the cache) one client address may start per minute on one gateway replica; more answer 429 with Retry-After. 0 turns the limit off.',
  }),
  basicAuthCacheMs: setting.durationMs('RUNPLANE_BASIC_AUTH_CACHE_MS', {
    default: 30_000,
    doc: 'How long a gateway reuses a successful HTTP Basic verification (keyed by a keyed hash of the credentials) instead of checking the password again; a block, role or password change drops it at once (NATS event). 0 checks every request.',
  }),
  corsOrigins: setting.matching(
    'RUNPLANE_CORS_ORIGINS',
    /^(\*|https?:\/\/[^\s,/]+)(\s*,\s*(\*|https?:\/\/[^\s,/]+))*$/,
    'a comma-separated list of origins (https://app.example.com) or *',
    {
      doc: 'Origins whose pages may call the client API and published REST from the browser (CORS, with credentials; preflights answered). * allows every origin, without credentials. Unset: no cross-origin access.',
    },
  ),
  trustProxy: setting.matching(
    'RUNPLANE_TRUST_PROXY',
    /^(true|false|\d+|[0-9A-Fa-f:.]+(\/\d+)?(\s*,\s*[0-9A-Fa-f:.]+(\/\d+)?)*)$/,
    'true, false, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges',
    {
      default: 'false',
      doc: "Whom to believe about the client address and protocol (X-Forwarded-For, X-Forwarded-Proto): false (nobody), true (every hop), a hop count, or the proxies' addresses. Set it when Envoy or another proxy is in front; the login rate limit keys on the address it yields.",
    },
  ),
  hstsMaxAgeMs: setting.durationMs('RUNPLANE_HSTS_MAX_AGE_MS', {
    default: 0,
    doc: 'When above 0, every answer carries Strict-Transport-Security with this max-age (rounded down to seconds), telling browsers to use HTTPS only. Set it only when the app is reached over HTTPS.',
  }),
});

/** The session service: users, passwords and sessions. */
export const sessionConfig = defineConfig('session', {
  ...common,
  grpcAddress: grpcAddresses.session,
  databaseUrl: infraSettings.databaseUrl,
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
  modelDir: infraSettings.modelDir,
  ...identitySettings,
  demoUsers: setting.boolean('RUNPLANE_DEMO_USERS', { default: false, doc: demoUsersDoc }),
});

/** The microflow executor: domain data and microflow execution. */
export const executorConfig = defineConfig('microflow-executor', {
  ...common,
  grpcAddress: grpcAddresses.executor,
  databaseUrl: infraSettings.databaseUrl,
  databasePoolSize: setting.integer('RUNPLANE_DATABASE_POOL_SIZE', {
    default: 20,
    min: 1,
    max: 1000,
    doc: 'Connections the executor keeps to PostgreSQL: one per request or task in progress (like Mendix ConnectionPoolingMaxActive, per instance).',
  }),
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
  modelDir: infraSettings.modelDir,
  constants: setting.string('RUNPLANE_CONSTANTS', {
    doc: 'Constant values of this deployment, overriding the model\'s: a JSON object by qualified name, e.g. {"Sales.MailServiceUrl":"https://mail.internal/api"}. Decimals and Longs as strings, DateTimes as epoch milliseconds.',
  }),
  microflowMaxLoopIterations: setting.integer('RUNPLANE_MICROFLOW_MAX_LOOP_ITERATIONS', {
    default: 1_000_000,
    min: 1,
    doc: 'Iterations one loop may run each time it is reached; a loop going beyond fails its microflow with MICROFLOW_LIMIT_EXCEEDED naming the node.',
  }),
  microflowTimeoutMs: setting.durationMs('RUNPLANE_MICROFLOW_TIMEOUT_MS', {
    default: 300_000,
    min: 1,
    doc: 'Longest a microflow run may take, sub-microflows and event handlers included; a longer run fails with MICROFLOW_LIMIT_EXCEEDED and rolls back.',
  }),
  microflowMaxCallDepth: setting.integer('RUNPLANE_MICROFLOW_MAX_CALL_DEPTH', {
    default: 200,
    min: 1,
    doc: 'Deepest nesting of microflow calls (sub-microflows, event handlers, actions calling microflows).',
  }),
  microflowYieldEveryIterations: setting.integer('RUNPLANE_MICROFLOW_YIELD_EVERY_ITERATIONS', {
    default: 1000,
    min: 1,
    doc: 'Loop iterations after which a run lets other work in (health checks, other requests), so a long loop never stalls the process.',
  }),
  taskQueuesEnabled: setting.boolean('RUNPLANE_TASK_QUEUES_ENABLED', {
    default: true,
    doc: 'Run queued tasks and scheduled events on this executor. Turn it off for replicas that only serve requests; tasks are then run by the others.',
  }),
  taskThreads: setting.integer('RUNPLANE_TASK_THREADS', {
    min: 1,
    max: 1000,
    doc: "Tasks of one task queue this executor runs at once. Unset: the queue's threads in the model.",
  }),
  scheduledEventThreads: setting.integer('RUNPLANE_SCHEDULED_EVENT_THREADS', {
    default: 10,
    min: 1,
    max: 1000,
    doc: 'Scheduled-event runs this executor runs at once (Mendix runs at most 10 per node).',
  }),
  taskAckWaitMs: setting.durationMs('RUNPLANE_TASK_ACK_WAIT_MS', {
    default: 30_000,
    min: 1000,
    doc: 'A task whose executor goes silent this long (crashed, cut off) is run again elsewhere. Running tasks report progress every third of it.',
  }),
  processedTasksCleanupAgeMs: setting.durationMs('RUNPLANE_PROCESSED_TASKS_CLEANUP_AGE_MS', {
    default: 7 * 24 * 60 * 60_000,
    min: 0,
    doc: "System.ProcessedQueueTask rows of completed attempts older than this are deleted by the scheduler's leader duty (Mendix's ProcessedTasksCleanupAge, 7 days). Failed and aborted attempts stay.",
  }),
  processedTasksCleanupBatchSize: setting.integer('RUNPLANE_PROCESSED_TASKS_CLEANUP_BATCH_SIZE', {
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: "Rows the processed-task cleanup deletes per transaction (Mendix's ProcessedTasksCleanupBatchSize).",
  }),
  taskRelayIntervalMs: setting.durationMs('RUNPLANE_TASK_RELAY_INTERVAL_MS', {
    default: 10_000,
    min: 100,
    doc: 'How often the executor looks for queued tasks that were committed but never handed to the task queue (the process stopped in between).',
  }),
  taskRelayAfterMs: setting.durationMs('RUNPLANE_TASK_RELAY_AFTER_MS', {
    default: 30_000,
    min: 0,
    doc: 'A queued task not started this long after it was committed is handed to the task queue again (duplicates are dropped).',
  }),
});

/** The file service: FileDocument contents in object storage. */
export const fileConfig = defineConfig('file', {
  ...common,
  grpcAddress: grpcAddresses.file,
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
  fileDir: setting.path('RUNPLANE_FILE_DIR', {
    default: '.runplane/files',
    doc: 'Folder for file contents when no S3 endpoint is configured.',
  }),
  s3Endpoint: setting.url('RUNPLANE_S3_ENDPOINT', ['http:', 'https:'], {
    doc: 'S3 API of an object store (MinIO, AWS S3, …) for file contents, e.g. http://minio:9000. Unset: local disk (RUNPLANE_FILE_DIR).',
  }),
  s3Bucket: setting.matching(
    'RUNPLANE_S3_BUCKET',
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name',
    {
      default: 'runplane-files',
      doc: 'Bucket of the file contents; created when it does not exist.',
    },
  ),
  s3Region: setting.string('RUNPLANE_S3_REGION', { default: 'us-east-1', doc: 'Region of the bucket.' }),
  s3AccessKeyId: setting.string('RUNPLANE_S3_ACCESS_KEY_ID', {
    doc: 'Access key of the object store.',
    secret: true,
  }),
  s3SecretAccessKey: setting.string('RUNPLANE_S3_SECRET_ACCESS_KEY', {
    doc: 'Secret key of the object store.',
    secret: true,
  }),
  s3ForcePathStyle: setting.boolean('RUNPLANE_S3_FORCE_PATH_STYLE', {
    default: true,
    doc: 'Address objects as <endpoint>/<bucket>/<key> (MinIO and most S3-compatible stores); false for virtual-hosted buckets.',
  }),
});

/** The scheduler: scheduled events and cluster duties, fired while it leads. */
export const schedulerConfig = defineConfig('scheduler', {
  ...common,
  grpcAddress: grpcAddresses.scheduler,
  leaderElectionAddress: grpcAddresses.leaderElection,
  sessionAddress: grpcAddresses.session,
  executorAddress: grpcAddresses.executor,
  databaseUrl: infraSettings.databaseUrl,
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
  modelDir: infraSettings.modelDir,
  leaseTtlMs: leaseTtlSetting,
  election: setting.matching(
    'RUNPLANE_SCHEDULER_ELECTION',
    /^[A-Za-z0-9_-]{1,64}$/,
    'letters, digits, _ and -, at most 64',
    {
      default: 'scheduler',
      doc: 'The election every scheduler replica campaigns in; the leader alone fires scheduled events and duties.',
    },
  ),
  scheduledEvents: setting.matching(
    'RUNPLANE_SCHEDULED_EVENTS',
    /^(all|none|[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)*)$/i,
    'all, none, or a comma-separated list of qualified scheduled event names',
    {
      default: 'all',
      doc: "Which scheduled events run (Mendix's ScheduledEventExecution / MyScheduledEvents): all (every event the model enables), none, or a list such as Sales.CloseStaleOrders,Sales.Report, which runs exactly those, enabled in the model or not.",
    },
  ),
  sessionCleanupIntervalMs: setting.durationMs('RUNPLANE_SESSION_CLEANUP_INTERVAL_MS', {
    min: 100,
    doc: "Leader duty: how often expired sessions are deleted (Mendix's ClusterManagerActionInterval). Unset: half the model's session timeout (300000, 5 minutes, by default).",
  }),
  unblockIntervalMs: setting.durationMs('RUNPLANE_UNBLOCK_INTERVAL_MS', {
    default: 60_000,
    min: 100,
    doc: 'Leader duty: how often users blocked by failed logins are unblocked once their block time has passed.',
  }),
  misfireWindowMs: setting.durationMs('RUNPLANE_SCHEDULER_MISFIRE_WINDOW_MS', {
    default: 0,
    doc: 'A run missed while no scheduler led (downtime, a fail-over) fires once when a leader is back; one missed by more than this is recorded as missed instead. 0: it fires however late.',
  }),
  runTimeoutMs: setting.durationMs('RUNPLANE_SCHEDULER_RUN_TIMEOUT_MS', {
    default: 3_600_000,
    min: 1000,
    doc: 'A scheduled-event run not reported finished this long after it fired is presumed over, so the overlap policy stops waiting for it.',
  }),
  dutyTimeoutMs: setting.durationMs('RUNPLANE_SCHEDULER_DUTY_TIMEOUT_MS', {
    default: 60_000,
    min: 100,
    doc: 'Deadline of one leader duty (a call to the session service).',
  }),
});

/** The leader-election service: leases, leaders and the node registry. */
export const leaderElectionConfig = defineConfig('leader-election', {
  ...common,
  grpcAddress: grpcAddresses.leaderElection,
  leaseTtlMs: leaseTtlSetting,
  nodeTtlMs: setting.durationMs('RUNPLANE_NODE_TTL_MS', {
    default: 15_000,
    min: 1000,
    doc: 'A node that stops heartbeating leaves the registry after this long.',
  }),
  electionPollMs: setting.durationMs('RUNPLANE_ELECTION_POLL_MS', {
    default: 250,
    min: 10,
    doc: 'How often waiting candidates and observers look at a lease (an expiry raises no event).',
  }),
  natsUrl: infraSettings.natsUrl,
  natsNamespace: infraSettings.natsNamespace,
});

/** Standalone mode: all six services in one process on embedded defaults. */
export const standaloneConfig = defineConfig('standalone', {
  ...common,
  httpHost: setting.string('RUNPLANE_HTTP_HOST', {
    default: '127.0.0.1',
    doc: 'Interface the HTTP server listens on.',
  }),
  httpPort: setting.port('RUNPLANE_HTTP_PORT', { default: 8080, doc: 'Port of the HTTP server.' }),
  modelDir: infraSettings.modelDir,
  dataDir: setting.path('RUNPLANE_DATA_DIR', {
    default: '.runplane/data',
    doc: 'Standalone mode: folder of the embedded database.',
  }),
  fileDir: setting.path('RUNPLANE_FILE_DIR', {
    default: '.runplane/files',
    doc: 'Folder for file contents when no S3 endpoint is configured.',
  }),
  demoUsers: setting.boolean('RUNPLANE_DEMO_USERS', { default: true, doc: demoUsersDoc }),
});

/** Every service configuration, for documentation and checks. */
export const allConfigs = [
  gatewayConfig,
  sessionConfig,
  executorConfig,
  fileConfig,
  schedulerConfig,
  leaderElectionConfig,
  standaloneConfig,
] as const;

/** The gateway's validated settings. */
export type GatewayConfig = ReturnType<typeof gatewayConfig.load>;
/** The session service's validated settings. */
export type SessionConfig = ReturnType<typeof sessionConfig.load>;
/** The microflow executor's validated settings. */
export type ExecutorConfig = ReturnType<typeof executorConfig.load>;
/** The file service's validated settings. */
export type FileConfig = ReturnType<typeof fileConfig.load>;
/** The scheduler's validated settings. */
export type SchedulerConfig = ReturnType<typeof schedulerConfig.load>;
/** The leader-election service's validated settings. */
export type LeaderElectionConfig = ReturnType<typeof leaderElectionConfig.load>;
/** Standalone mode's validated settings. */
export type StandaloneConfig = ReturnType<typeof standaloneConfig.load>;
