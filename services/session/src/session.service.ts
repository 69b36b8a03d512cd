import { connectNats, type Bus } from '@runplane/bus';
import type { SessionConfig } from '@runplane/config';
import { ErrorKind, asRunplaneError } from '@runplane/errors';
import {
  createIdentity,
  publishSessionEvents,
  type Identity,
  type PasswordHasher,
  type ProvisionResult,
} from '@runplane/identity';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { openDatabase, type RunplaneDatabase } from '@runplane/persistence';
import { session } from '@runplane/proto';
import { GrpcServer, type RunningService } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { sessionHandlers } from './session.handlers.js';

/** What the session service needs to run. */
export interface SessionServiceDependencies {
  readonly config: SessionConfig;
  readonly logger: Logger;
  readonly nodeId: string;
  /** The bus; a NATS connection to RUNPLANE_NATS_URL when not given. */
  readonly bus?: Bus;
  /** The app model; loaded from RUNPLANE_MODEL_DIR when not given. */
  readonly model?: CompiledModel;
  /**
   * The app's database, already migrated (standalone mode shares one embedded database
   * between services). When not given, the service opens RUNPLANE_DATABASE_URL and migrates
   * it itself — under the migration lock, so start order does not matter — and closes it on stop.
   */
  readonly database?: RunplaneDatabase;
  /**
   * Without RUNPLANE_ADMIN_PASSWORD, generate a random password for the first administrator
   * instead of creating none (standalone mode).
   */
  readonly generateAdminPassword?: boolean;
  /**
   * Called once when this start created the first administrator with a generated password —
   * the only moment it is known (standalone mode prints it). Never logged.
   */
  readonly onGeneratedAdminPassword?: (name: string, password: string) => void;
  /** Password hashing; scrypt at the default cost when not given (tests pass a cheaper one). */
  readonly passwordHasher?: PasswordHasher;
}

/** A running session service. */
export interface RunningSessionService extends RunningService {
  readonly grpcAddress: string;
  readonly identity: Identity;
}

const PROVISION_ATTEMPTS = 3;

async function provision(identity: Identity, deps: SessionServiceDependencies): Promise<ProvisionResult> {
  const { config, logger } = deps;
  let lastError: unknown;
  // A replica starting at the same moment may win a race on a unique row; the retry then
  // finds the work recorded as done.
  for (let attempt = 1; attempt <= PROVISION_ATTEMPTS; attempt++) {
    try {
      return await identity.provision({
        administrator: {
          name: config.adminUser,
          password: config.adminPassword,
          generatePassword: deps.generateAdminPassword ?? false,
        },
        demoUsers: config.demoUsers,
      });
    } catch (err) {
      // Only a lost race (a unique value taken by another replica) or an outage is worth a retry.
      const e = asRunplaneError(err);
      if (e.kind === ErrorKind.User && e.code !== 'VALIDATION_FAILED') throw err;
      lastError = err;
      if (attempt < PROVISION_ATTEMPTS) logger.warn({ err, attempt }, 'provisioning users failed; retrying');
    }
  }
  throw lastError;
}

function report(result: ProvisionResult, deps: SessionServiceDependencies): void {
  const { logger } = deps;
  if (result.alreadyDone) {
    logger.info('users and roles already provisioned for this model version');
    return;
  }
  const { roles, administrator, demoUsers } = result;
  logger.info(
    { created: roles.created, removed: roles.removed, usersAffected: roles.affectedUserIds.length },
    'user roles in step with the model',
  );
  if (administrator.outcome === 'created') {
    logger.info({ user: administrator.name }, 'first administrator created');
    if (administrator.generatedPassword !== undefined) {
      deps.onGeneratedAdminPassword?.(administrator.name, administrator.generatedPassword);
    }
  } else if (administrator.outcome === 'skipped') {
    logger.warn({ user: administrator.name, reason: administrator.reason }, 'no administrator created');
  }
  if (demoUsers.created.length > 0) logger.info({ users: demoUsers.created }, 'demo users created');
  for (const failure of demoUsers.failed) {
    logger.warn(failure, 'a demo user could not be created');
  }
}

/**
 * Starts the session service: loads the model, opens and migrates the database (unless
 * given), syncs user roles and creates the first administrator and demo users, then serves
 * `runplane.session.v1.SessionService` and publishes session events on the bus.
 */
export async function startSessionService(deps: SessionServiceDependencies): Promise<RunningSessionService> {
  const { config, logger } = deps;
  const model = deps.model ?? deps.database?.model ?? (await loadModelOrThrow(config.modelDir));
  const ownDatabase = deps.database === undefined;
  // Opening migrates (under the migration lock), so the executors' start order does not matter.
  const database =
    deps.database ?? (await openDatabase(model, { kind: 'postgres', url: config.databaseUrl }));
  let bus: Bus | undefined;
  let grpc: GrpcServer | undefined;
  try {
    bus = deps.bus ?? (await connectNats({ servers: [...config.natsUrl], name: deps.nodeId }));
    const identity = createIdentity({
      database,
      settings: {
        ...(config.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: config.sessionTimeoutMs }),
        ...(config.loginMaxAttempts === undefined ? {} : { maxFailedLogins: config.loginMaxAttempts }),
        ...(config.unblockAfterMs === undefined ? {} : { unblockAfterMs: config.unblockAfterMs }),
      },
      events: publishSessionEvents(bus, config.natsNamespace, (err, event) => {
        logger.warn(
          { err, kind: event.kind },
          'could not publish a session event; gateway caches expire by their TTL',
        );
      }),
      onBackgroundError: (err) => {
        logger.error({ err }, 'could not record a failed login');
      },
      ...(deps.passwordHasher === undefined ? {} : { passwordHasher: deps.passwordHasher }),
    });
    report(await provision(identity, deps), deps);
    const { sessionTimeoutMs, maxFailedLogins, unblockAfterMs, throttleLogins } = identity.settings;
    logger.info({ sessionTimeoutMs, maxFailedLogins, unblockAfterMs, throttleLogins }, 'session settings');

    grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
    grpc.add(session.SessionServiceService, sessionHandlers(identity, logger));
    const grpcAddress = await grpc.start();
    const server = grpc;
    const ownBus = deps.bus === undefined ? bus : undefined;
    return {
      grpcAddress,
      identity,
      async stop() {
        await server.stop(config.shutdownTimeoutMs);
        await identity.sessions.drain();
        await ownBus?.close({ gracePeriodMs: 1000 });
        if (ownDatabase) await database.close();
      },
    };
  } catch (err) {
    await grpc?.stop(0);
    if (deps.bus === undefined) await bus?.close({ gracePeriodMs: 0 });
    if (ownDatabase) await database.close().catch(() => undefined);
    throw err;
  }
}
