/**
 * Flow control: decisions, inheritance splits, merges, loops, end/error/break/continue
 * events, variables and microflow calls.
 */
import { defaultValueOf, toStringValue, type MxValue } from '@runplane/expressions';
import type { MxObject, Savepoint } from '@runplane/persistence';
import { engineError, isLimitError, limitError, MicroflowErrorCode } from '../errors.js';
import { evaluateAll, evaluator, type Evaluator } from '../runtime/evaluate.js';
import {
  callStackOf,
  checkDeadline,
  invokeMicroflow,
  raiseHandled,
  runFlow,
  yieldToEventLoop,
} from '../runtime/interpreter.js';
import { Signal, type Frame, type Next, type Step } from '../runtime/state.js';
import type { NodeBuilder } from './context.js';

export const endNode: NodeBuilder<'end'> = (node) => {
  if (node.value === undefined) return () => Signal.End;
  const value = evaluator(node.value);
  if (value.sync) {
    return (frame) => {
      frame.result = value(frame) as MxValue;
      return Signal.End;
    };
  }
  return async (frame) => {
    frame.result = await value(frame);
    return Signal.End;
  };
};

export const errorNode: NodeBuilder<'error'> = () => (frame) => raiseHandled(frame);
export const breakNode: NodeBuilder<'break'> = () => () => Signal.Break;
export const continueNode: NodeBuilder<'continue'> = () => () => Signal.IterationEnd;
export const mergeNode: NodeBuilder<'merge'> = (_node, step) => () => step.next;

function caseKey(value: MxValue): string | undefined {
  if (value === null) return 'empty';
  if (value === true) return 'true';
  if (value === false) return 'false';
  return typeof value === 'string' ? value : undefined;
}

export const decisionNode: NodeBuilder<'decision'> = (node, _step, ctx) => {
  const cases = new Map<string, Step>([...node.cases].map(([key, target]) => [key, ctx.step(target)]));
  const fallback = node.default === undefined ? undefined : ctx.step(node.default);
  const value = evaluator(node.expression);
  const choose = (v: MxValue): Step => {
    const key = caseKey(v);
    const target = (key === undefined ? undefined : cases.get(key)) ?? fallback;
    if (target === undefined) {
      throw engineError(
        MicroflowErrorCode.FlowInvalid,
        `The decision has no flow for the value ${key ?? toStringValue(v)}.`,
        { details: { value: key ?? toStringValue(v) } },
      );
    }
    return target;
  };
  if (value.sync) return (frame) => choose(value(frame) as MxValue);
  return async (frame) => choose(await value(frame));
};

export const inheritanceSplitNode: NodeBuilder<'inheritanceSplit'> = (node, _step, ctx) => {
  const cases = new Map<string, Step>([...node.cases].map(([entity, target]) => [entity, ctx.step(target)]));
  const empty = node.empty === undefined ? undefined : ctx.step(node.empty);
  const fallback = node.default === undefined ? undefined : ctx.step(node.default);
  const chosen = new Map<string, Step | undefined>();
  const forEntity = (entity: string): Step | undefined => {
    if (!chosen.has(entity)) {
      const lineage = [entity, ...(ctx.model.entities.get(entity)?.generalizations ?? [])];
      chosen.set(entity, lineage.map((e) => cases.get(e)).find((s) => s !== undefined) ?? fallback);
    }
    return chosen.get(entity);
  };
  return (frame) => {
    const value = frame.vars.get(node.variable) ?? null;
    const target = value === null ? (empty ?? fallback) : forEntity((value as MxObject).entity);
    if (target === undefined) {
      throw engineError(
        MicroflowErrorCode.FlowInvalid,
        `The inheritance split has no flow for ${value === null ? 'an empty object' : (value as MxObject).entity}.`,
      );
    }
    return target;
  };
};

export const createVariableNode: NodeBuilder<'createVariable'> = (node, step) => {
  if (node.value === undefined) {
    const initial = defaultValueOf(node.type);
    return (frame) => {
      frame.vars.set(node.output, initial);
      return step.next;
    };
  }
  return assignment(node.output, evaluator(node.value), step);
};

export const changeVariableNode: NodeBuilder<'changeVariable'> = (node, step) =>
  assignment(node.variable, evaluator(node.value), step);

function assignment(variable: string, value: Evaluator, step: Step): (frame: Frame) => Next | Promise<Next> {
  if (value.sync) {
    return (frame) => {
      frame.vars.set(variable, value(frame) as MxValue);
      return step.next;
    };
  }
  return async (frame) => {
    frame.vars.set(variable, await value(frame));
    return step.next;
  };
}

export const callMicroflowNode: NodeBuilder<'callMicroflow'> = (node, step, ctx) => {
  const target = ctx.microflow(node.microflow);
  const names = [...node.arguments.keys()];
  const evaluators = [...node.arguments.values()].map(evaluator);
  const argumentsOf = (values: readonly MxValue[]): Map<string, MxValue> =>
    new Map(names.map((name, i) => [name, values[i] ?? null]));
  if (node.taskQueue !== undefined) {
    const queue = node.taskQueue;
    return async (frame) => {
      const tasks = frame.run.engine.tasks;
      if (tasks === undefined) {
        throw engineError(
          MicroflowErrorCode.TaskQueueUnavailable,
          `${node.microflow} should run on task queue ${queue}, but this engine has no task scheduler.`,
          { kind: 'operational', status: 'unavailable', details: { queue } },
        );
      }
      const values = await evaluateAll(evaluators, frame);
      await tasks.schedule(frame.run.uow, {
        queue,
        microflow: node.microflow,
        arguments: argumentsOf(values),
      });
      return step.next;
    };
  }
  const output = node.output;
  const call = (frame: Frame, values: readonly MxValue[]): Next | Promise<Next> => {
    const result = invokeMicroflow(frame.run, target, argumentsOf(values), frame);
    if (result instanceof Promise) {
      return result.then((value) => {
        if (output !== undefined) frame.vars.set(output, value);
        return step.next;
      });
    }
    if (output !== undefined) frame.vars.set(output, result);
    return step.next;
  };
  return (frame) => {
    const values = evaluateAll(evaluators, frame);
    return values instanceof Promise ? values.then((v) => call(frame, v)) : call(frame, values);
  };
};

/** Counts an iteration; throws when the loop exceeds its limit. True when the run should yield now. */
function countIteration(frame: Frame, step: Step, count: number): boolean {
  const run = frame.run;
  const limits = run.engine.limits;
  if (count > limits.maxLoopIterations) {
    frame.step = step;
    throw limitError(
      `Loop '${step.name}' in ${step.microflow} ran more than ${limits.maxLoopIterations} iterations.`,
      callStackOf(frame),
      'maxLoopIterations',
    );
  }
  run.iterations++;
  if ((run.iterations & 255) === 0) {
    frame.step = step;
    checkDeadline(frame);
  }
  return run.iterations % limits.yieldEveryIterations === 0;
}

interface LoopShape {
  /** Sets up iteration `index`; false when the loop is done. */
  readonly begin: (frame: Frame, index: number) => boolean | Promise<boolean>;
  readonly body: Step;
  readonly continueOnError: boolean;
}

/** Runs a loop synchronously as long as its body does, then asynchronously. */
function runLoop(frame: Frame, step: Step, shape: LoopShape): Next | Promise<Next> {
  const savedIndex = frame.vars.get('currentIndex');
  const done = (): Next => {
    if (savedIndex === undefined) frame.vars.delete('currentIndex');
    else frame.vars.set('currentIndex', savedIndex);
    return step.next;
  };
  if (shape.continueOnError) return loopAsync(frame, step, shape, 0, undefined, done);
  for (let index = 0; ; index++) {
    if (countIteration(frame, step, index + 1)) return loopAsync(frame, step, shape, index, 'yield', done);
    const more = shape.begin(frame, index);
    if (more instanceof Promise) return loopAsync(frame, step, shape, index, more, done);
    if (!more) return done();
    const signal = runFlow(shape.body, frame);
    if (signal instanceof Promise) return loopAsync(frame, step, shape, index, signal, done);
    if (signal === Signal.Break) return done();
  }
}

async function loopAsync(
  frame: Frame,
  step: Step,
  shape: LoopShape,
  from: number,
  pending: Promise<boolean> | Promise<Signal> | 'yield' | undefined,
  done: () => Next,
): Promise<Next> {
  let index = from;
  // Resume the iteration that went asynchronous.
  if (pending === 'yield') {
    await yieldToEventLoop();
    frame.step = step;
    checkDeadline(frame);
    if (!(await iterate(frame, shape, index))) return done();
    index++;
  } else if (pending !== undefined) {
    const value = await pending;
    if (typeof value === 'boolean') {
      if (!value) return done();
      const signal = await runFlow(shape.body, frame);
      if (signal === Signal.Break) return done();
    } else if (value === Signal.Break) {
      return done();
    }
    index++;
  }
  for (; ; index++) {
    if (countIteration(frame, step, index + 1)) {
      await yieldToEventLoop();
      frame.step = step;
      checkDeadline(frame);
    }
    const more = shape.continueOnError
      ? await iterateContinuing(frame, step, shape, index)
      : await iterate(frame, shape, index);
    if (!more) return done();
  }
}

/** One iteration; false when the loop ends (no more items, or a break). */
async function iterate(frame: Frame, shape: LoopShape, index: number): Promise<boolean> {
  if (!(await shape.begin(frame, index))) return false;
  const signal = await runFlow(shape.body, frame);
  return signal !== Signal.Break;
}

/** One iteration of a loop whose error handling is continue: a failing iteration is undone and skipped. */
async function iterateContinuing(
  frame: Frame,
  step: Step,
  shape: LoopShape,
  index: number,
): Promise<boolean> {
  const run = frame.run;
  let savepoint: Savepoint | undefined;
  try {
    if (!(await shape.begin(frame, index))) return false;
    savepoint = await run.uow.savepoint();
    const signal = await runFlow(shape.body, frame);
    await savepoint.release();
    return signal !== Signal.Break;
  } catch (error) {
    if (isLimitError(error)) throw error;
    if (savepoint !== undefined) await savepoint.rollback();
    run.engine.logger.debug(
      { microflow: step.microflow, node: step.name, iteration: index },
      `Iteration ${index} of loop '${step.name}' in ${step.microflow} failed and is skipped`,
    );
    return true;
  }
}

export const loopNode: NodeBuilder<'loop'> = (node, step, ctx) => {
  const body = ctx.step(node.body.start);
  const continueOnError = node.errorHandling.handling === 'continue';
  return (frame) => {
    const value = frame.vars.get(node.list);
    // Iterate over the list as it was when the loop started, as Mendix does.
    const items: readonly MxValue[] = Array.isArray(value) ? [...(value as MxValue[])] : [];
    const begin = (f: Frame, index: number): boolean => {
      if (index >= items.length) return false;
      f.vars.set(node.iterator, items[index] ?? null);
      f.vars.set('currentIndex', BigInt(index));
      return true;
    };
    return runLoop(frame, step, { begin, body, continueOnError });
  };
};

export const whileNode: NodeBuilder<'while'> = (node, step, ctx) => {
  const body = ctx.step(node.body.start);
  const condition = evaluator(node.condition);
  const continueOnError = node.errorHandling.handling === 'continue';
  const begin = (frame: Frame, index: number): boolean | Promise<boolean> => {
    frame.vars.set('currentIndex', BigInt(index));
    const value = condition(frame);
    return value instanceof Promise ? value.then((v) => v === true) : value === true;
  };
  return (frame) => runLoop(frame, step, { begin, body, continueOnError });
};
