/**
 * Entity event handlers: the {@link EntityEventRunner} a unit of work calls at Mendix's
 * moments (before/after create, commit, delete, rollback). It must know its unit of work, so
 * there is one per unit of work: make it with `engine.eventRunner()`, pass it to
 * `Database.unitOfWork(user, runner)`, then `bind` it to the unit of work (or let
 * `engine.unitOfWork(database, user)` do all three).
 */
import { ErrorKind, ErrorStatus } from '@runplane/errors';
import type { MxValue } from '@runplane/expressions';
import type { EventHandler } from '@runplane/model';
import type { EntityEvent, EntityEventRunner, MxObject, UnitOfWork } from '@runplane/persistence';
import { engineError, MicroflowErrorCode } from './errors.js';
import { invokeMicroflow } from './runtime/interpreter.js';
import type { CompiledMicroflow, RunState } from './runtime/state.js';
import type { ClientInstruction, MicroflowUser } from './types.js';

/** What the event runner needs from the engine. */
export interface EventHost {
  /** The handlers of an entity for a moment and event: its generalizations' first, then its own. */
  handlers(entity: string, moment: 'before' | 'after', event: EntityEvent): readonly EventHandler[];
  microflow(name: string): CompiledMicroflow | undefined;
  /** Starts a run of its own (handlers fired outside any microflow run, e.g. by a client's commit). */
  startRun(uow: UnitOfWork, user: MicroflowUser): RunState;
  /** Runs a microflow as the top level of a run (with its span). */
  execute(run: RunState, microflow: CompiledMicroflow, args: ReadonlyMap<string, MxValue>): Promise<MxValue>;
  register(uow: UnitOfWork, runner: EventRunner): void;
}

/**
 * The entity event runner of one unit of work. Handlers run in the same transaction, below the
 * microflow run that caused the event when there is one (sharing its call stack, limits and
 * client instructions), else as a run of their own whose client instructions
 * {@link takeInstructions} hands over.
 */
export class EventRunner implements EntityEventRunner {
  readonly #host: EventHost;
  readonly #user: MicroflowUser;
  #uow: UnitOfWork | undefined;
  readonly #active: RunState[] = [];
  readonly #pending: ClientInstruction[] = [];

  /** @internal Made by the engine. */
  constructor(host: EventHost, user: MicroflowUser) {
    this.#host = host;
    this.#user = user;
  }

  /** Ties the runner to the unit of work it was given to; once, before any event fires. */
  bind(uow: UnitOfWork): this {
    this.#uow = uow;
    this.#host.register(uow, this);
    return this;
  }

  /** Client instructions given by handlers that ran outside a microflow run (taken once). */
  takeInstructions(): ClientInstruction[] {
    return this.#pending.splice(0, this.#pending.length);
  }

  /** @internal A run in this unit of work starts: events fire inside it. */
  enter(run: RunState): void {
    this.#active.push(run);
  }

  /** @internal The run ends. */
  leave(run: RunState): void {
    const index = this.#active.lastIndexOf(run);
    if (index >= 0) this.#active.splice(index, 1);
  }

  async run(
    moment: 'before' | 'after',
    event: EntityEvent,
    objects: readonly MxObject[],
  ): Promise<readonly boolean[]> {
    const results: boolean[] = [];
    for (const object of objects) results.push(await this.#runFor(moment, event, object));
    return results;
  }

  async #runFor(moment: 'before' | 'after', event: EntityEvent, object: MxObject): Promise<boolean> {
    const handlers = this.#host.handlers(object.entity, moment, event);
    for (const handler of handlers) {
      const microflow = this.#host.microflow(handler.microflow);
      if (microflow === undefined) continue;
      const args = new Map<string, MxValue>();
      const parameter = microflow.microflow.parameters[0];
      if (handler.passEventObject && parameter !== undefined) args.set(parameter.name, object);
      const result = await this.#invoke(microflow, args);
      // Mendix: the first before-handler returning false cancels the event; the others do not run.
      if (moment === 'before' && result === false) {
        if (handler.raiseErrorOnFalse) {
          throw engineError(
            MicroflowErrorCode.EventHandlerRefused,
            `The before ${event} event handler ${handler.microflow} refused to ${event} the ${object.entity} object.`,
            {
              kind: ErrorKind.User,
              status: ErrorStatus.ValidationFailed,
              details: { entity: object.entity, objectId: object.id, event, microflow: handler.microflow },
            },
          );
        }
        return false;
      }
    }
    return true;
  }

  #invoke(microflow: CompiledMicroflow, args: ReadonlyMap<string, MxValue>): MxValue | Promise<MxValue> {
    const active = this.#active[this.#active.length - 1];
    if (active !== undefined) return invokeMicroflow(active, microflow, args, active.frame);
    const uow = this.#uow;
    if (uow === undefined) {
      throw engineError(
        MicroflowErrorCode.EventRunnerUnbound,
        'An entity event fired on an event runner that was never bound to its unit of work; call bind(uow).',
        { kind: ErrorKind.Unexpected, status: ErrorStatus.Internal },
      );
    }
    const run = this.#host.startRun(uow, this.#user);
    this.enter(run);
    return this.#host.execute(run, microflow, args).finally(() => {
      this.leave(run);
      this.#pending.push(...run.instructions);
    });
  }
}
