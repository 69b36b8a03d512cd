/**
 * Test support for the scheduler's service tests: a bus namespace of a suite's own on the
 * machine's NATS, a real leader-election service in process, scheduler replicas whose
 * logs are captured, and a look at what the scheduled-event work queue holds.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames, connectNats, type Bus } from '@runplane/bus';
import { leaderElectionConfig, schedulerConfig } from '@runplane/config';
import { startLeaderElection, type RunningLeaderElection } from '@runplane/leader-election-service';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import type { Clock } from '@runplane/scheduling';
import { createLogger } from '@runplane/telemetry';
import { startScheduler, type RunningScheduler } from '../scheduler.service.js';

/** The machine's NATS server. */
export const NATS_URL = process.env.RUNPLANE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** The model of the service tests. */
export const CLOCK_MODEL_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'app');

/** A log line, parsed. */
export interface LogLine {
  readonly msg: string;
  readonly node_id: string;
  readonly level: string;
  readonly [field: string]: unknown;
}

/** A suite's own bus namespace, its model, and everything it started. */
export interface TestSite {
  readonly namespace: string;
  readonly model: CompiledModel;
  /** Every line every replica of the site logged, in order. */
  readonly logs: LogLine[];
  /** A new NATS connection in the site's namespace (closed by {@link cleanup}). */
  connect(name: string): Promise<Bus>;
  /** A leader-election service in process, on a NATS connection of its own. */
  startElection(leaseTtlMs: number): Promise<RunningLeaderElection>;
  /** A scheduler replica on a NATS connection of its own; `stop({ resign: false })` simulates a crash. */
  startReplica(options: ReplicaOptions): Promise<Replica>;
  /** The message ids of the jobs the scheduled-event work queue holds, in order. */
  queuedRunIds(): Promise<string[]>;
  /** Stops everything started and deletes the namespace's streams and buckets. */
  cleanup(): Promise<void>;
}

/** Options of one replica. */
export interface ReplicaOptions {
  readonly name: string;
  readonly electionAddress: string;
  readonly leaseTtlMs: number;
  readonly clock?: Clock;
  /** Extra settings, as environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A running replica with the node id it campaigns with. */
export interface Replica {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly scheduler: RunningScheduler;
  /** Crashes it: stops without resigning, and drops its NATS connection at once. */
  crash(): Promise<void>;
}

/** Waits until `check` returns a value, looking every 20 ms. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fresh site on the machine's NATS. */
export async function createTestSite(prefix: string, modelDir = CLOCK_MODEL_DIR): Promise<TestSite> {
  const namespace = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
    .toLowerCase()
    .slice(0, 32);
  const model = await loadModelOrThrow(modelDir);
  const logs: LogLine[] = [];
  const buses: Bus[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const names = busNames(namespace);

  const connectBus = async (name: string): Promise<Bus> => {
    const bus = await connectNats({ servers: [NATS_URL], name });
    buses.push(bus);
    return bus;
  };

  return {
    namespace,
    model,
    logs,
    connect: connectBus,
    async startElection(leaseTtlMs) {
      const election = await startLeaderElection({
        config: leaderElectionConfig.load({
          RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
          RUNPLANE_NATS_URL: NATS_URL,
          RUNPLANE_NATS_NAMESPACE: namespace,
          RUNPLANE_LEADER_LEASE_TTL_MS: String(leaseTtlMs),
          RUNPLANE_ELECTION_POLL_MS: '50',
        }),
        logger: createLogger({ service: 'leader-election', nodeId: 'election', level: 'silent' }),
        nodeId: 'election',
      });
      stoppers.push(() => election.stop());
      return election;
    },
    async startReplica(options) {
      const nodeId = `scheduler-${options.name}-${randomBytes(4).toString('hex')}`;
      const bus = await connectBus(nodeId);
      const scheduler = await startScheduler({
        config: schedulerConfig.load({
          RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
          RUNPLANE_NATS_URL: NATS_URL,
          RUNPLANE_NATS_NAMESPACE: namespace,
          RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS: options.electionAddress,
          RUNPLANE_LEADER_LEASE_TTL_MS: String(options.leaseTtlMs),
          // No session service in these suites: its duties fail (and are logged) a day apart.
          RUNPLANE_SESSION_GRPC_ADDRESS: '127.0.0.1:9',
          RUNPLANE_SESSION_CLEANUP_INTERVAL_MS: '86400000',
          RUNPLANE_UNBLOCK_INTERVAL_MS: '86400000',
          RUNPLANE_SHUTDOWN_TIMEOUT_MS: '1000',
          ...options.env,
        }),
        logger: createLogger({
          service: 'scheduler',
          nodeId,
          level: 'info',
          destination: {
            write(line: string) {
              logs.push(JSON.parse(line) as LogLine);
            },
          },
        }),
        nodeId,
        bus,
        model,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
      let stopped = false;
      stoppers.push(async () => {
        if (!stopped) await scheduler.stop();
      });
      return {
        nodeId,
        bus,
        scheduler,
        async crash() {
          stopped = true;
          await scheduler.stop({ resign: false });
          await bus.close({ gracePeriodMs: 0 });
        },
      };
    },
    async queuedRunIds() {
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const stream = names.workQueues.scheduledEvents.stream;
        const info = await jsm.streams.info(stream);
        const ids: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
          const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
          if (m === null || m.subject !== names.workQueues.scheduledEvents.subject) continue;
          ids.push(m.header.get('Nats-Msg-Id'));
        }
        return ids;
      } finally {
        await nc.close();
      }
    },
    async cleanup() {
      for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
      for (const bus of buses) await bus.close({ gracePeriodMs: 0 }).catch(() => undefined);
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const upper = namespace.toUpperCase().replaceAll('-', '_');
        const doomed: string[] = [];
        for await (const name of jsm.streams.names()) {
          if (name.startsWith(`${upper}_`) || name.startsWith(`KV_${upper}_`)) doomed.push(name);
        }
        await Promise.all(doomed.map((name) => jsm.streams.delete(name)));
      } finally {
        await nc.close();
      }
    },
  };
}
