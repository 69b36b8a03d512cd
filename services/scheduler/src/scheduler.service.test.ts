import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames, createMemoryBroker } from '@runplane/bus';
import { leaderElectionConfig, schedulerConfig } from '@runplane/config';
import { startLeaderElection } from '@runplane/leader-election-service';
import { executor, scheduler } from '@runplane/proto';
import { ManualClock, runIdOf, timetableOf } from '@runplane/scheduling';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { startScheduler } from './scheduler.service.js';
import { NATS_URL, createTestSite, eventually, type Replica, type TestSite } from './testing/harness.js';

const LEASE_TTL_MS = 3000;
const MINUTE = 60_000;
const T0 = Date.parse('2031-03-01T00:00:30Z');
const slot = (minute: number): number => Date.parse('2031-03-01T00:00:00Z') + minute * MINUTE;

let site: TestSite;

beforeEach(async () => {
  site = await createTestSite('sched');
});

afterEach(async () => {
  await site.cleanup();
});

async function leader(clock: ManualClock, env: Record<string, string> = {}): Promise<Replica> {
  const election = await site.startElection(LEASE_TTL_MS);
  const replica = await site.startReplica({
    name: 'a',
    electionAddress: election.grpcAddress,
    leaseTtlMs: LEASE_TTL_MS,
    clock,
    env,
  });
  await eventually(() => (replica.scheduler.leading() ? true : undefined), 'the replica to lead');
  await replica.scheduler.settled();
  return replica;
}

/** Reports a run's end as an executor does: on the durable run-finished queue, by run id. */
async function reportEnd(
  replica: Replica,
  runId: string,
  fireAtMs: number,
  outcome: scheduler.RunOutcome,
): Promise<void> {
  const queue = await replica.bus.workQueue(busNames(site.namespace).workQueues.scheduledRunsFinished);
  const report: scheduler.ScheduledRunFinished = {
    event: runId.slice(0, runId.indexOf('@')),
    runId,
    fireAtMs: BigInt(fireAtMs),
    outcome,
    finishedAtMs: BigInt(fireAtMs + 1000),
    error: '',
  };
  await queue.enqueue(scheduler.ScheduledRunFinished.encode(report).finish(), { msgId: runId });
}

function schedulerClient(replica: Replica): scheduler.SchedulerServiceClient {
  return createClient(scheduler.SchedulerServiceClient, replica.scheduler.grpcAddress);
}

describe('overlap, with the ends of runs reported by the executors', () => {
  it('Delay next: holds the time that comes while a run is going, and fires it the moment that run is reported over', async () => {
    const clock = new ManualClock(T0);
    const a = await leader(clock, { RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryFiveDelayed' });
    const client = schedulerClient(a);
    const status = async (): Promise<scheduler.Schedule | undefined> =>
      (await callUnary(client, 'listSchedules', {})).schedules.find(
        (s) => s.name === 'Clock.EveryFiveDelayed',
      );

    clock.advanceBy(5 * MINUTE);
    await a.scheduler.settled();
    const first = runIdOf('Clock.EveryFiveDelayed', slot(5));
    expect(await site.queuedRunIds()).toEqual([first]);
    expect(await status()).toMatchObject({ lastStatus: 'queued', lastRunStatus: 'queued', lastRunId: first });

    clock.advanceBy(5 * MINUTE);
    await a.scheduler.settled();
    expect(await site.queuedRunIds()).toEqual([first]);
    expect(await status()).toMatchObject({ lastStatus: 'delayed', lastRunStatus: 'queued' });

    clock.advanceBy(2 * MINUTE);
    await reportEnd(a, first, slot(5), scheduler.RunOutcome.RUN_OUTCOME_COMPLETED);
    const held = runIdOf('Clock.EveryFiveDelayed', slot(10));
    await eventually(
      async () => ((await site.queuedRunIds()).includes(held) ? true : undefined),
      'the held run',
    );
    await a.scheduler.settled();
    expect(await site.queuedRunIds()).toEqual([first, held]);
    expect(site.logs.find((l) => l.runId === held && l.msg === 'firing')).toMatchObject({
      reason: 'delayed',
    });
    // A late or repeated report of the earlier run changes nothing.
    await reportEnd(a, first, slot(5), scheduler.RunOutcome.RUN_OUTCOME_FAILED);
    expect(await status()).toMatchObject({
      lastStatus: 'queued',
      lastRunId: held,
      lastFireAtMs: BigInt(slot(10)),
    });
    client.close();
  });

  it('Skip next: skips times while a run is going, and fires again at the first time after a failed run is reported', async () => {
    const clock = new ManualClock(T0);
    const a = await leader(clock, { RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute' });
    clock.advanceBy(MINUTE);
    await a.scheduler.settled();
    clock.advanceBy(2 * MINUTE);
    await a.scheduler.settled();
    const first = runIdOf('Clock.EveryMinute', slot(1));
    expect(await site.queuedRunIds()).toEqual([first]);
    expect(site.logs.filter((l) => l.msg === 'run skipped').map((l) => l.fireAtMs)).toEqual([slot(3)]);

    await reportEnd(a, first, slot(1), scheduler.RunOutcome.RUN_OUTCOME_FAILED);
    const client = schedulerClient(a);
    await eventually(
      async () =>
        (await callUnary(client, 'listSchedules', {})).schedules.find((s) => s.name === 'Clock.EveryMinute')
          ?.lastRunStatus === 'failed'
          ? true
          : undefined,
      'the failure to be recorded',
    );
    clock.advanceBy(MINUTE);
    await a.scheduler.settled();
    expect(await site.queuedRunIds()).toEqual([first, runIdOf('Clock.EveryMinute', slot(4))]);
    client.close();
  });
});

describe('the gRPC service', () => {
  it('lists every scheduled event and duty with its timetable, next and last times, on leader and follower alike', async () => {
    const clock = new ManualClock(Date.parse('2031-03-29T12:00:00Z'));
    const a = await leader(clock);
    const b = await site.startReplica({
      name: 'b',
      electionAddress: (await site.startElection(LEASE_TTL_MS)).grpcAddress,
      leaseTtlMs: LEASE_TTL_MS,
      clock,
    });
    clock.advanceBy(MINUTE);
    await a.scheduler.settled();
    const fromA = await callUnary(schedulerClient(a), 'listSchedules', {});
    const fromB = await callUnary(schedulerClient(b), 'listSchedules', {});
    expect(fromA.leading).toBe(true);
    expect(fromB.leading).toBe(false);
    expect(fromB.schedules).toEqual(fromA.schedules);
    const byName = new Map(fromA.schedules.map((s) => [s.name, s]));
    expect([...byName.keys()]).toEqual([
      'Clock.EveryFiveDelayed',
      'Clock.EveryMinute',
      'Clock.Nightly',
      'Clock.Off',
      'duty:session-cleanup',
      'duty:unblock-users',
      'duty:processed-tasks-cleanup',
      'duty:clear-sessions-on-deploy',
    ]);
    expect(byName.get('Clock.EveryMinute')).toMatchObject({
      timetable: 'every minute (UTC)',
      enabled: true,
      overlapPolicy: 'skip',
      microflow: 'Clock.Tick',
      lastStatus: 'queued',
      lastRunId: runIdOf('Clock.EveryMinute', Date.parse('2031-03-29T12:01:00Z')),
      nextFireAtMs: BigInt(Date.parse('2031-03-29T12:02:00Z')),
    });
    // Server time is the app's default time zone; 30 March 2031 is a spring-forward day there.
    expect(byName.get('Clock.Nightly')).toMatchObject({
      timetable: 'daily at 02:30 (Europe/Amsterdam)',
      nextFireAtMs: BigInt(Date.parse('2031-03-30T01:00:00Z')),
      lastStatus: '',
    });
    expect(byName.get('Clock.Off')).toMatchObject({ enabled: false, nextFireAtMs: 0n });
    expect(byName.get('Clock.EveryFiveDelayed')?.overlapPolicy).toBe('delay');
    expect(byName.get('duty:session-cleanup')).toMatchObject({ timetable: 'every day', microflow: '' });
    // Processed-task cleanup runs on the same interval (Mendix's ClusterManagerActionInterval).
    expect(byName.get('duty:processed-tasks-cleanup')).toMatchObject({ timetable: 'every day' });
    expect(byName.get('duty:clear-sessions-on-deploy')?.timetable).toBe('once per model version');
  });

  it('queues a run on request on any replica, with an id of its own, and names an unknown event', async () => {
    const clock = new ManualClock(T0);
    const a = await leader(clock, { RUNPLANE_SCHEDULED_EVENTS: 'none' });
    const b = await site.startReplica({
      name: 'b',
      electionAddress: (await site.startElection(LEASE_TTL_MS)).grpcAddress,
      leaseTtlMs: LEASE_TTL_MS,
      clock,
    });
    const client = schedulerClient(b);
    const one = await callUnary(client, 'runNow', { name: 'Clock.Off' });
    const two = await callUnary(client, 'runNow', { name: 'Clock.Off' });
    expect(one.runId).toMatch(new RegExp(`^Clock\\.Off@${T0}~[0-9a-f-]{36}$`));
    expect(two.runId).not.toBe(one.runId);
    expect(await site.queuedRunIds()).toEqual([one.runId, two.runId]);
    await expect(callUnary(client, 'runNow', { name: 'Clock.Nope' })).rejects.toMatchObject({
      code: 'SCHEDULE_NOT_FOUND',
      status: 'not_found',
    });
    // "none" fires nothing on its own.
    clock.advanceBy(10 * MINUTE);
    await a.scheduler.settled();
    expect(await site.queuedRunIds()).toHaveLength(2);
    client.close();
  });
});

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();

  beforeEach(() => {
    const contextManager = new AsyncLocalStorageContextManager();
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });

  afterEach(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('fires each run in a span of its own whose context travels in the job, for the executor to continue', async () => {
    const clock = new ManualClock(T0);
    const a = await leader(clock, { RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute' });
    clock.advanceBy(MINUTE);
    await a.scheduler.settled();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'scheduler fire Clock.EveryMinute');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.attributes).toMatchObject({
      'runplane.scheduled_event': 'Clock.EveryMinute',
      'runplane.run_id': runIdOf('Clock.EveryMinute', slot(1)),
      'runplane.fire_reason': 'due',
    });

    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = busNames(site.namespace).workQueues.scheduledEvents.stream;
      const info = await jsm.streams.info(stream);
      const message = await jsm.streams.getMessage(stream, { seq: info.state.last_seq });
      if (message === null) throw new Error('the run is not in the work queue');
      expect(message.header.get('traceparent')).toContain(span?.spanContext().traceId);
      const job = executor.TaskJob.decode(message.data);
      expect(job.kind).toEqual({
        $case: 'scheduledEvent',
        value: { event: 'Clock.EveryMinute', microflow: 'Clock.Tick', fireAtMs: BigInt(slot(1)) },
      });
    } finally {
      await nc.close();
    }
  });
});

describe('standalone mode', () => {
  it('leads and fires on the in-process bus, with the leader-election service in the same process', async () => {
    const broker = createMemoryBroker();
    const logger = createLogger({ service: 'scheduler', nodeId: 'standalone', level: 'silent' });
    const election = await startLeaderElection({
      config: leaderElectionConfig.load({
        RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
        RUNPLANE_LEADER_LEASE_TTL_MS: String(LEASE_TTL_MS),
        RUNPLANE_ELECTION_POLL_MS: '50',
      }),
      logger,
      nodeId: 'standalone',
      bus: broker.connect('leader-election'),
    });
    const clock = new ManualClock(T0);
    const running = await startScheduler({
      config: schedulerConfig.load({
        RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
        RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS: election.grpcAddress,
        RUNPLANE_LEADER_LEASE_TTL_MS: String(LEASE_TTL_MS),
        RUNPLANE_SESSION_GRPC_ADDRESS: '127.0.0.1:9',
        RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute',
      }),
      logger,
      nodeId: 'standalone',
      bus: broker.connect('scheduler'),
      model: site.model,
      clock,
    });
    try {
      await eventually(() => (running.leading() ? true : undefined), 'the scheduler to lead');
      await running.settled();
      const jobs: string[] = [];
      const consumer = await (
        await broker.connect('executor').workQueue(busNames().workQueues.scheduledEvents)
      ).consume((job) => {
        jobs.push(job.msgId ?? '');
      });
      clock.advanceBy(MINUTE);
      await running.settled();
      await eventually(() => (jobs.length > 0 ? true : undefined), 'the run to arrive');
      expect(jobs).toEqual([runIdOf('Clock.EveryMinute', slot(1))]);
      await consumer.stop();
      // Timetables of the model, as the service computes them, for the record.
      expect(timetableOf(site.model.scheduledEvents.get('Clock.EveryMinute')!.schedule, 'UTC').next(T0)).toBe(
        slot(1),
      );
    } finally {
      await running.stop();
      await election.stop();
      await broker.close();
    }
  });
});
