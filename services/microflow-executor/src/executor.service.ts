import { connectNats, type Bus } from '@runplane/bus';
import type { ExecutorConfig } from '@runplane/config';
import { UserError } from '@runplane/errors';
import { Decimal, type MxValue } from '@runplane/expressions';
import { createMicroflowEngine, loadActions } from '@runplane/microflows';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { openDatabase, type RunplaneDatabase } from '@runplane/persistence';
import { executor } from '@runplane/proto';
import { GrpcServer, type RunningService } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { ClientApi } from './client-api/client-api.js';
import { CurrentUserLoader } from './client-api/current-user.js';
import { ExecutorErrorCode } from './errors.js';
import { executorHandlers } from './executor.handlers.js';
import { runAfterStartup, runBeforeShutdown } from './lifecycle.js';
import { TaskOutbox } from './tasks/task-outbox.js';
import { TaskWorker } from './tasks/task-worker.js';
import { deleteProcessedTasks } from './tasks/task-records.js';

/** What the microflow executor needs to run. */
export interface ExecutorDependencies {
  readonly config: ExecutorConfig;
  readonly logger: Logger;
  readonly nodeId: string;
  /** The bus; a NATS connection to RUNPLANE_NATS_URL when not given. */
  readonly bus?: Bus;
  /** The app model; the database's, or loaded from RUNPLANE_MODEL_DIR when not given. */
  readonly model?: CompiledModel;
  /**
   * The app's database, already migrated (standalone mode shares one embedded database
   * between services). When not given, the executor opens RUNPLANE_DATABASE_URL and migrates
   * it — under the migration lock, so executors starting together migrate once — and closes
   * it on stop.
   */
  readonly database?: RunplaneDatabase;
  /** The fetch Call REST activities use; the global fetch when not given. */
  readonly fetch?: typeof fetch;
}

/** A running microflow executor. */
export interface RunningExecutor extends RunningService {
  readonly grpcAddress: string;
  /** The same API the gRPC service serves, in process and in domain types. */
  readonly api: ClientApi;
}

/** A constant's value from RUNPLANE_CONSTANTS, by the constant's type. */
function constantValue(name: string, kind: string, raw: unknown): MxValue {
  const bad = (expected: string): never => {
    throw new UserError({
      code: ExecutorErrorCode.ConstantsInvalid,
      message: `RUNPLANE_CONSTANTS: ${name} is a ${kind} constant and takes ${expected}.`,
      details: { variable: 'RUNPLANE_CONSTANTS', constant: name },
    });
  };
  if (raw === null) return null;
  switch (kind) {
    case 'String':
      return typeof raw === 'string' ? raw : bad('a string');
    case 'Boolean':
      return typeof raw === 'boolean' ? raw : bad('true or false');
    case 'Integer':
    case 'Long':
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return BigInt(raw);
      return typeof raw === 'string' && /^-?\d+$/.test(raw)
        ? BigInt(raw)
        : bad('a whole number (as a string beyond 2^53)');
    case 'Decimal':
      if (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw)) return new Decimal(raw);
      return typeof raw === 'number' && Number.isFinite(raw)
        ? new Decimal(String(raw))
        : bad('a decimal number as a string');
    case 'DateTime':
      return typeof raw === 'number' && Number.isFinite(raw) ? new Date(raw) : bad('epoch milliseconds');
    default:
      return bad('no value from the environment');
  }
}

/** Reads RUNPLANE_CONSTANTS against the model's constants. */
export function parseConstants(text: string | undefined, model: CompiledModel): Map<string, MxValue> {
  const out = new Map<string, MxValue>();
  if (text === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new UserError({
      code: ExecutorErrorCode.ConstantsInvalid,
      message: 'RUNPLANE_CONSTANTS is not valid JSON: give an object of constant values by qualified name.',
      details: { variable: 'RUNPLANE_CONSTANTS' },
      cause,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError({
      code: ExecutorErrorCode.ConstantsInvalid,
      message: 'RUNPLANE_CONSTANTS must be a JSON object of constant values by qualified name.',
      details: { variable: 'RUNPLANE_CONSTANTS' },
    });
  }
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    const constant = model.constants.get(name);
    if (constant === undefined) {
      throw new UserError({
        code: ExecutorErrorCode.ConstantsInvalid,
        message: `RUNPLANE_CONSTANTS: the model has no constant ${name}.`,
        details: { variable: 'RUNPLANE_CONSTANTS', constant: name, known: [...model.constants.keys()] },
      });
    }
    out.set(name, constantValue(name, constant.type.kind, raw));
  }
  return out;
}

/**
 * Starts the microflow executor: loads the model, opens and migrates the database (unless
 * given), compiles the microflows, serves `runplane.executor.v1.ExecutorService`, and —
 * unless RUNPLANE_TASK_QUEUES_ENABLED is off — runs queued tasks and scheduled events from
 * the work queues and relays queued tasks that never reached them.
 */
export async function startExecutor(deps: ExecutorDependencies): Promise<RunningExecutor> {
  const { config, logger } = deps;
  const model = deps.model ?? deps.database?.model ?? (await loadModelOrThrow(config.modelDir));
  const ownDatabase = deps.database === undefined;
  let database: RunplaneDatabase | undefined = deps.database;
  let bus: Bus | undefined = deps.bus;
  let grpc: GrpcServer | undefined;
  let worker: TaskWorker | undefined;
  let outbox: TaskOutbox | undefined;
  try {
    const constants = parseConstants(config.constants, model);
    const actions = await loadActions(config.modelDir, model);
    database ??= await openDatabase(model, {
      kind: 'postgres',
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
    });
    bus ??= await connectNats({ servers: [...config.natsUrl], name: deps.nodeId });
    outbox = new TaskOutbox({ model, bus, namespace: config.natsNamespace, logger });
    const engine = createMicroflowEngine(model, {
      logger,
      limits: {
        maxLoopIterations: config.microflowMaxLoopIterations,
        maxRunTimeMs: config.microflowTimeoutMs,
        maxCallDepth: config.microflowMaxCallDepth,
        yieldEveryIterations: config.microflowYieldEveryIterations,
      },
      actions,
      tasks: outbox,
      constants,
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    });
    const missing = engine.missingActions();
    if (missing.length > 0) {
      logger.warn({ actions: missing }, 'custom actions the model declares have no code; calling them fails');
    }
    // Mendix runs the after-startup microflow on every node, before it takes requests.
    const lifecycle = { model, database, engine, outbox, logger };
    await runAfterStartup(lifecycle);
    const users = new CurrentUserLoader(model);
    const api = new ClientApi({ model, database, engine, outbox, users });

    grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
    const opened = database;
    const handlers = executorHandlers(api, model, logger, {
      cleanupProcessedTasks: () =>
        deleteProcessedTasks(
          opened,
          new Date(Date.now() - config.processedTasksCleanupAgeMs),
          config.processedTasksCleanupBatchSize,
        ),
    });
    grpc.add(executor.ExecutorServiceService, handlers.server);
    const grpcAddress = await grpc.start();

    if (config.taskQueuesEnabled) {
      worker = new TaskWorker({
        model,
        database,
        engine,
        outbox,
        users,
        bus,
        namespace: config.natsNamespace,
        logger,
        ackWaitMs: config.taskAckWaitMs,
        threads: config.taskThreads,
        scheduledEventThreads: config.scheduledEventThreads,
      });
      await worker.start();
      outbox.startRelay(database, config.taskRelayIntervalMs, config.taskRelayAfterMs);
    }
    logger.info(
      {
        app: model.app.name,
        modelVersion: model.version,
        microflows: model.microflows.size,
        taskQueues: config.taskQueuesEnabled,
      },
      'microflow executor ready',
    );

    const server = grpc;
    const running = { worker, outbox, database, bus };
    return {
      grpcAddress,
      api,
      async stop() {
        const stopDeadline = Date.now() + config.shutdownTimeoutMs;
        // Tasks still running when time is up are delivered again after their ack wait.
        const tasksStopped = Promise.all([running.worker?.stop(), running.outbox.stopRelay()]);
        // The server refuses new calls from here on; the open retrieve streams end once what
        // they were given is answered, so that the graceful stop need not wait them out.
        const serverStopped = server.stop(config.shutdownTimeoutMs);
        await Promise.all([
          handlers.drain(config.shutdownTimeoutMs).then(() => serverStopped),
          Promise.race([
            tasksStopped,
            new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref()),
          ]),
        ]);
        // What is left of the shutdown time (at least a little) goes to the before-shutdown
        // microflow; past it, its transaction rolls back as the database closes.
        await runBeforeShutdown(lifecycle, Math.max(250, stopDeadline - Date.now()));
        if (deps.bus === undefined) await running.bus.close({ gracePeriodMs: 500 });
        if (ownDatabase) await running.database.close();
      },
    };
  } catch (err) {
    await worker?.stop().catch(() => undefined);
    await outbox?.stopRelay().catch(() => undefined);
    await grpc?.stop(0).catch(() => undefined);
    if (deps.bus === undefined) await bus?.close({ gracePeriodMs: 0 }).catch(() => undefined);
    if (ownDatabase) await database?.close().catch(() => undefined);
    throw err;
  }
}
