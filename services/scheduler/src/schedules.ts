/**
 * What the scheduler fires: the model's scheduled events (as RUNPLANE_SCHEDULED_EVENTS
 * selects them) and the cluster's leader duties, each with its timetable.
 */
import type { CompiledModel, ScheduledEvent } from '@runplane/model';
import type { executor, session } from '@runplane/proto';
import { OverlapPolicy, timetableOf, type Timetable } from '@runplane/scheduling';
import { callUnary } from '@runplane/service-host';
import { dutyKey, eventKey } from './fire-records.js';

/** A scheduled event of the model, as the scheduler fires it. */
export interface EventSchedule {
  readonly kind: 'event';
  /** The event's qualified name. */
  readonly name: string;
  /** Its fire record's key. */
  readonly key: string;
  readonly microflow: string;
  readonly timetable: Timetable;
  readonly overlap: OverlapPolicy;
  /** Whether it fires (the model's `enabled`, unless RUNPLANE_SCHEDULED_EVENTS says otherwise). */
  readonly enabled: boolean;
}

/** A leader duty on a fixed period: a call to the service that owns the work. */
export interface DutySchedule {
  readonly kind: 'duty';
  /** `duty:<name>`. */
  readonly name: string;
  readonly key: string;
  readonly timetable: Timetable;
  /** Does the duty's work once, within the deadline; resolves with what it did, for the log. */
  readonly run: (deadlineMs: number, signal: AbortSignal) => Promise<Readonly<Record<string, number>>>;
}

/** The duty that runs once per model version: ending every session after a new deploy. */
export interface DeployDuty {
  readonly name: string;
  readonly key: string;
  readonly modelVersion: string;
  readonly run: (deadlineMs: number, signal: AbortSignal) => Promise<Readonly<Record<string, number>>>;
}

/** Which scheduled events run: every one the model enables, none, or exactly those named. */
export type EventSelection =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'listed'; readonly names: ReadonlySet<string> };

/** Reads RUNPLANE_SCHEDULED_EVENTS (`all`, `none`, or a comma-separated list of qualified names). */
export function parseEventSelection(text: string): EventSelection {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'all') return { kind: 'all' };
  if (trimmed.toLowerCase() === 'none') return { kind: 'none' };
  return {
    kind: 'listed',
    names: new Set(
      trimmed
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ),
  };
}

/** Whether an event fires under a selection (a listed event fires even when the model disables it). */
export function isSelected(selection: EventSelection, event: ScheduledEvent): boolean {
  switch (selection.kind) {
    case 'all':
      return event.enabled;
    case 'none':
      return false;
    case 'listed':
      return selection.names.has(event.name);
  }
}

/** The model's scheduled events, in name order. `server` time is the app's default time zone. */
export function eventSchedules(model: CompiledModel, selection: EventSelection): EventSchedule[] {
  return [...model.scheduledEvents.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((event) => ({
      kind: 'event' as const,
      name: event.name,
      key: eventKey(event.name),
      microflow: event.microflow,
      timetable: timetableOf(
        event.schedule,
        event.timeZone === 'UTC' ? 'UTC' : model.settings.defaultTimeZone,
      ),
      overlap: event.overlap === 'delay' ? OverlapPolicy.Delay : OverlapPolicy.Skip,
      enabled: isSelected(selection, event),
    }));
}

/** Names in a selection that are no scheduled event of the model (to warn about). */
export function unknownSelected(model: CompiledModel, selection: EventSelection): string[] {
  if (selection.kind !== 'listed') return [];
  return [...selection.names].filter((n) => !model.scheduledEvents.has(n)).sort();
}

/** The duty names, as ListSchedules shows them. */
export const DutyName = {
  SessionCleanup: 'duty:session-cleanup',
  UnblockUsers: 'duty:unblock-users',
  ClearSessionsOnDeploy: 'duty:clear-sessions-on-deploy',
  ProcessedTasksCleanup: 'duty:processed-tasks-cleanup',
} as const;

/** The session service's leader duties on their periods. */
export function sessionDuties(
  client: session.SessionServiceClient,
  intervals: { readonly sessionCleanupMs: number; readonly unblockMs: number },
): DutySchedule[] {
  return [
    {
      kind: 'duty',
      name: DutyName.SessionCleanup,
      key: dutyKey('session-cleanup'),
      timetable: timetableOf({ kind: 'every', everyMs: intervals.sessionCleanupMs }, 'UTC'),
      run: async (deadlineMs, signal) => {
        const res = await callUnary(client, 'cleanupExpired', {}, { deadlineMs, signal, service: 'session' });
        return { deleted: Number(res.deleted) };
      },
    },
    {
      kind: 'duty',
      name: DutyName.UnblockUsers,
      key: dutyKey('unblock-users'),
      timetable: timetableOf({ kind: 'every', everyMs: intervals.unblockMs }, 'UTC'),
      run: async (deadlineMs, signal) => {
        const res = await callUnary(client, 'unblockExpired', {}, { deadlineMs, signal, service: 'session' });
        return { unblocked: Number(res.unblocked) };
      },
    },
  ];
}

/**
 * The executor's leader duty: deleting old completed task attempts (System.ProcessedQueueTask),
 * as Mendix does every ClusterManagerActionInterval; the age and batch size are the executor's.
 */
export function executorDuties(
  client: executor.ExecutorServiceClient,
  intervals: { readonly processedTasksCleanupMs: number },
): DutySchedule[] {
  return [
    {
      kind: 'duty',
      name: DutyName.ProcessedTasksCleanup,
      key: dutyKey('processed-tasks-cleanup'),
      timetable: timetableOf({ kind: 'every', everyMs: intervals.processedTasksCleanupMs }, 'UTC'),
      run: async (deadlineMs, signal) => {
        const res = await callUnary(
          client,
          'cleanupProcessedTasks',
          {},
          { deadlineMs, signal, service: 'microflow-executor' },
        );
        return { deleted: Number(res.deleted) };
      },
    },
  ];
}

/**
 * Ending every session once per new model version, as Mendix clears persistent sessions
 * after a deploy. The session service makes ClearAll idempotent per version, so a retry or
 * a new leader repeating it ends nothing more.
 */
export function clearSessionsOnDeploy(
  client: session.SessionServiceClient,
  modelVersion: string,
): DeployDuty {
  return {
    name: DutyName.ClearSessionsOnDeploy,
    key: dutyKey('clear-sessions-on-deploy'),
    modelVersion,
    run: async (deadlineMs, signal) => {
      const res = await callUnary(
        client,
        'clearAll',
        { modelVersion },
        { deadlineMs, signal, service: 'session' },
      );
      return { deleted: Number(res.deleted) };
    },
  };
}
