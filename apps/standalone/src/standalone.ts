import { createMemoryBroker } from '@runplane/bus';
import {
  executorConfig,
  fileConfig,
  gatewayConfig,
  leaderElectionConfig,
  processEnv,
  schedulerConfig,
  sessionConfig,
  type StandaloneConfig,
} from '@runplane/config';
import { startFileService } from '@runplane/file-service';
import { startGateway } from '@runplane/gateway';
import { startLeaderElection } from '@runplane/leader-election-service';
import { startExecutor } from '@runplane/microflow-executor';
import { loadModelOrThrow } from '@runplane/model';
import { openDatabase, type RunplaneDatabase } from '@runplane/persistence';
import { startScheduler } from '@runplane/scheduler';
import type { ProcessContext, RunningService } from '@runplane/service-host';
import { startSessionService } from '@runplane/session-service';
import { createMetrics } from '@runplane/telemetry';

/** A running standalone Runplane. */
export interface RunningStandalone extends RunningService {
  /** The URL of the HTTP edge. */
  readonly url: string;
}

/** Options of {@link startStandalone}. */
export interface StandaloneOptions {
  /**
   * Receives the first administrator's generated password (when RUNPLANE_ADMIN_PASSWORD is
   * unset), once, on the start that creates the administrator. Default: printed to standard
   * output — never to the logs.
   */
  readonly onGeneratedAdminPassword?: (name: string, password: string) => void;
}

function printAdminPassword(name: string, password: string): void {
  process.stdout.write(
    `\nThe administrator '${name}' was created with the password:\n\n    ${password}\n\n` +
      'It is shown this once. Change it with `runplane users set-password`, or set RUNPLANE_ADMIN_PASSWORD.\n\n',
  );
}

/**
 * Starts all six services in this process on embedded defaults: an in-process bus
 * instead of NATS, and gRPC between the services on loopback ports the system picks.
 * RUNPLANE_DATABASE_URL and RUNPLANE_NATS_URL are not used.
 */
export async function startStandalone(
  ctx: ProcessContext<StandaloneConfig>,
  options: StandaloneOptions = {},
): Promise<RunningStandalone> {
  const { config, nodeId } = ctx;
  // One model and one embedded database for every service: PGlite allows one connection
  // per data folder, so the services that use the data share this Database.
  const model = await loadModelOrThrow(config.modelDir);
  const database: RunplaneDatabase = await openDatabase(model, { kind: 'embedded', dataDir: config.dataDir });
  const broker = createMemoryBroker();
  const metrics = createMetrics({ mode: 'standalone' });
  // Each service reads its own configuration from the environment, with what standalone
  // mode fixes: loopback ports, and placeholders where an embedded part replaces a server.
  const env = {
    ...processEnv(),
    RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
    RUNPLANE_NATS_URL: 'nats://in-process.invalid:4222',
    RUNPLANE_DATABASE_URL: 'postgres://embedded.invalid/runplane',
    RUNPLANE_MODEL_DIR: config.modelDir,
    RUNPLANE_FILE_DIR: config.fileDir,
    RUNPLANE_DEMO_USERS: String(config.demoUsers),
  };
  const started: RunningService[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop();
    await broker.close();
    await database.close();
  };
  try {
    const leaderElection = await startLeaderElection({
      config: leaderElectionConfig.load(env),
      logger: ctx.loggerFor('leader-election'),
      nodeId,
      bus: broker.connect('leader-election'),
    });
    started.push(leaderElection);
    const session = await startSessionService({
      config: sessionConfig.load(env),
      logger: ctx.loggerFor('session'),
      nodeId,
      bus: broker.connect('session'),
      model,
      database,
      generateAdminPassword: true,
      onGeneratedAdminPassword: options.onGeneratedAdminPassword ?? printAdminPassword,
    });
    started.push(session);
    const executor = await startExecutor({
      config: executorConfig.load(env),
      logger: ctx.loggerFor('microflow-executor'),
      nodeId,
      bus: broker.connect('microflow-executor'),
      model,
      database,
    });
    started.push(executor);
    const file = await startFileService({
      config: fileConfig.load(env),
      logger: ctx.loggerFor('file'),
      nodeId,
    });
    started.push(file);
    const addresses = {
      RUNPLANE_SESSION_GRPC_ADDRESS: session.grpcAddress,
      RUNPLANE_EXECUTOR_GRPC_ADDRESS: executor.grpcAddress,
      RUNPLANE_FILE_GRPC_ADDRESS: file.grpcAddress,
      RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS: leaderElection.grpcAddress,
    };
    const scheduler = await startScheduler({
      config: schedulerConfig.load({ ...env, ...addresses }),
      logger: ctx.loggerFor('scheduler'),
      nodeId,
      bus: broker.connect('scheduler'),
      model,
    });
    started.push(scheduler);
    const gateway = await startGateway({
      config: gatewayConfig.load({
        ...env,
        ...addresses,
        RUNPLANE_SCHEDULER_GRPC_ADDRESS: scheduler.grpcAddress,
        RUNPLANE_HTTP_HOST: config.httpHost,
        RUNPLANE_HTTP_PORT: String(config.httpPort),
      }),
      logger: ctx.loggerFor('gateway'),
      nodeId,
      metrics,
      bus: broker.connect('gateway'),
      model,
    });
    started.push(gateway);
    return { url: gateway.url, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
