/**
 * Runs compiled flows. A flow runs synchronously for as long as its steps do (decisions,
 * variables, list work, arithmetic) and turns into a promise chain only at the first step
 * that waits for I/O, so CPU-only microflows pay no promise per step.
 */
import { context as otelContext, trace, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { MxValue } from '@runplane/expressions';
import type { MxObject, Savepoint } from '@runplane/persistence';
import {
  MicroflowError,
  MicroflowErrorCode,
  isLimitError,
  limitError,
  toMicroflowError,
  type CallStackEntry,
} from '../errors.js';
import { Signal, type CompiledMicroflow, type Frame, type Next, type RunState, type Step } from './state.js';

/** The tracer of the engine's spans. */
export const TRACER = trace.getTracer('runplane.microflows');

/** The microflow call stack at a frame, outermost first. */
export function callStackOf(frame: Frame | undefined): CallStackEntry[] {
  const entries: CallStackEntry[] = [];
  for (let f = frame; f !== undefined; f = f.parent) {
    entries.push({ microflow: f.microflow.name, node: f.step?.name ?? f.microflow.microflow.flow.start });
  }
  return entries.reverse();
}

/** Runs a flow from `start` until it ends, breaks, or ends an iteration. */
export function runFlow(start: Step, frame: Frame): Signal | Promise<Signal> {
  let step = start;
  for (;;) {
    const result = runStep(step, frame);
    if (result instanceof Promise) return continueFlow(result, frame);
    if (typeof result === 'number') return result;
    step = result;
  }
}

async function continueFlow(pending: Promise<Next>, frame: Frame): Promise<Signal> {
  let next = await pending;
  while (typeof next !== 'number') {
    const result = runStep(next, frame);
    next = result instanceof Promise ? await result : result;
  }
  return next;
}

function runStep(step: Step, frame: Frame): Next | Promise<Next> {
  frame.step = step;
  if (step.plain && !(step.traced && frame.run.tracing)) {
    try {
      const result = step.exec(frame);
      return result instanceof Promise ? result.catch((error: unknown) => fail(frame, error)) : result;
    } catch (error) {
      return fail(frame, error);
    }
  }
  return guardedStep(step, frame);
}

function fail(frame: Frame, error: unknown): never {
  throw toMicroflowError(error, callStackOf(frame));
}

/** A step with a savepoint, a span or custom error handling. */
async function guardedStep(step: Step, frame: Frame): Promise<Next> {
  const run = frame.run;
  const savepoint: Savepoint | undefined = step.savepoint ? await run.uow.savepoint() : undefined;
  const span = step.traced && run.tracing ? startStepSpan(step) : undefined;
  try {
    const result =
      span === undefined
        ? await step.exec(frame)
        : await otelContext.with(trace.setSpan(otelContext.active(), span), () => step.exec(frame));
    if (savepoint !== undefined) await savepoint.release();
    span?.end();
    return result;
  } catch (error) {
    frame.step = step;
    const failure = toMicroflowError(error, callStackOf(frame));
    if (span !== undefined) {
      span.recordException(failure);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      span.end();
    }
    if (isLimitError(failure) || step.handling === 'rollback') throw failure;
    return handleError(step, frame, failure, savepoint);
  }
}

function startStepSpan(step: Step): Span {
  return TRACER.startSpan(step.spanName, {
    attributes: {
      'runplane.microflow': step.microflow,
      'runplane.microflow.node': step.name,
      'runplane.microflow.node_kind': step.kind,
    },
  });
}

/** Custom error handling of a step: undo what it must, then go on with the error flow (or the next node). */
async function handleError(
  step: Step,
  frame: Frame,
  failure: MicroflowError,
  savepoint: Savepoint | undefined,
): Promise<Next> {
  const run = frame.run;
  if (step.handling === 'customWithRollback') await run.uow.abort();
  else if (savepoint !== undefined) await savepoint.rollback();
  run.engine.logger.debug(
    {
      microflow: step.microflow,
      node: step.name,
      handling: step.handling,
      code: failure.code,
      cause_code: failure.details.causeCode,
    },
    `Handled error in ${step.microflow} at '${step.name}': ${failure.rootMessage}`,
  );
  if (step.handling === 'continue') {
    // The activity gave nothing: its output is empty for the nodes after it.
    const output = (step.node as { readonly output?: string }).output;
    if (output !== undefined && !frame.vars.has(output)) frame.vars.set(output, null);
    return step.next;
  }
  const target = step.errorNext;
  if (target === undefined) throw failure;
  frame.handled = failure;
  frame.vars.set('latestError', await errorObject(run, failure));
  return target;
}

/** The `System.Error` object of `$latestError`. */
async function errorObject(run: RunState, failure: MicroflowError): Promise<MxObject> {
  const error = await run.systemUow.instantiate('System.Error');
  error.set('ErrorType', failure.details.causeCode ?? failure.code);
  error.set('Message', failure.rootMessage);
  error.set('Stacktrace', stackTraceOf(failure));
  return error;
}

/** The stack trace text of `$latestError/Stacktrace`: the error, its causes and the microflow call stack. */
export function stackTraceOf(failure: MicroflowError): string {
  const lines = [`${failure.details.causeCode ?? failure.code}: ${failure.rootMessage}`];
  for (const entry of [...failure.details.callStack].reverse()) {
    lines.push(`    at ${entry.microflow} (node '${entry.node}')`);
  }
  let cause: unknown =
    failure.code === MicroflowErrorCode.Failed ? (failure.cause as Error | undefined)?.cause : failure.cause;
  while (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    lines.push(`Caused by: ${typeof code === 'string' ? `${code}: ` : ''}${cause.message}`);
    cause = cause.cause;
  }
  return lines.join('\n');
}

/** Checks the run's deadline; throws the limit error naming where the run is. */
export function checkDeadline(frame: Frame): void {
  const run = frame.run;
  if (Date.now() > run.deadline) {
    const stack = callStackOf(frame);
    const here = stack[stack.length - 1];
    throw limitError(
      `The run took longer than ${run.engine.limits.maxRunTimeMs} ms; stopped in ${here?.microflow ?? frame.microflow.name} at node '${here?.node ?? ''}'.`,
      stack,
      'maxRunTimeMs',
    );
  }
}

/** Lets the event loop run (timers, health checks, other requests) before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Calls a microflow within a run: a new frame below `parent`, the same unit of work (its
 * system view unless the microflow applies entity access). Synchronous when the whole
 * microflow is.
 */
export function invokeMicroflow(
  run: RunState,
  microflow: CompiledMicroflow,
  args: ReadonlyMap<string, MxValue>,
  parent: Frame | undefined,
): MxValue | Promise<MxValue> {
  const depth = parent === undefined ? 0 : parent.depth + 1;
  if (depth > run.engine.limits.maxCallDepth) {
    const stack = callStackOf(parent);
    throw limitError(
      `Microflow calls nest deeper than ${run.engine.limits.maxCallDepth} levels: ${microflow.name} was called from ${parent?.microflow.name ?? ''} at node '${parent?.step?.name ?? ''}'.`,
      stack,
      'maxCallDepth',
    );
  }
  if (parent !== undefined) checkDeadline(parent);
  const vars = new Map<string, MxValue>(args);
  vars.set('currentUser', run.user.currentUser ?? null);
  vars.set('currentSession', run.user.currentSession ?? null);
  const frame: Frame = {
    run,
    microflow,
    vars,
    uow: microflow.microflow.applyEntityAccess ? run.uow : run.systemUow,
    parent,
    depth,
    step: undefined,
    result: null,
    handled: undefined,
    span: undefined,
  };
  // The top level's span is made by the engine (it decides whether the run is traced at all).
  if (run.tracing && parent !== undefined) return invokeTraced(frame);
  const previous = run.frame;
  run.frame = frame;
  let signal: Signal | Promise<Signal>;
  try {
    signal = runFlow(microflow.start, frame);
  } catch (error) {
    run.frame = previous;
    throw error;
  }
  if (signal instanceof Promise) {
    return signal.then(
      () => {
        run.frame = previous;
        return frame.result;
      },
      (error: unknown) => {
        run.frame = previous;
        throw error;
      },
    );
  }
  run.frame = previous;
  return frame.result;
}

async function invokeTraced(frame: Frame): Promise<MxValue> {
  const run = frame.run;
  const microflow = frame.microflow;
  const span = TRACER.startSpan(microflow.spanName, {
    attributes: {
      'runplane.microflow': microflow.name,
      'runplane.user_id': run.uow.user.userId ?? '',
    },
  });
  frame.span = span;
  const previous = run.frame;
  run.frame = frame;
  try {
    await otelContext.with(trace.setSpan(otelContext.active(), span), () => runFlow(microflow.start, frame));
    return frame.result;
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    run.frame = previous;
    span.end();
  }
}

/** Re-raises the error the current error flow handles (an error event). */
export function raiseHandled(frame: Frame): never {
  const handled = frame.handled;
  if (handled instanceof MicroflowError) throw handled;
  throw toMicroflowError(handled, callStackOf(frame));
}

export { Signal };
