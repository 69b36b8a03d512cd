/**
 * The public shapes of the engine: what a run needs, what it returns, what the client is
 * told to do, and the limits that stop runaway flows.
 */
import type { MxValue } from '@runplane/expressions';
import type { MxObject, UnitOfWork } from '@runplane/persistence';
import type { Logger } from '@runplane/telemetry';
import type { ActionRegistry } from './actions/define.js';

/** Limits that stop runaway flows. Every error they raise names the microflow and node. */
export interface MicroflowLimits {
  /** Iterations of one loop or while node, per time it runs. Default 1 000 000. */
  readonly maxLoopIterations: number;
  /** Wall-clock time of one top-level run, sub-microflows and event handlers included. Default 300 000 (5 minutes). */
  readonly maxRunTimeMs: number;
  /** Nesting of microflow calls (sub-microflows, event handlers, actions calling microflows). Default 200. */
  readonly maxCallDepth: number;
  /**
   * Loop iterations (over the whole run) after which the engine yields to the event loop, so
   * that health checks and other requests are answered during a long run. Default 1 000.
   */
  readonly yieldEveryIterations: number;
}

/** The limits used when the options give none. */
export const DEFAULT_LIMITS: MicroflowLimits = Object.freeze({
  maxLoopIterations: 1_000_000,
  maxRunTimeMs: 300_000,
  maxCallDepth: 200,
  yieldEveryIterations: 1_000,
});

/**
 * Records background work in the caller's transaction (an outbox): what a call-microflow
 * activity with a task queue uses. The task becomes visible only if that transaction commits.
 */
export interface TaskScheduler {
  /** Records a task to run `microflow` with `arguments` on `queue`; returns the task's id. */
  schedule(
    uow: UnitOfWork,
    task: {
      readonly queue: string;
      readonly microflow: string;
      readonly arguments: ReadonlyMap<string, MxValue>;
    },
  ): Promise<string>;
}

/** What {@link createMicroflowEngine} needs besides the model. */
export interface MicroflowEngineOptions {
  /** Where log-message activities and the engine's own warnings go. */
  readonly logger: Logger;
  /** Overrides of the default {@link MicroflowLimits}. */
  readonly limits?: Partial<MicroflowLimits>;
  /** The code of custom TypeScript actions, by qualified name (see `loadActions`). */
  readonly actions?: ActionRegistry;
  /** The fetch used by Call REST activities; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** What a call-microflow activity with a task queue uses; without it such calls fail. */
  readonly tasks?: TaskScheduler;
  /** Constant values overriding the model's defaults (deployment settings), by qualified name. */
  readonly constants?: ReadonlyMap<string, MxValue>;
}

/** Who runs a microflow, beyond the unit of work's {@link UnitOfWork.user}. */
export interface MicroflowUser {
  /** The user's name, for logs and spans. */
  readonly userName?: string;
  /** The user's `System.User` object: `$currentUser`. */
  readonly currentUser?: MxObject | null;
  /** The user's `System.Session` object: `$currentSession`. */
  readonly currentSession?: MxObject | null;
  /** BCP 47 locale for month and day names and number formats; `en-US` when absent. */
  readonly locale?: string;
}

/** One request to run a microflow. */
export interface MicroflowRun {
  /** Qualified name, e.g. `Sales.PlaceOrder`. */
  readonly microflow: string;
  /** By parameter name. Objects as {@link MxObject}s of `uow`, lists as arrays of them; missing parameters are empty. */
  readonly arguments: ReadonlyMap<string, MxValue>;
  /** The caller's unit of work, made with the caller's user context. The caller completes or aborts it and closes it. */
  readonly uow: UnitOfWork;
  /** True when a client asked for the run: the microflow's allowed roles are checked (Mendix checks only there). */
  readonly fromClient: boolean;
  readonly user?: MicroflowUser;
}

/** What the client is asked to do once the request ends. A plain union: switch on `kind`. */
export type ClientInstruction =
  | {
      readonly kind: 'showMessage';
      readonly type: 'information' | 'warning' | 'error';
      readonly message: string;
      readonly blocking: boolean;
    }
  | {
      readonly kind: 'openPage';
      /** Qualified page name. */
      readonly page: string;
      /** Page parameters by name: objects of the unit of work. */
      readonly arguments: ReadonlyMap<string, MxValue>;
      readonly title: string | undefined;
    }
  | { readonly kind: 'closePage'; readonly count: number }
  | {
      readonly kind: 'validationFeedback';
      readonly objectId: string;
      readonly entity: string;
      /** The attribute name, or the association's qualified name. */
      readonly member: string;
      readonly message: string;
    }
  | {
      /** The client should show the object's current state (or drop it, when it was deleted). */
      readonly kind: 'refreshObject';
      readonly objectId: string;
      readonly entity: string;
    };

/** The kinds of {@link ClientInstruction}. */
export type ClientInstructionKind = ClientInstruction['kind'];

/** What a successful run returns. */
export interface MicroflowOutcome {
  /** The end event's value; null for microflows that return nothing. */
  readonly result: MxValue;
  /** Client instructions in the order the activities gave them (event handlers' included). */
  readonly instructions: readonly ClientInstruction[];
}
