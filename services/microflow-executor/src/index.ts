/**
 * The microflow executor: runs microflows and serves the client data API over the domain
 * data (`runplane.executor.v1.ExecutorService`), keeping no state between requests, and runs
 * queued tasks and scheduled events from the work queues at least once, with effect exactly
 * once.
 */
export {
  startExecutor,
  parseConstants,
  type ExecutorDependencies,
  type RunningExecutor,
} from './executor.service.js';
export {
  ClientApi,
  type ArgumentInput,
  type ExecuteOutcome,
  type InstantiateOutcome,
  type RequestUser,
  type RetrieveOutcome,
  type StateChanges,
  type TaskEnqueue,
  type WriteOutcome,
  type XPathRetrieve,
} from './client-api/client-api.js';
export type { RequestUserDetails } from './client-api/tracked-unit-of-work.js';
export type { ShownObject } from './convert/objects.js';
export { ExecutorErrorCode } from './errors.js';
export { TaskState, type TaskInfo } from './tasks/task-status.js';
