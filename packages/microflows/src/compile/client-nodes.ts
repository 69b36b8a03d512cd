/** Log message and the client activities: validation feedback, show message, open and close page. */
import { context as otelContext, trace } from '@opentelemetry/api';
import type { MxValue } from '@runplane/expressions';
import { stackTraceOf } from '../runtime/interpreter.js';
import { evaluateAll, evaluator, templateRenderer } from '../runtime/evaluate.js';
import { instruct } from '../runtime/instructions.js';
import type { Frame, Next } from '../runtime/state.js';
import { MicroflowError } from '../errors.js';
import { objectIn, type NodeBuilder } from './context.js';

/** Mendix log levels as the logger has them. */
const LEVELS = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
} as const;

export const logMessageNode: NodeBuilder<'logMessage'> = (node, step) => {
  const render = templateRenderer(node.template);
  const level = LEVELS[node.level];
  const write = (frame: Frame, message: string): Next => {
    const logger = frame.run.engine.logNode(node.logNode);
    if (logger.isLevelEnabled(level)) {
      const fields: Record<string, unknown> = { microflow: step.microflow, node: step.name };
      if (node.includeLatestStackTrace && frame.handled instanceof MicroflowError) {
        fields['stacktrace'] = stackTraceOf(frame.handled);
      }
      const span = trace.getSpan(otelContext.active());
      if (span?.isRecording() === true) span.addEvent('log', { 'log.level': level, 'log.message': message });
      logger[level](fields, message);
    }
    return step.next;
  };
  return (frame) => {
    const message = render(frame);
    return message instanceof Promise ? message.then((m) => write(frame, m)) : write(frame, message);
  };
};

export const validationFeedbackNode: NodeBuilder<'validationFeedback'> = (node, step) => {
  const render = templateRenderer(node.template);
  const add = (frame: Frame, message: string): Next => {
    const object = objectIn(frame, node.variable);
    instruct(frame.run, {
      kind: 'validationFeedback',
      objectId: object.id,
      entity: object.entity,
      member: node.member,
      message,
    });
    return step.next;
  };
  return (frame) => {
    const message = render(frame);
    return message instanceof Promise ? message.then((m) => add(frame, m)) : add(frame, message);
  };
};

export const showMessageNode: NodeBuilder<'showMessage'> = (node, step) => {
  const render = templateRenderer(node.template);
  const add = (frame: Frame, message: string): Next => {
    instruct(frame.run, { kind: 'showMessage', type: node.type, message, blocking: node.blocking });
    return step.next;
  };
  return (frame) => {
    const message = render(frame);
    return message instanceof Promise ? message.then((m) => add(frame, m)) : add(frame, message);
  };
};

export const openPageNode: NodeBuilder<'openPage'> = (node, step) => {
  const names = [...node.arguments.keys()];
  const evaluators = [...node.arguments.values()].map(evaluator);
  const add = (frame: Frame, values: readonly MxValue[]): Next => {
    instruct(frame.run, {
      kind: 'openPage',
      page: node.page,
      arguments: new Map(names.map((name, i) => [name, values[i] ?? null])),
      title: node.title,
    });
    return step.next;
  };
  return (frame) => {
    const values = evaluateAll(evaluators, frame);
    return values instanceof Promise ? values.then((v) => add(frame, v)) : add(frame, values);
  };
};

export const closePageNode: NodeBuilder<'closePage'> = (node, step) => (frame) => {
  instruct(frame.run, { kind: 'closePage', count: node.count });
  return step.next;
};
