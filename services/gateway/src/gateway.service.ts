import { connectNats, type Bus } from '@runplane/bus';
import type { GatewayConfig } from '@runplane/config';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { gateway } from '@runplane/proto';
import { GrpcServer, HealthState, unaryHandler, type RunningService } from '@runplane/service-host';
import { createMetrics, type Logger, type Metrics } from '@runplane/telemetry';
import { ExecutorClient } from './executor/executor-client.js';
import { buildHttpApp } from './http/app.js';
import { corsPolicy, trustProxySetting } from './http/hygiene.js';
import { RateLimiter } from './http/rate-limit.js';
import { Readiness } from './readiness.js';
import { registerApiDoc } from './rest/api-doc.js';
import { OpenApiGenerator } from './rest/openapi.js';
import { RestAuthenticator } from './rest/rest-auth.js';
import { registerRestRoutes } from './rest/rest-routes.js';
import { EntityAccess } from './security/entity-access.js';
import { SessionLayer } from './session/session-layer.js';
import { ModelMembers } from './wire/objects.js';
import { dataActions } from './xas/data-actions.js';
import { XasRegistry } from './xas/registry.js';
import { sessionActions } from './xas/session-actions.js';

/** What the gateway needs to run. */
export interface GatewayDependencies {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly nodeId: string;
  /** Shared in standalone mode, where one process serves one /metrics. */
  readonly metrics?: Metrics;
  /** The bus (session events); a NATS connection to RUNPLANE_NATS_URL when not given. */
  readonly bus?: Bus;
  /** The app model (for published REST, /api-doc and typing client values); loaded from RUNPLANE_MODEL_DIR when not given. */
  readonly model?: CompiledModel;
}

/** A running gateway. */
export interface RunningGateway extends RunningService {
  /** Base URL of the HTTP edge, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Bound address of the gateway's gRPC service. */
  readonly grpcAddress: string;
  /** Sessions as this gateway sees them (validation cache included). */
  readonly sessions: SessionLayer;
}

/** Starts the gateway: its gRPC face, then the HTTP edge. */
export async function startGateway(deps: GatewayDependencies): Promise<RunningGateway> {
  const { config, logger, nodeId } = deps;
  const startedAtMs = BigInt(Date.now());
  const model = deps.model ?? (await loadModelOrThrow(config.modelDir));
  const metrics = deps.metrics ?? createMetrics({ service: 'gateway' });
  const grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
  let httpAddress = '';
  grpc.add(gateway.GatewayServiceService, {
    getInfo: unaryHandler(logger, 'GetInfo', () =>
      Promise.resolve({ version: '0.1.0', nodeId, modelVersion: model.version, startedAtMs, httpAddress }),
    ),
  });
  const grpcAddress = await grpc.start();

  const readiness = new Readiness(
    [
      { name: 'session', address: config.sessionAddress },
      { name: 'microflow-executor', address: config.executorAddress },
      { name: 'file', address: config.fileAddress },
      { name: 'scheduler', address: config.schedulerAddress },
      { name: 'leader-election', address: config.leaderElectionAddress },
    ],
    config.readyTimeoutMs,
    {
      name: 'gateway',
      state: () => (grpc.health.get('') === HealthState.Serving ? 'SERVING' : 'NOT_SERVING'),
    },
  );
  const bus = deps.bus ?? (await connectNats({ servers: [...config.natsUrl], name: nodeId }));
  const sessions = new SessionLayer(
    {
      sessionAddress: config.sessionAddress,
      cacheTtlMs: config.sessionCacheMs,
      cacheMaxEntries: config.sessionCacheMaxEntries,
      callTimeoutMs: config.sessionValidateTimeoutMs,
      basicCacheTtlMs: config.basicAuthCacheMs,
    },
    logger,
  );
  await sessions.listen(bus, config.natsNamespace);
  const executorClient = new ExecutorClient(config.executorAddress);
  const members = new ModelMembers(model);
  const access = new EntityAccess(model);
  const passwordChecks = new RateLimiter({ perMinute: config.loginRateLimitPerMinute });
  const registry = new XasRegistry().register(
    ...sessionActions(sessions, logger, passwordChecks),
    ...dataActions({ executor: executorClient, members, access }),
  );
  const auth = new RestAuthenticator({ model, access, sessions, passwordChecks });
  const openApi = new OpenApiGenerator(model, members);
  for (const service of model.restServices.values()) {
    for (const op of service.operations) {
      if (
        op.target.kind === 'microflow' &&
        op.target.parameters.some((p) => p.source === 'request' || p.source === 'response')
      ) {
        logger.warn(
          { service: service.name, operation: op.name },
          'REST operation takes System.HttpRequest/HttpResponse, which the gateway cannot pass yet: it answers 500 OPERATION_UNSUPPORTED',
        );
      }
    }
  }
  const app = buildHttpApp({
    logger,
    metrics,
    readiness,
    http: {
      bodyLimitBytes: config.httpBodyLimitBytes,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      trustProxy: trustProxySetting(config.trustProxy),
      cors: corsPolicy(config.corsOrigins),
      hstsMaxAgeMs: config.hstsMaxAgeMs,
    },
    xas: { registry, sessions, cookies: { secure: config.cookieSecure } },
    routes: [
      (a) => {
        registerRestRoutes(a, { model, access, members, executor: executorClient, auth });
      },
      (a) => {
        registerApiDoc(a, model, (service) => openApi.document(service));
      },
    ],
  });
  await app.listen({ host: config.httpHost, port: config.httpPort });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
  httpAddress = `${host}:${port}`;
  const url = `http://${httpAddress}`;
  logger.info({ url }, 'HTTP edge listening');

  return {
    url,
    grpcAddress,
    sessions,
    async stop() {
      grpc.health.setAll(HealthState.NotServing);
      await Promise.all([app.close(), grpc.stop(config.shutdownTimeoutMs)]);
      readiness.close();
      executorClient.close();
      await sessions.close();
      if (!deps.bus) await bus.close({ gracePeriodMs: 1000 });
    },
  };
}
