/**
 * The executable form of a microflow and the state of a run. A compiled microflow is a graph
 * of {@link Step}s whose successors are resolved at model load; a run allocates one
 * {@link Frame} per microflow call and one {@link RunState} per top-level run.
 */
import type { Span } from '@opentelemetry/api';
import type { EvaluationContext, MxObjectValue, MxValue } from '@runplane/expressions';
import type { CompiledModel, Microflow, MicroflowNode, MicroflowNodeKind } from '@runplane/model';
import type { UnitOfWork } from '@runplane/persistence';
import type { Logger } from '@runplane/telemetry';
import type { ActionRegistry } from '../actions/define.js';
import type { ClientInstruction, MicroflowLimits, MicroflowUser, TaskScheduler } from '../types.js';

/** How a flow (the top level or a loop body) finished. */
export const Signal = {
  /** An end event was reached; the frame holds the result. */
  End: 0,
  /** The iteration of a loop body ended (its last node, or a continue event). */
  IterationEnd: 1,
  /** A break event. */
  Break: 2,
} as const;
export type Signal = (typeof Signal)[keyof typeof Signal];

/** What a step leads to: the next step, or how the flow ends. */
export type Next = Step | Signal;

/** One compiled node. */
export interface Step {
  readonly name: string;
  readonly kind: MicroflowNodeKind;
  readonly node: MicroflowNode;
  /** The microflow it belongs to. */
  readonly microflow: string;
  /** Runs the node; synchronous where the node needs no I/O. Errors are thrown (or rejected). */
  exec: (frame: Frame) => Next | Promise<Next>;
  /** Where the flow goes after the node (resolved when the microflow is compiled). */
  next: Next;
  /** custom error handling: the first node of the error flow. */
  errorNext: Step | undefined;
  readonly handling: MicroflowNode['errorHandling']['handling'];
  /** Whether a savepoint is taken before it runs (custom without rollback / continue on nodes that touch data). */
  readonly savepoint: boolean;
  /** Whether it gets its own span when tracing is on (activities do; decisions and merges do not). */
  readonly traced: boolean;
  /** The span name: `<kind> <name>`. */
  readonly spanName: string;
  /** True when nothing but running `exec` is needed (default handling): the fast path. */
  plain: boolean;
}

/** A microflow ready to run. */
export interface CompiledMicroflow {
  readonly name: string;
  readonly microflow: Microflow;
  start: Step;
  readonly spanName: string;
}

/** What the engine offers the steps at run time. */
export interface EngineServices {
  readonly model: CompiledModel;
  readonly logger: Logger;
  readonly limits: MicroflowLimits;
  readonly actions: ActionRegistry;
  readonly fetch: typeof fetch;
  readonly tasks: TaskScheduler | undefined;
  readonly constants: ReadonlyMap<string, MxValue>;
  microflow(name: string): CompiledMicroflow | undefined;
  /** A child logger per log node, made once. */
  logNode(name: string): Logger;
}

/** A cache of association traversals, filled before an expression is evaluated. */
export type FollowCache = Map<string, readonly MxObjectValue[]>;

/** The state of one top-level run, shared by its sub-microflows and event handlers. */
export interface RunState {
  readonly engine: EngineServices;
  /** The caller's unit of work. */
  readonly uow: UnitOfWork;
  /** Its system view: what microflows without entity access use. */
  readonly systemUow: UnitOfWork;
  readonly user: MicroflowUser;
  readonly context: EvaluationContext;
  readonly instructions: ClientInstruction[];
  /** Objects already given a refresh instruction. */
  readonly refreshed: Set<string>;
  /** Date.now() after which the run is stopped. */
  readonly deadline: number;
  /** Loop iterations so far (for yielding and deadline checks). */
  iterations: number;
  /** The innermost frame running now (event handlers and actions nest below it). */
  frame: Frame | undefined;
  /** Set while an expression with association paths is evaluated. */
  follow: FollowCache | undefined;
  /** True when the run's span records: activities and sub-microflows get spans too. */
  tracing: boolean;
}

/** One microflow call. */
export interface Frame {
  readonly run: RunState;
  readonly microflow: CompiledMicroflow;
  /** Variables by name (parameters, outputs, iterators, `$currentIndex`, `$latestError`...). */
  readonly vars: Map<string, MxValue>;
  /** The unit of work data activities use: the user's when the microflow applies entity access, else the system view. */
  readonly uow: UnitOfWork;
  readonly parent: Frame | undefined;
  readonly depth: number;
  /** The node running now. */
  step: Step | undefined;
  /** The value of the end event. */
  result: MxValue;
  /** The error the current error flow handles (what an error event raises again). */
  handled: unknown;
  /** The span of this microflow call, when tracing. */
  span: Span | undefined;
}
