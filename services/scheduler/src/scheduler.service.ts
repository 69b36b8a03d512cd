import { busNames, connectNats, type Bus } from '@runplane/bus';
import type { SchedulerConfig } from '@runplane/config';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { executor, leader, scheduler, session } from '@runplane/proto';
import { systemClock, type Clock } from '@runplane/scheduling';
import { GrpcServer, createClient, type RunningService } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { FireRecords } from './fire-records.js';
import { FiringEngine } from './firing-engine.js';
import { LeaderCampaign } from './leadership.js';
import { applyRunEnd, schedulerImplementation } from './scheduler.handlers.js';
import {
  clearSessionsOnDeploy,
  eventSchedules,
  parseEventSelection,
  executorDuties,
  sessionDuties,
  unknownSelected,
} from './schedules.js';

/** What the scheduler needs to run. */
export interface SchedulerDependencies {
  readonly config: SchedulerConfig;
  readonly logger: Logger;
  /** This process's unique id: its candidate id in the election. */
  readonly nodeId: string;
  /** The bus; a NATS connection to RUNPLANE_NATS_URL when not given. */
  readonly bus?: Bus;
  /** The app model; loaded from RUNPLANE_MODEL_DIR when not given. */
  readonly model?: CompiledModel;
  /** The time the timetables follow; the system clock when not given (tests simulate time with a manual one). */
  readonly clock?: Clock;
}

/** Options of {@link RunningScheduler.stop}. */
export interface SchedulerStopOptions {
  /**
   * Give up the leadership so another replica takes over at once (default true). False
   * leaves it to lapse with its lease, as a crashed process would.
   */
  readonly resign?: boolean;
}

/** A running scheduler. */
export interface RunningScheduler extends RunningService {
  readonly grpcAddress: string;
  /** True while this replica leads and fires. */
  leading(): boolean;
  /** Resolves when this replica is not in the middle of firing or of a duty. */
  settled(): Promise<void>;
  stop(options?: SchedulerStopOptions): Promise<void>;
}

/**
 * Starts the scheduler: every replica campaigns in the election (RUNPLANE_SCHEDULER_ELECTION)
 * through the leader-election service; the leader fires the model's scheduled events onto
 * the scheduled-event work queue and calls the session service's leader duties, each
 * exactly once in the cluster across fail-overs. Every replica serves ListSchedules and
 * RunNow, and records the ends of runs the executors report.
 */
export async function startScheduler(deps: SchedulerDependencies): Promise<RunningScheduler> {
  const { config, logger, nodeId } = deps;
  const clock = deps.clock ?? systemClock;
  const model = deps.model ?? (await loadModelOrThrow(config.modelDir));
  const bus = deps.bus ?? (await connectNats({ servers: [...config.natsUrl], name: nodeId }));
  const names = busNames(config.natsNamespace);
  const leaderClient = createClient(leader.LeaderElectionServiceClient, config.leaderElectionAddress);
  const sessionClient = createClient(session.SessionServiceClient, config.sessionAddress);
  const executorClient = createClient(executor.ExecutorServiceClient, config.executorAddress);
  const closeClients = (): void => {
    leaderClient.close();
    sessionClient.close();
    executorClient.close();
  };
  try {
    const records = new FireRecords(await bus.kv(names.buckets.schedules));
    const scheduledEvents = await bus.workQueue(names.workQueues.scheduledEvents);
    const runsFinished = await bus.workQueue(names.workQueues.scheduledRunsFinished);

    const selection = parseEventSelection(config.scheduledEvents);
    const unknown = unknownSelected(model, selection);
    if (unknown.length > 0) {
      logger.warn({ names: unknown }, 'RUNPLANE_SCHEDULED_EVENTS names events the model does not have');
    }
    const events = eventSchedules(model, selection);
    // Mendix's ClusterManagerActionInterval: half the session timeout unless set.
    const clusterActionMs =
      config.sessionCleanupIntervalMs ?? Math.floor(model.settings.sessionTimeoutMs / 2);
    const duties = [
      ...sessionDuties(sessionClient, {
        sessionCleanupMs: clusterActionMs,
        unblockMs: config.unblockIntervalMs,
      }),
      ...executorDuties(executorClient, { processedTasksCleanupMs: clusterActionMs }),
    ];
    const deploy = clearSessionsOnDeploy(sessionClient, model.version);

    // The engine asks the campaign whether it may act; the campaign tells the engine when
    // it starts and stops leading.
    const engine: FiringEngine = new FiringEngine({
      clock,
      records,
      scheduledEvents,
      events,
      duties,
      deploy,
      leadership: {
        current: () => campaign.current(),
        relinquish: (term, reason) => {
          campaign.relinquish(term, reason);
        },
      },
      nodeId,
      logger,
      misfireWindowMs: config.misfireWindowMs,
      runTimeoutMs: config.runTimeoutMs,
      dutyTimeoutMs: config.dutyTimeoutMs,
    });
    const campaign = new LeaderCampaign({
      client: leaderClient,
      election: config.election,
      candidateId: nodeId,
      leaseTtlMs: config.leaseTtlMs,
      logger,
      onElected: (term) => {
        engine.lead(term);
      },
      onLost: () => {
        engine.stepDown();
      },
    });
    await engine.start();
    const reports = await runsFinished.consume((job) => applyRunEnd(records, job, nodeId, clock, logger), {
      concurrency: 4,
      backoffMs: [1_000, 5_000],
    });

    const grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
    grpc.add(
      scheduler.SchedulerServiceService,
      schedulerImplementation({
        records,
        scheduledEvents,
        events,
        duties,
        deploy,
        clock,
        logger,
        leading: () => campaign.current() !== undefined,
      }),
    );
    const grpcAddress = await grpc.start();
    campaign.start();
    logger.info(
      {
        election: config.election,
        events: events.filter((e) => e.enabled).map((e) => e.name),
        duties: duties.map((d) => `${d.name} ${d.timetable.description}`),
        leaseTtlMs: config.leaseTtlMs,
      },
      'scheduler campaigning',
    );

    let stopped: Promise<void> | undefined;
    return {
      grpcAddress,
      leading: () => campaign.current() !== undefined,
      settled: () => engine.idle(),
      stop(options = {}) {
        stopped ??= (async () => {
          // Stop acting first; a resignation then hands over at once.
          await campaign.stop({ resign: options.resign ?? true });
          await engine.stop();
          await reports.stop();
          await grpc.stop(config.shutdownTimeoutMs);
          closeClients();
          if (!deps.bus) await bus.close({ gracePeriodMs: options.resign === false ? 0 : 1000 });
        })();
        return stopped;
      },
    };
  } catch (err) {
    closeClients();
    if (!deps.bus) await bus.close({ gracePeriodMs: 0 });
    throw err;
  }
}
