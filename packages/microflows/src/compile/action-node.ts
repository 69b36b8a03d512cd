/** Call action: runs a custom TypeScript action registered under the model's name for it. */
import { ErrorKind, ErrorStatus } from '@runplane/errors';
import { formatType, type MxValue } from '@runplane/expressions';
import { actionContext } from '../actions/context.js';
import { engineError, MicroflowErrorCode } from '../errors.js';
import { fitValue } from '../runtime/arguments.js';
import { evaluateAll, evaluator } from '../runtime/evaluate.js';
import type { NodeBuilder } from './context.js';

export const callActionNode: NodeBuilder<'callAction'> = (node, step, ctx) => {
  const names = [...node.arguments.keys()];
  const evaluators = [...node.arguments.values()].map(evaluator);
  const declared = ctx.model.customActions.get(node.action);
  return async (frame) => {
    const definition = frame.run.engine.actions.get(node.action);
    if (definition === undefined) {
      throw engineError(
        MicroflowErrorCode.ActionNotRegistered,
        `Custom action ${node.action} has no code registered: add actions/${node.action}.ts to the app.`,
        { kind: ErrorKind.Operational, status: ErrorStatus.Unavailable, details: { action: node.action } },
      );
    }
    const values = await evaluateAll(evaluators, frame);
    const args: Record<string, MxValue> = {};
    names.forEach((name, i) => {
      args[name] = values[i] ?? null;
    });
    const returned: unknown = await definition.run(actionContext(frame, frame.uow, node.action), args);
    const value = (returned ?? null) as MxValue;
    const fitted = declared === undefined ? value : fitValue(value, declared.returnType, ctx.model);
    if (fitted === undefined) {
      throw engineError(
        MicroflowErrorCode.ActionResultInvalid,
        `Custom action ${node.action} returned a value that is not ${formatType(declared?.returnType ?? { kind: 'Void' })}.`,
        { kind: ErrorKind.Unexpected, status: ErrorStatus.Internal, details: { action: node.action } },
      );
    }
    if (node.output !== undefined) frame.vars.set(node.output, fitted);
    return step.next;
  };
};
