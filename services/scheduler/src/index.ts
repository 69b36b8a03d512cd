/**
 * The scheduler: when things run. Every replica campaigns for the leadership; the leader
 * fires the model's scheduled events and the cluster's leader duties, each exactly once in
 * the cluster across fail-overs, and records what it fired in fenced fire records.
 */
export {
  startScheduler,
  type RunningScheduler,
  type SchedulerDependencies,
  type SchedulerStopOptions,
} from './scheduler.service.js';
export { SchedulerErrorCode } from './errors.js';
