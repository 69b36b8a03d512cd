/**
 * The app's after-startup and before-shutdown microflows (the model's `settings`), run by
 * every executor as Mendix runs them on every node of a cluster: after-startup before the
 * executor serves calls or takes tasks, before-shutdown once its calls and tasks are done.
 * Both run in a system context, in a transaction of their own.
 */
import { UserError, asRunplaneError } from '@runplane/errors';
import type { MicroflowEngine } from '@runplane/microflows';
import type { CompiledModel } from '@runplane/model';
import { SYSTEM_CONTEXT, type RunplaneDatabase } from '@runplane/persistence';
import type { Logger } from '@runplane/telemetry';
import { NO_USER_DETAILS, trackedUnitOfWork } from './client-api/tracked-unit-of-work.js';
import { ExecutorErrorCode } from './errors.js';
import type { TaskOutbox } from './tasks/task-outbox.js';

/** What the lifecycle microflows need. */
export interface LifecycleOptions {
  readonly model: CompiledModel;
  readonly database: RunplaneDatabase;
  readonly engine: MicroflowEngine;
  readonly outbox: TaskOutbox;
  readonly logger: Logger;
}

type Moment = 'afterStartup' | 'beforeShutdown';

const LABEL: Record<Moment, string> = {
  afterStartup: 'after-startup',
  beforeShutdown: 'before-shutdown',
};

/** Runs one lifecycle microflow in its own transaction; its result, or undefined when the model has none. */
async function runMoment(
  options: LifecycleOptions,
  moment: Moment,
): Promise<{ name: string; result: unknown } | undefined> {
  const { model, database, engine, outbox } = options;
  const name = model.settings[moment];
  if (name === undefined) return undefined;
  const { uow } = trackedUnitOfWork(engine, database, SYSTEM_CONTEXT, NO_USER_DETAILS);
  try {
    const outcome = await engine.run({
      microflow: name,
      arguments: new Map(),
      uow,
      fromClient: false,
      user: {},
    });
    if (outcome.result === false) {
      // Mendix: an after-startup microflow that returns false stops the start; its work is undone.
      await uow.abort();
    } else {
      await uow.complete();
      await outbox.publish([...uow.record.scheduled]);
    }
    return { name, result: outcome.result };
  } catch (error) {
    await uow.abort().catch(() => undefined);
    throw error;
  } finally {
    await uow.close().catch(() => undefined);
  }
}

/**
 * Runs the model's after-startup microflow, if any. Throws — so the executor does not start —
 * when it fails or returns false.
 */
export async function runAfterStartup(options: LifecycleOptions): Promise<void> {
  let ran: { name: string; result: unknown } | undefined;
  try {
    ran = await runMoment(options, 'afterStartup');
  } catch (cause) {
    const error = asRunplaneError(cause);
    throw new UserError({
      code: ExecutorErrorCode.StartupMicroflowFailed,
      message: `The ${LABEL.afterStartup} microflow ${options.model.settings.afterStartup ?? ''} failed: ${error.message}`,
      details: { microflow: options.model.settings.afterStartup ?? '', cause: error.code },
      cause,
    });
  }
  if (ran === undefined) return;
  if (ran.result === false) {
    throw new UserError({
      code: ExecutorErrorCode.StartupMicroflowFailed,
      message: `The ${LABEL.afterStartup} microflow ${ran.name} returned false, so the executor does not start; its work was rolled back.`,
      details: { microflow: ran.name },
    });
  }
  options.logger.info({ microflow: ran.name }, `${LABEL.afterStartup} microflow ran`);
}

/**
 * Runs the model's before-shutdown microflow, if any, waiting for it at most `budgetMs`; a
 * failure or overrun is logged, never thrown (the stop goes on).
 */
export async function runBeforeShutdown(options: LifecycleOptions, budgetMs: number): Promise<void> {
  const name = options.model.settings.beforeShutdown;
  if (name === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<'overrun'>((resolve) => {
    timer = setTimeout(() => {
      resolve('overrun');
    }, budgetMs);
  });
  try {
    const ran = await Promise.race([runMoment(options, 'beforeShutdown'), overrun]);
    if (ran === 'overrun') {
      options.logger.warn(
        { microflow: name, budgetMs },
        `${LABEL.beforeShutdown} microflow did not finish within the shutdown time; the executor stops anyway`,
      );
    } else {
      options.logger.info({ microflow: name }, `${LABEL.beforeShutdown} microflow ran`);
    }
  } catch (cause) {
    const error = asRunplaneError(cause);
    options.logger.error(
      { microflow: options.model.settings.beforeShutdown, code: error.code, error: error.message },
      `${LABEL.beforeShutdown} microflow failed; the executor stops anyway`,
    );
  } finally {
    clearTimeout(timer);
  }
}
