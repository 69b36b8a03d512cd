/**
 * When scheduled things run: timetables for every Mendix interval type and for cron, in
 * UTC or an IANA zone and correct across daylight-saving changes ({@link timetableOf}); a
 * clock whose timers never overflow `setTimeout` ({@link Clock}); and the firing logic with
 * its misfire and overlap policies ({@link decideFiring}). Pure: no I/O.
 */
export {
  MAX_TIMER_DELAY_MS,
  ManualClock,
  SystemClock,
  systemClock,
  timerDelayMs,
  type CancelTimer,
  type Clock,
  type TimerPrimitives,
} from './clock.js';
export { SchedulingErrorCode } from './errors.js';
export {
  FireReason,
  OverlapPolicy,
  PassReason,
  RunStatus,
  decideFiring,
  isRunActive,
  passedFireTimes,
  recordRunEnd,
  runIdOf,
  type FiringAction,
  type FiringDecision,
  type FiringInput,
  type FiringState,
  type RunRecord,
} from './firing.js';
export { timetableOf, type ScheduleSpec, type Timetable } from './timetable.js';
export { TimeZone, type WallFields } from './zone.js';
