/**
 * The firing logic: given a schedule, what was recorded of its past and the time, what
 * to do now. Pure — the caller reads and writes the records, enqueues the runs and keeps
 * the clock — so the same decisions come out on any replica that reads the same record,
 * which is what makes a fail-over re-fire exactly what the old leader may have fired.
 *
 * Policies:
 * - **Misfire**: when several fire times passed unseen (downtime, a fail-over), the
 *   latest of them fires once — not once per missed time — and the timetable continues
 *   from there. With a misfire window, one later than the window is recorded as missed.
 * - **Overlap** (Mendix's "On overlap"): a fire time that comes while the previous run of
 *   the same schedule has not finished is *skipped* (Skip next, the default) or *delayed*
 *   until that run ends (Delay next; several such times make one delayed run).
 */
import type { Timetable } from './timetable.js';

/** What happens to a fire time that comes while the previous run is still going. */
export const OverlapPolicy = {
  /** Mendix "Skip next" (the default): the run is skipped; the next one comes at its time. */
  Skip: 'skip',
  /** Mendix "Delay next": the run starts as soon as the previous one has finished. */
  Delay: 'delay',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

/** What is known of a run. */
export const RunStatus = {
  /** Fired (enqueued, or being enqueued); no word yet that it finished. */
  Queued: 'queued',
  Completed: 'completed',
  Failed: 'failed',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** One fired run. */
export interface RunRecord {
  /** Its id, also the work queue's de-duplication id: see {@link runIdOf}. */
  readonly runId: string;
  /** The timetable's time the run is for (a delayed run's is the time it was due). */
  readonly slotMs: number;
  /** When it was fired. */
  readonly firedAtMs: number;
  readonly status: RunStatus;
  /** When it ended, once known. */
  readonly finishedAtMs?: number;
}

/** Why a fire time passed without a run. */
export const PassReason = {
  /** The previous run was still going (Skip next). */
  Skipped: 'skipped',
  /** It was later than the misfire window when a leader saw it. */
  Missed: 'missed',
} as const;
export type PassReason = (typeof PassReason)[keyof typeof PassReason];

/** What is recorded of a schedule between decisions (the durable part of its fire record). */
export interface FiringState {
  /** The {@link Timetable.description} this state follows; another one starts afresh. */
  readonly timetable: string;
  /** Every fire time at or before this instant has been dealt with (fired, skipped, delayed, missed). */
  readonly handledThroughMs: number;
  /** The latest run fired. */
  readonly lastRun?: RunRecord;
  /** Delay next: the fire time that came while {@link lastRun} was going; it fires when that run ends. */
  readonly delayedSlotMs?: number;
  /** The latest fire time that passed without a run. */
  readonly lastPassed?: { readonly slotMs: number; readonly atMs: number; readonly reason: PassReason };
  /** True while the schedule is switched off: turning it on again starts afresh, without catching up. */
  readonly paused?: boolean;
}

/** What {@link decideFiring} needs. */
export interface FiringInput {
  /** The schedule's name (a scheduled event's qualified name, or a duty's). */
  readonly name: string;
  readonly timetable: Timetable;
  readonly overlap: OverlapPolicy;
  /** Off: nothing fires, and turning it on again does not catch up. */
  readonly enabled: boolean;
  /** The recorded state; undefined for a schedule never seen before. */
  readonly state: FiringState | undefined;
  readonly nowMs: number;
  /** A fire time later than this when seen is recorded as missed, not fired; 0 fires it however late. */
  readonly misfireWindowMs: number;
  /**
   * A run with no word of its end this long after it fired is presumed over, so a lost
   * report cannot hold the schedule back for good.
   */
  readonly runTimeoutMs: number;
}

/** Why a run fires. */
export const FireReason = {
  /** Its time has come. */
  Due: 'due',
  /** Several times passed unseen; the latest fires once. */
  CatchUp: 'catch-up',
  /** Delay next: the previous run ended. */
  Delayed: 'delayed',
} as const;
export type FireReason = (typeof FireReason)[keyof typeof FireReason];

/** What to do now. */
export type FiringAction =
  | { readonly kind: 'none' }
  /** Record the state: a schedule seen for the first time, changed, or switched on again. */
  | { readonly kind: 'start' }
  /** Record that the schedule is off. */
  | { readonly kind: 'pause' }
  /** Fire `run`: record it and enqueue it (the record holds it until it is reported finished). */
  | {
      readonly kind: 'fire';
      readonly run: RunRecord;
      readonly reason: FireReason;
      /** For a catch-up: the earliest fire time that passed unseen. */
      readonly firstPassedMs?: number;
    }
  /** Record that a fire time passed without a run. */
  | { readonly kind: 'pass'; readonly slotMs: number; readonly reason: PassReason }
  /** Record a fire time waiting for the running run to end (Delay next). */
  | { readonly kind: 'delay'; readonly slotMs: number };

/** A decision: the action, the state to record with it, and when to decide again. */
export interface FiringDecision {
  readonly action: FiringAction;
  /** The state after the action (unchanged for `none`). */
  readonly state: FiringState | undefined;
  /**
   * When something is next due: a fire time, or a running run's presumed end. Undefined
   * when only news (a run reported finished, a switch) can change anything.
   */
  readonly wakeAtMs: number | undefined;
}

/**
 * The id of a schedule's run for a fire time: `<name>@<fireAtMs>`. Deterministic, so that
 * two leaders firing the same time enqueue the same message and the work queue keeps one.
 */
export function runIdOf(name: string, slotMs: number): string {
  return `${name}@${slotMs}`;
}

/** True while a run counts as going: not reported finished, and not past the run timeout. */
export function isRunActive(run: RunRecord | undefined, nowMs: number, runTimeoutMs: number): boolean {
  return run !== undefined && run.status === RunStatus.Queued && nowMs < run.firedAtMs + runTimeoutMs;
}

const MINUTE_MS = 60_000;
const LOOKBACKS_MS = [MINUTE_MS, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000];

/**
 * The fire times of a timetable in `(afterMs, nowMs]`: the latest, and the earliest; or
 * undefined when none passed. Cheap however long the span: it looks back from `nowMs`.
 */
export function passedFireTimes(
  timetable: Timetable,
  afterMs: number,
  nowMs: number,
): { readonly latestMs: number; readonly earliestMs: number } | undefined {
  const earliest = timetable.next(afterMs);
  if (earliest === undefined || earliest > nowMs) return undefined;
  for (const lookback of [...LOOKBACKS_MS, Infinity]) {
    let latest = timetable.next(Math.max(afterMs, nowMs - lookback));
    if (latest === undefined || latest > nowMs) continue;
    for (let n = timetable.next(latest); n !== undefined && n <= nowMs; n = timetable.next(latest))
      latest = n;
    return { latestMs: latest, earliestMs: earliest };
  }
  return { latestMs: earliest, earliestMs: earliest };
}

function wakeOf(state: FiringState, input: FiringInput): number | undefined {
  let wake = input.timetable.next(state.handledThroughMs);
  const run = state.lastRun;
  if (isRunActive(run, input.nowMs, input.runTimeoutMs) && run !== undefined) {
    const presumedOver = run.firedAtMs + input.runTimeoutMs;
    wake = wake === undefined ? presumedOver : Math.min(wake, presumedOver);
  }
  return wake;
}

function decided(action: FiringAction, state: FiringState | undefined, input: FiringInput): FiringDecision {
  return {
    action,
    state,
    wakeAtMs: state === undefined || state.paused === true ? undefined : wakeOf(state, input),
  };
}

/**
 * Decides what a schedule does now. Call it again after carrying out an action that is
 * not `none` (one action per call: e.g. a delayed run fires, then a new time is dealt with).
 */
export function decideFiring(input: FiringInput): FiringDecision {
  const { state, nowMs, timetable, name } = input;
  if (!input.enabled) {
    if (state !== undefined && state.paused !== true) {
      return decided({ kind: 'pause' }, { ...state, paused: true, delayedSlotMs: undefined }, input);
    }
    return decided({ kind: 'none' }, state, input);
  }
  if (state === undefined || state.paused === true || state.timetable !== timetable.description) {
    // First sight, a new timetable, or switched on again: start from now, with no catch-up.
    const fresh: FiringState = {
      timetable: timetable.description,
      handledThroughMs: nowMs,
      ...(state?.lastRun === undefined ? {} : { lastRun: state.lastRun }),
      ...(state?.lastPassed === undefined ? {} : { lastPassed: state.lastPassed }),
    };
    return decided({ kind: 'start' }, fresh, input);
  }
  const active = isRunActive(state.lastRun, nowMs, input.runTimeoutMs);
  if (state.delayedSlotMs !== undefined && !active) {
    const run: RunRecord = {
      runId: runIdOf(name, state.delayedSlotMs),
      slotMs: state.delayedSlotMs,
      firedAtMs: nowMs,
      status: RunStatus.Queued,
    };
    const next: FiringState = { ...state, lastRun: run, delayedSlotMs: undefined };
    return decided({ kind: 'fire', run, reason: FireReason.Delayed }, next, input);
  }
  const passed = passedFireTimes(timetable, state.handledThroughMs, nowMs);
  if (passed === undefined) return decided({ kind: 'none' }, state, input);
  const slotMs = passed.latestMs;
  if (input.misfireWindowMs > 0 && nowMs - slotMs > input.misfireWindowMs) {
    const next: FiringState = {
      ...state,
      handledThroughMs: slotMs,
      lastPassed: { slotMs, atMs: nowMs, reason: PassReason.Missed },
    };
    return decided({ kind: 'pass', slotMs, reason: PassReason.Missed }, next, input);
  }
  if (active) {
    if (input.overlap === OverlapPolicy.Delay) {
      const next: FiringState = { ...state, handledThroughMs: slotMs, delayedSlotMs: slotMs };
      return decided({ kind: 'delay', slotMs }, next, input);
    }
    const next: FiringState = {
      ...state,
      handledThroughMs: slotMs,
      lastPassed: { slotMs, atMs: nowMs, reason: PassReason.Skipped },
    };
    return decided({ kind: 'pass', slotMs, reason: PassReason.Skipped }, next, input);
  }
  const run: RunRecord = {
    runId: runIdOf(name, slotMs),
    slotMs,
    firedAtMs: nowMs,
    status: RunStatus.Queued,
  };
  const next: FiringState = { ...state, handledThroughMs: slotMs, lastRun: run, delayedSlotMs: undefined };
  const catchUp = passed.earliestMs !== slotMs;
  return decided(
    {
      kind: 'fire',
      run,
      reason: catchUp ? FireReason.CatchUp : FireReason.Due,
      ...(catchUp ? { firstPassedMs: passed.earliestMs } : {}),
    },
    next,
    input,
  );
}

/**
 * A state with a run's end recorded: the run must be the state's latest (a report of an
 * older run changes nothing). Returns undefined when nothing changes.
 */
export function recordRunEnd(
  state: FiringState,
  runId: string,
  status: typeof RunStatus.Completed | typeof RunStatus.Failed,
  finishedAtMs: number,
): FiringState | undefined {
  const run = state.lastRun;
  if (run?.runId !== runId || run.status !== RunStatus.Queued) return undefined;
  return { ...state, lastRun: { ...run, status, finishedAtMs } };
}
