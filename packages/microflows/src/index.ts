/**
 * The microflow engine of Runplane. {@link createMicroflowEngine} compiles every microflow of
 * a model once into closures; `engine.run` runs one in the caller's unit of work with Mendix's
 * semantics: one transaction per top-level run shared by sub-microflows and event handlers,
 * per-activity error handling (rollback, custom with or without rollback, continue) with
 * `$latestError`, entity access per microflow, allowed roles at the client boundary, client
 * instructions, limits that stop runaway flows, and a span per run and per activity.
 *
 * ```ts
 * const engine = createMicroflowEngine(model, { logger, actions: await loadActions(dir, model) });
 * const uow = engine.unitOfWork(database, user);
 * try {
 *   const { result, instructions } = await engine.run({ microflow: 'Sales.PlaceOrder', arguments, uow, fromClient: true });
 *   await uow.complete();
 * } catch (error) {
 *   await uow.abort();
 *   throw error;
 * } finally {
 *   await uow.close();
 * }
 * ```
 */
export { createMicroflowEngine, type MicroflowEngine } from './engine.js';
export { EventRunner } from './events.js';
export {
  DEFAULT_LIMITS,
  type ClientInstruction,
  type ClientInstructionKind,
  type MicroflowEngineOptions,
  type MicroflowLimits,
  type MicroflowOutcome,
  type MicroflowRun,
  type MicroflowUser,
  type TaskScheduler,
} from './types.js';
export {
  MicroflowError,
  MicroflowErrorCode,
  type CallStackEntry,
  type MicroflowErrorDetails,
} from './errors.js';
export {
  actionRegistry,
  defineAction,
  isActionDefinition,
  type ActionArguments,
  type ActionContext,
  type ActionDeclaration,
  type ActionDefinition,
  type ActionLog,
  type ActionRegistry,
  type ActionTypeName,
  type ActionValue,
} from './actions/define.js';
export { loadActions, type ActionProblem } from './actions/load.js';
export { parseXPathQuery } from './actions/context.js';
