/**
 * The leader's work: on each wake-up it reads the fire records, lets the firing logic of
 * @runplane/scheduling decide for every schedule, records each decision with
 * compare-and-set under the term's fencing token, and only then acts — enqueues a
 * scheduled-event run with its deterministic message id, or calls a duty.
 *
 * Exactly once across fail-overs:
 * - A run is recorded before it is enqueued; the leader that recorded it, or any later
 *   one, enqueues it (again) until it is reported finished. The work queue keeps one
 *   message per run id within its duplicate window, and the executor records the run
 *   under that id in the run's own transaction, so enqueuing twice takes effect once.
 * - A new leader first rewrites every record with its own term (the fence): from then
 *   on a stale leader's compare-and-set fails, and it finds a later term and stops.
 * - It then decides from the same records the old leader wrote, so it fires exactly what
 *   the old one had decided, and what was missed — once (the misfire policy).
 * - It acts only while its lease is good ({@link LeaderCampaign.current}), checked before
 *   every write and every enqueue.
 */
import { type KvWatch, type WorkQueue } from '@runplane/bus';
import { asRunplaneError } from '@runplane/errors';
import { executor } from '@runplane/proto';
import {
  RunStatus,
  decideFiring,
  isRunActive,
  recordRunEnd,
  type CancelTimer,
  type Clock,
  type FiringAction,
  type RunRecord,
} from '@runplane/scheduling';
import { SpanKind, inSpan, tracer, type Logger } from '@runplane/telemetry';
import { FencedError } from './errors.js';
import {
  DeployStatus,
  tokenOf,
  type FireRecord,
  type FireRecords,
  type StoredRecord,
} from './fire-records.js';
import { LossReason, type Term } from './leadership.js';
import type { DeployDuty, DutySchedule, EventSchedule } from './schedules.js';

/** How soon a failed enqueue, record read or deploy duty is tried again. */
const RETRY_MS = 1_000;
/** How soon a failed clearing of sessions after a deploy is tried again. */
const DEPLOY_RETRY_MS = 10_000;
/** Decisions per schedule per wake-up: enough for a delayed run and a due time in a row. */
const MAX_STEPS = 16;

const schedulerTracer = tracer('@runplane/scheduler');

/** Who may act: the campaign's view of the term. */
export interface Leadership {
  /** The term while this replica may act as its leader. */
  current(): Term | undefined;
  /** Stops acting for `term` at once. */
  relinquish(term: Term, reason: LossReason): void;
}

/** What the engine needs. */
export interface FiringEngineOptions {
  readonly clock: Clock;
  readonly records: FireRecords;
  /** The scheduled-event work queue (`busNames().workQueues.scheduledEvents`). */
  readonly scheduledEvents: WorkQueue;
  readonly events: readonly EventSchedule[];
  readonly duties: readonly DutySchedule[];
  readonly deploy: DeployDuty | undefined;
  readonly leadership: Leadership;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly misfireWindowMs: number;
  readonly runTimeoutMs: number;
  readonly dutyTimeoutMs: number;
}

/** Encodes the job of a scheduled-event run (`runplane.executor.v1.TaskJob`). */
export function scheduledEventJob(event: string, microflow: string, fireAtMs: number): Uint8Array {
  return executor.TaskJob.encode({
    kind: { $case: 'scheduledEvent', value: { event, microflow, fireAtMs: BigInt(fireAtMs) } },
  }).finish();
}

/**
 * Enqueues one scheduled-event run in a span of its own (`scheduler fire <event>`), whose
 * context travels in the job's headers, so the executor's run joins the trace.
 */
export async function enqueueRun(
  queue: WorkQueue,
  event: EventSchedule,
  runId: string,
  fireAtMs: number,
  reason: string,
): Promise<{ readonly duplicate: boolean }> {
  return inSpan(
    schedulerTracer,
    `scheduler fire ${event.name}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'runplane.scheduled_event': event.name,
        'runplane.microflow': event.microflow,
        'runplane.run_id': runId,
        'runplane.fire_at_ms': fireAtMs,
        'runplane.fire_reason': reason,
      },
    },
    async (span) => {
      const result = await queue.enqueue(scheduledEventJob(event.name, event.microflow, fireAtMs), {
        msgId: runId,
      });
      span.setAttribute('messaging.message.duplicate', result.duplicate);
      return result;
    },
  );
}

type WriteResult =
  | { readonly kind: 'written'; readonly stored: StoredRecord }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'stop' };

/** The firing of one replica, acting only for the term it was told it leads. */
export class FiringEngine {
  readonly #o: FiringEngineOptions;
  #term: Term | undefined;
  #fenced = false;
  #timer: CancelTimer | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #watch: KvWatch | undefined;
  /** Revisions this engine wrote, so its own writes do not wake it again. */
  readonly #ownRevisions = new Set<number>();
  /** Run ids enqueued in this term. */
  readonly #enqueued = new Set<string>();
  /** Duty calls in progress, by schedule key. */
  readonly #duties = new Map<string, Promise<void>>();
  #deployRunning = false;
  /** The soonest retry asked for during the current look (a failed send). */
  #retryAt: number | undefined;
  /** Cancels duty calls in progress when the engine stops. */
  readonly #stopping = new AbortController();

  constructor(options: FiringEngineOptions) {
    this.#o = options;
  }

  /** Watches the records, so that a reported run end wakes the leader (Delay next). */
  async start(): Promise<void> {
    this.#watch = await this.#o.records.kv.watch(
      (event) => {
        if (this.#ownRevisions.delete(event.revision)) return;
        if (this.#term !== undefined) this.wake();
      },
      { initialValues: false },
    );
  }

  /** Starts firing for a term: fences the records with it first, then catches up. */
  lead(term: Term): void {
    this.#term = term;
    this.#fenced = false;
    this.#enqueued.clear();
    this.wake();
  }

  /** Stops firing at once (the lease can no longer be counted on). */
  stepDown(): void {
    this.#term = undefined;
    this.#timer?.();
    this.#timer = undefined;
  }

  /** Looks at the schedules now (coalesced with a look already under way). */
  wake(): void {
    if (this.#term === undefined) return;
    if (this.#ticking !== undefined) {
      this.#again = true;
      return;
    }
    this.#ticking = this.#tickLoop().finally(() => {
      this.#ticking = undefined;
    });
  }

  /** Resolves when no look at the schedules is under way and no duty call is in progress. */
  async idle(): Promise<void> {
    while (this.#ticking !== undefined || this.#duties.size > 0) {
      await Promise.all([this.#ticking, ...this.#duties.values()]);
    }
  }

  /** Stops firing, cancels duty calls in progress, and waits for what is left. */
  async stop(): Promise<void> {
    this.stepDown();
    this.#stopping.abort();
    await this.idle();
    await this.#watch?.stop();
  }

  /** The term, while this engine may still act for it. */
  #acting(term: Term): boolean {
    if (this.#term !== term) return false;
    const current = this.#o.leadership.current();
    return current !== undefined && current.fencingToken === term.fencingToken;
  }

  async #tickLoop(): Promise<void> {
    do {
      this.#again = false;
      const term = this.#term;
      if (term === undefined) return;
      let wakeAt: number | undefined;
      this.#retryAt = undefined;
      try {
        wakeAt = await this.#tick(term);
      } catch (err) {
        this.#o.logger.warn({ err }, 'looking at the schedules failed; trying again shortly');
        wakeAt = this.#o.clock.now() + RETRY_MS;
      }
      const retryAt = this.#retryAt;
      if (retryAt !== undefined && (wakeAt === undefined || retryAt < wakeAt)) wakeAt = retryAt;
      if (this.#term === term) this.#arm(wakeAt);
    } while (this.#again);
  }

  #arm(wakeAt: number | undefined): void {
    this.#timer?.();
    this.#timer =
      wakeAt === undefined
        ? undefined
        : this.#o.clock.setTimer(wakeAt, () => {
            this.wake();
          });
  }

  async #tick(term: Term): Promise<number | undefined> {
    let records = await this.#o.records.all();
    if (!this.#fenced) {
      if (!(await this.#fence(term, records))) return undefined;
      this.#fenced = true;
      records = await this.#o.records.all();
    }
    let wakeAt: number | undefined;
    const earliest = (at: number | undefined): void => {
      if (at !== undefined && (wakeAt === undefined || at < wakeAt)) wakeAt = at;
    };
    for (const schedule of [...this.#o.events, ...this.#o.duties]) {
      if (!this.#acting(term)) return undefined;
      earliest(await this.#advance(schedule, records.get(schedule.key), term));
    }
    if (this.#o.deploy !== undefined && this.#acting(term)) {
      earliest(await this.#deploy(this.#o.deploy, records.get(this.#o.deploy.key), term));
    }
    return wakeAt;
  }

  /**
   * Rewrites every record of an earlier term with this term's token, so that from now on a
   * stale leader's writes fail. False when this term turned out to be stale itself.
   */
  async #fence(term: Term, records: Map<string, StoredRecord>): Promise<boolean> {
    for (const stored of records.values()) {
      if (tokenOf(stored.record) >= term.fencingToken) continue;
      for (let current: StoredRecord | undefined = stored; current !== undefined;) {
        const result = await this.#write(current.key, current.record, current, term);
        if (result.kind === 'stop') return false;
        if (result.kind === 'written') break;
        current = await this.#o.records.get(stored.key);
        if (current !== undefined && tokenOf(current.record) >= term.fencingToken) break;
      }
    }
    this.#o.logger.info(
      { fencingToken: term.fencingToken.toString(), records: records.size },
      'fire records fenced',
    );
    return true;
  }

  /** Writes a record as this term's leader; on a fence, stops acting at once. */
  async #write(
    key: string,
    record: Omit<FireRecord, 'fencingToken' | 'writtenBy' | 'writtenAtMs'>,
    expected: StoredRecord | undefined,
    term: Term,
  ): Promise<WriteResult> {
    if (!this.#acting(term)) return { kind: 'stop' };
    try {
      const stored = await this.#o.records.writeAsLeader(
        key,
        { ...record, writtenBy: this.#o.nodeId, writtenAtMs: this.#o.clock.now() },
        expected,
        term.fencingToken,
      );
      if (stored === undefined) return { kind: 'conflict' };
      // Bounded: a watch that stopped delivering must not make this grow for good.
      if (this.#ownRevisions.size >= 10_000) this.#ownRevisions.clear();
      this.#ownRevisions.add(stored.revision);
      return { kind: 'written', stored };
    } catch (err) {
      if (err instanceof FencedError) {
        this.#o.logger.warn(
          { key, details: err.details },
          'a later scheduler term wrote this record; stepping down',
        );
        this.stepDown();
        this.#o.leadership.relinquish(term, LossReason.Fenced);
        return { kind: 'stop' };
      }
      throw err;
    }
  }

  /** Decides and acts for one schedule until there is nothing to do; returns when to look again. */
  async #advance(
    schedule: EventSchedule | DutySchedule,
    stored: StoredRecord | undefined,
    term: Term,
  ): Promise<number | undefined> {
    const { clock, logger } = this.#o;
    // A duty's run is going only while this process's call is: a call a dead or deposed leader
    // left unfinished holds nothing back (duties are idempotent; the session service's work
    // tolerates an overlap), so a new leader goes on at the next period.
    const runTimeoutMs =
      schedule.kind === 'event'
        ? this.#o.runTimeoutMs
        : this.#duties.has(schedule.key)
          ? this.#o.dutyTimeoutMs
          : 0;
    let current = stored;
    for (let step = 0; step < MAX_STEPS; step++) {
      if (!this.#acting(term)) return undefined;
      const nowMs = clock.now();
      const decision = decideFiring({
        name: schedule.name,
        timetable: schedule.timetable,
        overlap: schedule.kind === 'event' ? schedule.overlap : 'skip',
        enabled: schedule.kind === 'event' ? schedule.enabled : true,
        state: current?.record.state,
        nowMs,
        misfireWindowMs: this.#o.misfireWindowMs,
        runTimeoutMs,
      });
      const { action } = decision;
      if (action.kind === 'none' || decision.state === undefined) {
        return this.#resend(schedule, current?.record, term, decision.wakeAtMs);
      }
      const written = await this.#write(
        schedule.key,
        { name: schedule.name, state: decision.state },
        current,
        term,
      );
      if (written.kind === 'stop') return undefined;
      if (written.kind === 'conflict') {
        current = await this.#o.records.get(schedule.key);
        continue;
      }
      current = written.stored;
      this.#log(schedule, action);
      if (action.kind === 'fire') {
        if (schedule.kind === 'event') {
          await this.#enqueue(schedule, action.run, action.reason, term);
        } else {
          this.#callDuty(schedule, action.run, term);
        }
      }
    }
    logger.warn(
      { schedule: schedule.name },
      'a schedule kept changing under its decisions; looking again shortly',
    );
    return clock.now() + RETRY_MS;
  }

  #log(schedule: EventSchedule | DutySchedule, action: FiringAction): void {
    const fields = { schedule: schedule.name };
    switch (action.kind) {
      case 'fire':
        // Duties come round every minute or so: their runs are logged when they do something.
        this.#o.logger[schedule.kind === 'duty' ? 'debug' : 'info'](
          {
            ...fields,
            runId: action.run.runId,
            fireAtMs: action.run.slotMs,
            reason: action.reason,
            ...(action.firstPassedMs === undefined ? {} : { firstPassedMs: action.firstPassedMs }),
          },
          action.reason === 'catch-up' ? 'firing a missed run once' : 'firing',
        );
        break;
      case 'pass':
        this.#o.logger.info(
          { ...fields, fireAtMs: action.slotMs, reason: action.reason },
          `run ${action.reason}`,
        );
        break;
      case 'delay':
        this.#o.logger.info(
          { ...fields, fireAtMs: action.slotMs },
          'run delayed until the previous one ends',
        );
        break;
      default:
        this.#o.logger.debug({ ...fields, action: action.kind }, 'schedule state recorded');
    }
  }

  /**
   * Enqueues the recorded run of an event that this term has not enqueued yet — a run the
   * previous leader recorded and may not have sent, or one whose send failed.
   */
  async #resend(
    schedule: EventSchedule | DutySchedule,
    record: FireRecord | undefined,
    term: Term,
    wakeAt: number | undefined,
  ): Promise<number | undefined> {
    const run = record?.state?.lastRun;
    if (
      schedule.kind !== 'event' ||
      run === undefined ||
      this.#enqueued.has(run.runId) ||
      !isRunActive(run, this.#o.clock.now(), this.#o.runTimeoutMs)
    ) {
      return wakeAt;
    }
    await this.#enqueue(schedule, run, 'resend', term);
    return wakeAt;
  }

  /** Enqueues a recorded run while this term may act; true when the work queue has it. */
  async #enqueue(schedule: EventSchedule, run: RunRecord, reason: string, term: Term): Promise<boolean> {
    if (!this.#acting(term)) return false;
    try {
      const result = await enqueueRun(this.#o.scheduledEvents, schedule, run.runId, run.slotMs, reason);
      this.#enqueued.add(run.runId);
      if (result.duplicate) {
        this.#o.logger.info({ schedule: schedule.name, runId: run.runId }, 'run was already enqueued');
      }
      return true;
    } catch (err) {
      this.#o.logger.warn(
        { err, schedule: schedule.name, runId: run.runId },
        'enqueuing a run failed; it is sent again shortly',
      );
      const retryAt = this.#o.clock.now() + RETRY_MS;
      if (this.#retryAt === undefined || retryAt < this.#retryAt) this.#retryAt = retryAt;
      return false;
    }
  }

  /** Calls a duty in the background; its end is recorded in its fire record. */
  #callDuty(duty: DutySchedule, run: RunRecord, term: Term): void {
    if (!this.#acting(term) || this.#duties.has(duty.key)) return;
    const call = (async () => {
      let status: typeof RunStatus.Completed | typeof RunStatus.Failed = RunStatus.Completed;
      try {
        const outcome = await inSpan(schedulerTracer, `scheduler duty ${duty.name}`, {}, () =>
          duty.run(this.#o.dutyTimeoutMs, this.#stopping.signal),
        );
        const level = Object.values(outcome).some((n) => n > 0) ? 'info' : 'debug';
        this.#o.logger[level]({ schedule: duty.name, runId: run.runId, ...outcome }, 'duty done');
      } catch (err) {
        status = RunStatus.Failed;
        this.#o.logger.warn({ err, schedule: duty.name, runId: run.runId }, 'duty failed');
      }
      try {
        await this.#o.records.amend(duty.key, (record) => {
          const state =
            record.state === undefined
              ? undefined
              : recordRunEnd(record.state, run.runId, status, this.#o.clock.now());
          return state === undefined ? undefined : { ...record, state };
        });
      } catch (err) {
        this.#o.logger.warn({ err, schedule: duty.name }, 'could not record the end of a duty');
      }
    })().finally(() => {
      this.#duties.delete(duty.key);
      this.wake();
    });
    this.#duties.set(duty.key, call);
  }

  /** Clears the sessions once for this model version (again after a failure, or when a crash left it unknown). */
  async #deploy(duty: DeployDuty, stored: StoredRecord | undefined, term: Term): Promise<number | undefined> {
    const done = stored?.record.deploy;
    const nowMs = this.#o.clock.now();
    if (done?.modelVersion === duty.modelVersion) {
      if (done.status === DeployStatus.Completed) return undefined;
      if (this.#deployRunning) return undefined;
      if (done.status === DeployStatus.Failed && nowMs < done.atMs + DEPLOY_RETRY_MS)
        return done.atMs + DEPLOY_RETRY_MS;
    }
    if (this.#deployRunning) return undefined;
    const written = await this.#write(
      duty.key,
      {
        name: duty.name,
        deploy: { modelVersion: duty.modelVersion, status: DeployStatus.Running, atMs: nowMs },
      },
      stored,
      term,
    );
    if (written.kind !== 'written') return written.kind === 'conflict' ? nowMs + RETRY_MS : undefined;
    this.#deployRunning = true;
    const call = (async () => {
      let status: DeployStatus = DeployStatus.Completed;
      let error: string | undefined;
      try {
        const outcome = await inSpan(schedulerTracer, `scheduler duty ${duty.name}`, {}, () =>
          duty.run(this.#o.dutyTimeoutMs, this.#stopping.signal),
        );
        this.#o.logger.info(
          { schedule: duty.name, modelVersion: duty.modelVersion, ...outcome },
          'sessions of earlier model versions cleared',
        );
      } catch (err) {
        status = DeployStatus.Failed;
        error = asRunplaneError(err).message;
        this.#o.logger.warn(
          { err, schedule: duty.name },
          'clearing sessions after a deploy failed; trying again',
        );
      }
      try {
        await this.#o.records.amend(duty.key, (record) =>
          record.deploy?.modelVersion === duty.modelVersion && record.deploy.status === DeployStatus.Running
            ? {
                ...record,
                deploy: {
                  modelVersion: duty.modelVersion,
                  status,
                  atMs: this.#o.clock.now(),
                  ...(error === undefined ? {} : { error }),
                },
              }
            : undefined,
        );
      } catch (err) {
        this.#o.logger.warn({ err, schedule: duty.name }, 'could not record the end of a duty');
      }
    })().finally(() => {
      this.#deployRunning = false;
      this.#duties.delete(duty.key);
      this.wake();
    });
    this.#duties.set(duty.key, call);
    return undefined;
  }
}
