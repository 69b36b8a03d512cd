import { randomUUID } from 'node:crypto';
import type { Job, WorkQueue } from '@runplane/bus';
import { scheduler } from '@runplane/proto';
import { PassReason, RunStatus, recordRunEnd, type Clock, type FiringState } from '@runplane/scheduling';
import { unaryHandler } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { scheduleNotFound } from './errors.js';
import { enqueueRun } from './firing-engine.js';
import { eventKey, type FireRecord, type FireRecords } from './fire-records.js';
import type { DeployDuty, DutySchedule, EventSchedule } from './schedules.js';

/** What the gRPC service needs. */
export interface SchedulerHandlerOptions {
  readonly records: FireRecords;
  readonly scheduledEvents: WorkQueue;
  readonly events: readonly EventSchedule[];
  readonly duties: readonly DutySchedule[];
  readonly deploy: DeployDuty | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** True while this replica leads. */
  readonly leading: () => boolean;
}

/** The status ListSchedules shows for the last run. */
function runStatus(state: FiringState | undefined, duty: boolean): string {
  const run = state?.lastRun;
  if (run === undefined) return '';
  if (run.status === RunStatus.Queued) return duty ? 'running' : 'queued';
  return run.status;
}

/** The status ListSchedules shows for a timetable's last time. */
function lastStatus(state: FiringState | undefined, duty: boolean): string {
  if (state === undefined) return '';
  if (state.delayedSlotMs !== undefined) return 'delayed';
  const run = state.lastRun;
  const passed = state.lastPassed;
  if (passed !== undefined && (run === undefined || passed.atMs >= run.firedAtMs)) {
    return passed.reason === PassReason.Missed ? 'missed' : 'skipped';
  }
  return runStatus(state, duty);
}

function timetableSchedule(
  schedule: EventSchedule | DutySchedule,
  record: FireRecord | undefined,
  nowMs: number,
): scheduler.Schedule {
  const state = record?.state;
  const enabled = schedule.kind === 'event' ? schedule.enabled : true;
  const from = state === undefined || state.paused === true ? nowMs : state.handledThroughMs;
  return {
    name: schedule.name,
    timetable: schedule.timetable.description,
    enabled,
    nextFireAtMs: BigInt(enabled ? (schedule.timetable.next(from) ?? 0) : 0),
    lastFireAtMs: BigInt(state?.lastRun?.slotMs ?? 0),
    overlapPolicy: schedule.kind === 'event' ? schedule.overlap : 'skip',
    lastStatus: lastStatus(state, schedule.kind === 'duty'),
    lastRunStatus: runStatus(state, schedule.kind === 'duty'),
    lastRunId: state?.lastRun?.runId ?? '',
    microflow: schedule.kind === 'event' ? schedule.microflow : '',
  };
}

/** The grpc-js implementation of `runplane.scheduler.v1.SchedulerService`; any replica serves it. */
export function schedulerImplementation(o: SchedulerHandlerOptions): scheduler.SchedulerServiceServer {
  return {
    listSchedules: unaryHandler(o.logger, 'ListSchedules', async () => {
      const records = await o.records.all();
      const nowMs = o.clock.now();
      const schedules = [...o.events, ...o.duties].map((s) =>
        timetableSchedule(s, records.get(s.key)?.record, nowMs),
      );
      if (o.deploy !== undefined) {
        const deploy = records.get(o.deploy.key)?.record.deploy;
        schedules.push({
          name: o.deploy.name,
          timetable: 'once per model version',
          enabled: true,
          nextFireAtMs: 0n,
          lastFireAtMs: BigInt(deploy?.atMs ?? 0),
          overlapPolicy: 'skip',
          lastStatus: deploy?.status ?? '',
          lastRunStatus: deploy?.status ?? '',
          lastRunId: deploy === undefined ? '' : `${o.deploy.name}@${deploy.modelVersion}`,
          microflow: '',
        });
      }
      return { schedules, leading: o.leading() };
    }),
    runNow: unaryHandler(o.logger, 'RunNow', async (req: scheduler.RunNowRequest) => {
      const event = o.events.find((e) => e.name === req.name);
      if (event === undefined) throw scheduleNotFound(req.name);
      const nowMs = o.clock.now();
      // Its own id, so neither the work queue nor the executor takes it for a timetable run.
      const runId = `${event.name}@${nowMs}~${randomUUID()}`;
      await enqueueRun(o.scheduledEvents, event, runId, nowMs, 'run-now');
      o.logger.info({ schedule: event.name, runId }, 'run queued on request');
      return { runId };
    }),
  };
}

/**
 * Records a reported run end in its event's fire record (any replica may: it decides
 * nothing, and keeps the record's term). A report of a run that is not the record's
 * latest changes nothing. Throws when the record cannot be written, so the report comes
 * back.
 */
export async function applyRunEnd(
  records: FireRecords,
  job: Job,
  nodeId: string,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  let report: scheduler.ScheduledRunFinished;
  try {
    report = scheduler.ScheduledRunFinished.decode(job.data);
  } catch (err) {
    logger.error({ err, sequence: job.sequence }, 'a run-finished report could not be read; it is dropped');
    job.term();
    return;
  }
  const status =
    report.outcome === scheduler.RunOutcome.RUN_OUTCOME_COMPLETED ? RunStatus.Completed : RunStatus.Failed;
  const finishedAtMs = Number(report.finishedAtMs);
  const stored = await records.amend(eventKey(report.event), (record) => {
    const state =
      record.state === undefined ? undefined : recordRunEnd(record.state, report.runId, status, finishedAtMs);
    return state === undefined
      ? undefined
      : { ...record, state, writtenBy: nodeId, writtenAtMs: clock.now() };
  });
  logger.debug(
    { schedule: report.event, runId: report.runId, status, recorded: stored !== undefined },
    'run end reported',
  );
}
