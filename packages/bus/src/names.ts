import type { WorkQueueDefinition } from './bus.js';
import { BusErrorCode, invalidArgument } from './errors.js';

/** The namespace of a production deployment. */
export const DEFAULT_NAMESPACE = 'runplane';

/** Queue group responders join unless told otherwise (the NATS services convention). */
export const DEFAULT_RESPONDER_QUEUE = 'q';

/**
 * How long the task stream remembers message ids. It must outlast a leader fail-over of
 * the scheduler (lease TTL plus the time to re-fire missed runs), so that a run enqueued
 * by the old leader is not enqueued again by the new one.
 */
export const TASK_DUPLICATE_WINDOW_MS = 5 * 60_000;

const NAMESPACE = /^[a-z][a-z0-9-]{0,31}$/;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const QUALIFIED_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function checked(kind: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) {
    throw invalidArgument(BusErrorCode.InvalidName, `Not a valid ${kind}: "${value}"`, { kind, value });
  }
  return value;
}

/** Every subject, stream, consumer, work queue and bucket name of one namespace. */
export interface BusNames {
  readonly namespace: string;
  readonly subjects: {
    /** A session event of one kind (e.g. `logout`, `user-blocked`): every gateway drops its cache. */
    sessionEvent(kind: string): string;
    /** All session events (wildcard). */
    readonly sessionEvents: string;
    /** A new model version was deployed. */
    readonly modelDeployed: string;
    /** Objects of an entity (`Module.Entity`) changed in one way (e.g. `committed`, `deleted`). */
    objectEvent(entity: string, kind: string): string;
    /** Object events of one entity, or of all entities (wildcard). */
    objectEvents(entity?: string): string;
    /** The subject of a task queue (a qualified name like `Module.Queue`). */
    tasks(queue: string): string;
    /** All task queues (wildcard; the task stream's subject). */
    readonly allTasks: string;
    /** The leadership of an election changed. */
    leaderChanged(election: string): string;
    /** Leadership changes of every election (wildcard). */
    readonly leaderChanges: string;
    /** A scheduled-event run ended (the executor reports it to the scheduler; see `workQueues.scheduledRunsFinished`). */
    readonly scheduledRunFinished: string;
  };
  readonly streams: {
    /** Holds the jobs of every task queue, with work-queue retention. */
    readonly tasks: string;
    /** Holds what the scheduler is told (ends of scheduled-event runs), with work-queue retention. */
    readonly scheduler: string;
  };
  readonly consumers: {
    /** The durable consumer shared by the executors of one task queue. */
    tasks(queue: string): string;
  };
  readonly workQueues: {
    /** The work queue of a microflow task queue of the model (`Module.Queue`). */
    tasks(queue: string): WorkQueueDefinition;
    /**
     * The work queue of scheduled-event runs: the scheduler enqueues, every executor
     * consumes. Its jobs are `runplane.executor.v1.TaskJob` messages (see executor.proto).
     */
    readonly scheduledEvents: WorkQueueDefinition;
    /**
     * Reports of ended scheduled-event runs: every executor enqueues one per run (message
     * id: the run id), any scheduler replica consumes them into the fire records. Durable,
     * so a report sent while no scheduler runs is not lost. Jobs are
     * `runplane.scheduler.v1.ScheduledRunFinished` messages (see scheduler.proto).
     */
    readonly scheduledRunsFinished: WorkQueueDefinition;
  };
  readonly buckets: {
    /** Leader leases (compare-and-set, expiry by bucket TTL). */
    readonly leases: string;
    /** The registry of live nodes (heartbeats, expiry by bucket TTL). */
    readonly nodes: string;
    /**
     * The scheduler's fire records: per scheduled event and duty, what was fired when and
     * by which leadership term (compare-and-set, fenced by the term's token; no TTL).
     */
    readonly schedules: string;
  };
}

/**
 * The one module of names: every subject, stream, consumer and KV bucket Runplane uses,
 * derived from a namespace (lowercase letters, digits and `-`, at most 32) so that
 * deployments and test suites sharing a server stay apart. Subjects start with the
 * namespace; stream and bucket names with it in uppercase (`-` becomes `_`). Nothing
 * else in Runplane may write a subject literal.
 *
 * Variable parts are checked: queue and entity names are qualified identifiers
 * (`Module.Name`), other parts single tokens of letters, digits, `_` and `-`.
 */
export function busNames(namespace: string = DEFAULT_NAMESPACE): BusNames {
  const ns = checked('namespace', namespace, NAMESPACE);
  const NS = ns.toUpperCase().replaceAll('-', '_');
  const tasksStream = `${NS}_TASKS`;
  const allTasks = `${ns}.tasks.>`;
  const tasks = (queue: string): string => `${ns}.tasks.${checked('queue name', queue, QUALIFIED_NAME)}`;
  // '-' cannot occur in a qualified name, so this mapping never merges two queues.
  const taskConsumer = (queue: string): string =>
    `tasks-${checked('queue name', queue, QUALIFIED_NAME).replaceAll('.', '-')}`;
  const taskQueue = (queue: string): WorkQueueDefinition => ({
    stream: tasksStream,
    streamSubjects: [allTasks],
    subject: tasks(queue),
    consumer: taskConsumer(queue),
    duplicateWindowMs: TASK_DUPLICATE_WINDOW_MS,
  });

  return {
    namespace: ns,
    subjects: {
      sessionEvent: (kind) => `${ns}.session.${checked('session event kind', kind, TOKEN)}`,
      sessionEvents: `${ns}.session.*`,
      modelDeployed: `${ns}.model.deployed`,
      objectEvent: (entity, kind) =>
        `${ns}.objects.${checked('entity name', entity, QUALIFIED_NAME)}.${checked('object event kind', kind, TOKEN)}`,
      objectEvents: (entity) =>
        entity === undefined
          ? `${ns}.objects.>`
          : `${ns}.objects.${checked('entity name', entity, QUALIFIED_NAME)}.*`,
      tasks,
      allTasks,
      leaderChanged: (election) => `${ns}.leader.${checked('election name', election, TOKEN)}.changed`,
      leaderChanges: `${ns}.leader.*.changed`,
      scheduledRunFinished: `${ns}.scheduler.run-finished`,
    },
    streams: { tasks: tasksStream, scheduler: `${NS}_SCHEDULER` },
    consumers: { tasks: taskConsumer },
    workQueues: {
      tasks: taskQueue,
      // The System module is the runtime's, so no model task queue can take this name.
      scheduledEvents: taskQueue('System.ScheduledEvents'),
      scheduledRunsFinished: {
        stream: `${NS}_SCHEDULER`,
        streamSubjects: [`${ns}.scheduler.>`],
        subject: `${ns}.scheduler.run-finished`,
        consumer: 'scheduler-run-finished',
        duplicateWindowMs: TASK_DUPLICATE_WINDOW_MS,
        // A report a day old is of no use (the scheduler presumes such a run over long before),
        // and without a scheduler consuming them they must not pile up for good.
        maxAgeMs: 86_400_000,
      },
    },
    buckets: {
      leases: `${NS}_LEASES`,
      nodes: `${NS}_NODES`,
      schedules: `${NS}_SCHEDULES`,
    },
  };
}
