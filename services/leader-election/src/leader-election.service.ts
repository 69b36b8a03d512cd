import { busNames, connectNats, encodeJson, type Bus } from '@runplane/bus';
import type { LeaderElectionConfig } from '@runplane/config';
import { Elections, NodeRegistry } from '@runplane/election';
import { leader } from '@runplane/proto';
import { GrpcServer, type RunningService } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { leaderElectionImplementation } from './leader-election.handlers.js';

/** What the leader-election service needs to run. */
export interface LeaderElectionDependencies {
  readonly config: LeaderElectionConfig;
  readonly logger: Logger;
  readonly nodeId: string;
  /** The bus; a NATS connection to RUNPLANE_NATS_URL when not given (standalone passes its own). */
  readonly bus?: Bus;
}

/** A running leader-election service. */
export interface RunningLeaderElection extends RunningService {
  readonly grpcAddress: string;
}

/** Starts the leader-election service. */
export async function startLeaderElection(deps: LeaderElectionDependencies): Promise<RunningLeaderElection> {
  const { config, logger } = deps;
  const bus = deps.bus ?? (await connectNats({ servers: [...config.natsUrl], name: deps.nodeId }));
  const names = busNames(config.natsNamespace);
  const elections = new Elections(await bus.kv(names.buckets.leases, { ttlMs: config.leaseTtlMs }), {
    leaseTtlMs: config.leaseTtlMs,
    pollIntervalMs: config.electionPollMs,
    onChange: (election, leadership) => {
      logger.info(
        { election, leaderId: leadership?.leaderId, fencingToken: leadership?.fencingToken.toString() },
        'leadership changed',
      );
      bus.publish(
        names.subjects.leaderChanged(election),
        encodeJson(
          leadership ? { ...leadership, fencingToken: leadership.fencingToken.toString() } : { election },
        ),
      );
    },
  });
  const nodes = new NodeRegistry(
    await bus.kv(names.buckets.nodes, { ttlMs: config.nodeTtlMs }),
    config.nodeTtlMs,
  );
  const grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
  const stopping = new AbortController();
  grpc.add(
    leader.LeaderElectionServiceService,
    leaderElectionImplementation(elections, nodes, config.leaseTtlMs, logger, stopping.signal),
  );
  const grpcAddress = await grpc.start();
  return {
    grpcAddress,
    async stop() {
      stopping.abort();
      await grpc.stop(config.shutdownTimeoutMs);
      if (!deps.bus) await bus.close({ gracePeriodMs: 1000 });
    },
  };
}
