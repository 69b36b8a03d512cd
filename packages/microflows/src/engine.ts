/** The microflow engine: compiled once per model, then asked to run microflows. */
import { context as otelContext, trace, SpanStatusCode } from '@opentelemetry/api';
import { ErrorKind, ErrorStatus } from '@runplane/errors';
import type { MxValue } from '@runplane/expressions';
import type { CompiledModel, EventHandler, Microflow } from '@runplane/model';
import type { Database, EntityEvent, UnitOfWork, UserContext } from '@runplane/persistence';
import type { Logger } from '@runplane/telemetry';
import type { ActionRegistry } from './actions/define.js';
import { compileMicroflows } from './compile/compiler.js';
import { engineError, MicroflowError, MicroflowErrorCode } from './errors.js';
import { EventRunner, type EventHost } from './events.js';
import { checkArguments } from './runtime/arguments.js';
import { constantValues, runContext } from './runtime/evaluate.js';
import { invokeMicroflow, TRACER } from './runtime/interpreter.js';
import type { CompiledMicroflow, EngineServices, RunState } from './runtime/state.js';
import {
  DEFAULT_LIMITS,
  type MicroflowEngineOptions,
  type MicroflowLimits,
  type MicroflowOutcome,
  type MicroflowRun,
  type MicroflowUser,
  type TaskScheduler,
} from './types.js';

/** A model's microflows, compiled and ready to run. */
export interface MicroflowEngine {
  readonly model: CompiledModel;
  readonly limits: MicroflowLimits;
  /**
   * Runs a microflow in the caller's unit of work: sub-microflows and event handlers share it.
   * The caller completes it (or aborts it when this rejects) and closes it. Rejects with a
   * {@link MicroflowError} carrying the call stack.
   */
  run(request: MicroflowRun): Promise<MicroflowOutcome>;
  /**
   * A new entity event runner for one unit of work: pass it to `Database.unitOfWork(user, runner)`
   * and then call `runner.bind(uow)`. `user` gives `$currentUser` to handlers fired outside a run.
   */
  eventRunner(user?: MicroflowUser): EventRunner;
  /** A unit of work of `database` whose entity events run this engine's handlers (runner made and bound). */
  unitOfWork(database: Database, user: UserContext, details?: MicroflowUser): UnitOfWork;
  /** The event runner bound to a unit of work (or its system view), if any. */
  eventRunnerOf(uow: UnitOfWork): EventRunner | undefined;
  /** Qualified names of the custom actions the model declares that have no code registered. */
  missingActions(): string[];
}

/**
 * Compiles every microflow of `model` (once) and returns the engine that runs them.
 * Defaults: {@link DEFAULT_LIMITS}, no actions, the global fetch, no task scheduler.
 */
export function createMicroflowEngine(
  model: CompiledModel,
  options: MicroflowEngineOptions,
): MicroflowEngine {
  return new Engine(model, options);
}

class Engine implements MicroflowEngine, EngineServices, EventHost {
  readonly model: CompiledModel;
  readonly logger: Logger;
  readonly limits: MicroflowLimits;
  readonly actions: ActionRegistry;
  readonly fetch: typeof fetch;
  readonly tasks: TaskScheduler | undefined;
  readonly constants: ReadonlyMap<string, MxValue>;
  readonly #compiled: ReadonlyMap<string, CompiledMicroflow>;
  readonly #runners = new WeakMap<UnitOfWork, EventRunner>();
  readonly #logNodes = new Map<string, Logger>();
  readonly #handlers = new Map<string, readonly EventHandler[]>();
  readonly #moduleRoles = new Map<string, ReadonlySet<string>>();

  constructor(model: CompiledModel, options: MicroflowEngineOptions) {
    this.model = model;
    this.logger = options.logger;
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.actions = options.actions ?? new Map();
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.tasks = options.tasks;
    this.constants = constantValues(model, options.constants);
    this.#compiled = compileMicroflows(model);
  }

  microflow(name: string): CompiledMicroflow | undefined {
    return this.#compiled.get(name);
  }

  logNode(name: string): Logger {
    let logger = this.#logNodes.get(name);
    if (logger === undefined) {
      logger = this.logger.child({ log_node: name });
      this.#logNodes.set(name, logger);
    }
    return logger;
  }

  missingActions(): string[] {
    return [...this.model.customActions.keys()].filter((name) => !this.actions.has(name)).sort();
  }

  eventRunner(user: MicroflowUser = {}): EventRunner {
    return new EventRunner(this, user);
  }

  unitOfWork(database: Database, user: UserContext, details: MicroflowUser = {}): UnitOfWork {
    const runner = this.eventRunner(details);
    const uow = database.unitOfWork(user, runner);
    runner.bind(uow);
    return uow;
  }

  eventRunnerOf(uow: UnitOfWork): EventRunner | undefined {
    return this.#runners.get(uow);
  }

  register(uow: UnitOfWork, runner: EventRunner): void {
    this.#runners.set(uow, runner);
    this.#runners.set(uow.asSystem(), runner);
  }

  handlers(entity: string, moment: 'before' | 'after', event: EntityEvent): readonly EventHandler[] {
    const key = `${entity} ${moment} ${event}`;
    let found = this.#handlers.get(key);
    if (found === undefined) {
      const info = this.model.entities.get(entity);
      const lineage = info === undefined ? [] : [...info.generalizations].reverse().concat(entity);
      found = lineage.flatMap(
        (name) =>
          this.model.entities
            .get(name)
            ?.eventHandlers.filter((h) => h.moment === moment && h.event === event) ?? [],
      );
      this.#handlers.set(key, found);
    }
    return found;
  }

  startRun(uow: UnitOfWork, user: MicroflowUser): RunState {
    const holder: { state?: RunState } = {};
    const context = runContext(
      this.model,
      () => holder.state as RunState,
      user,
      uow.user.timeZone,
      this.constants,
    );
    const state: RunState = {
      engine: this,
      uow,
      systemUow: uow.asSystem(),
      user,
      context,
      instructions: [],
      refreshed: new Set(),
      deadline: Date.now() + this.limits.maxRunTimeMs,
      iterations: 0,
      frame: undefined,
      follow: undefined,
      tracing: false,
    };
    holder.state = state;
    return state;
  }

  async execute(
    run: RunState,
    microflow: CompiledMicroflow,
    args: ReadonlyMap<string, MxValue>,
  ): Promise<MxValue> {
    const span = TRACER.startSpan(microflow.spanName, {
      attributes: { 'runplane.microflow': microflow.name, 'runplane.user_id': run.uow.user.userId ?? '' },
    });
    if (!span.isRecording()) {
      span.end();
      return invokeMicroflow(run, microflow, args, undefined);
    }
    run.tracing = true;
    try {
      return await otelContext.with(trace.setSpan(otelContext.active(), span), () =>
        invokeMicroflow(run, microflow, args, undefined),
      );
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  }

  async run(request: MicroflowRun): Promise<MicroflowOutcome> {
    const microflow = this.#compiled.get(request.microflow);
    if (microflow === undefined) {
      throw engineError(MicroflowErrorCode.NotFound, `There is no microflow ${request.microflow}.`, {
        status: ErrorStatus.NotFound,
        details: { microflow: request.microflow },
      });
    }
    if (request.fromClient) this.#checkAllowed(microflow.microflow, request.uow.user);
    const args = checkArguments(this.model, microflow.microflow, request.arguments);
    const run = this.startRun(request.uow, request.user ?? {});
    const events = this.#runners.get(request.uow);
    events?.enter(run);
    try {
      const result = await this.execute(run, microflow, args);
      return { result, instructions: run.instructions };
    } catch (error) {
      this.#logFailure(request.microflow, error);
      throw error;
    } finally {
      events?.leave(run);
    }
  }

  #logFailure(name: string, error: unknown): void {
    if (!(error instanceof MicroflowError)) {
      this.logger.error({ microflow: name, err: error }, `Microflow ${name} failed`);
      return;
    }
    const fields = {
      microflow: name,
      code: error.code,
      cause_code: error.details.causeCode,
      call_stack: error.details.callStack.map((e) => `${e.microflow}:${e.node}`).join(' > '),
    };
    if (error.kind === ErrorKind.User) this.logger.info(fields, `Microflow ${name} failed: ${error.message}`);
    else
      this.logger.error(
        { ...fields, err: error.cause ?? error },
        `Microflow ${name} failed: ${error.message}`,
      );
  }

  #checkAllowed(microflow: Microflow, user: UserContext): void {
    if (user.system || this.model.security.level === 'off') return;
    const roles = this.#moduleRolesOf(user.userRoles);
    if (microflow.allowedRoles.some((role) => roles.has(role))) return;
    throw engineError(MicroflowErrorCode.Forbidden, `You are not allowed to run ${microflow.name}.`, {
      status: ErrorStatus.PermissionDenied,
      details: { microflow: microflow.name, userRoles: [...user.userRoles] },
    });
  }

  #moduleRolesOf(userRoles: readonly string[]): ReadonlySet<string> {
    const key = userRoles.join('\u0000');
    let roles = this.#moduleRoles.get(key);
    if (roles === undefined) {
      roles = new Set(userRoles.flatMap((r) => this.model.security.userRoles.get(r)?.moduleRoles ?? []));
      this.#moduleRoles.set(key, roles);
    }
    return roles;
  }
}
