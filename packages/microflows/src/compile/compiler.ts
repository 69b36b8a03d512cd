/**
 * Compiles every microflow of a model once, at engine creation: each node becomes a
 * {@link Step} whose successors are resolved and whose expressions are bound, so a run never
 * looks anything up in the model.
 */
import { UnexpectedError } from '@runplane/errors';
import type { CompiledModel, Microflow, MicroflowNode, MicroflowNodeKind } from '@runplane/model';
import { Signal, type CompiledMicroflow, type Step } from '../runtime/state.js';
import { callActionNode } from './action-node.js';
import {
  closePageNode,
  logMessageNode,
  openPageNode,
  showMessageNode,
  validationFeedbackNode,
} from './client-nodes.js';
import type { CompileContext, Exec, NodeBuilder } from './context.js';
import {
  breakNode,
  callMicroflowNode,
  changeVariableNode,
  continueNode,
  createVariableNode,
  decisionNode,
  endNode,
  errorNode,
  inheritanceSplitNode,
  loopNode,
  mergeNode,
  whileNode,
} from './flow-nodes.js';
import { aggregateNode, changeListNode, createListNode, listOperationNode } from './list-nodes.js';
import {
  castNode,
  changeNode,
  commitNode,
  createNode,
  deleteNode,
  retrieveNode,
  rollbackNode,
} from './object-nodes.js';
import { callRestNode } from './rest-node.js';

const BUILDERS: { readonly [K in MicroflowNodeKind]: NodeBuilder<K> } = {
  end: endNode,
  error: errorNode,
  break: breakNode,
  continue: continueNode,
  merge: mergeNode,
  decision: decisionNode,
  inheritanceSplit: inheritanceSplitNode,
  loop: loopNode,
  while: whileNode,
  create: createNode,
  change: changeNode,
  retrieve: retrieveNode,
  commit: commitNode,
  delete: deleteNode,
  rollback: rollbackNode,
  cast: castNode,
  aggregate: aggregateNode,
  listOperation: listOperationNode,
  createList: createListNode,
  changeList: changeListNode,
  createVariable: createVariableNode,
  changeVariable: changeVariableNode,
  callMicroflow: callMicroflowNode,
  callRest: callRestNode,
  callAction: callActionNode,
  logMessage: logMessageNode,
  validationFeedback: validationFeedbackNode,
  showMessage: showMessageNode,
  openPage: openPageNode,
  closePage: closePageNode,
};

/** Nodes whose work a savepoint can undo: they get one when their error handling keeps earlier work. */
const DATA_KINDS: ReadonlySet<MicroflowNodeKind> = new Set([
  'create',
  'change',
  'commit',
  'delete',
  'rollback',
  'callMicroflow',
  'callAction',
  'loop',
  'while',
]);

/** Nodes that get no span of their own: they are cheap and say nothing a trace needs. */
const UNTRACED: ReadonlySet<MicroflowNodeKind> = new Set([
  'decision',
  'inheritanceSplit',
  'merge',
  'end',
  'error',
  'break',
  'continue',
]);

function notBuilt(): never {
  throw new UnexpectedError({
    code: 'STEP_NOT_BUILT',
    message: 'A step ran before its microflow was compiled.',
  });
}

function shell(node: MicroflowNode, microflow: string): Step {
  // A loop's "continue" means: go on with the next iteration; the loop itself handles that.
  const loopContinues =
    (node.kind === 'loop' || node.kind === 'while') && node.errorHandling.handling === 'continue';
  const handling = loopContinues ? 'rollback' : node.errorHandling.handling;
  const savepoint =
    (handling === 'customWithoutRollback' || handling === 'continue') && DATA_KINDS.has(node.kind);
  return {
    name: node.name,
    kind: node.kind,
    node,
    microflow,
    exec: notBuilt,
    next: Signal.End,
    errorNext: undefined,
    handling,
    savepoint,
    traced: !UNTRACED.has(node.kind),
    spanName: `${node.kind} ${node.name}`,
    plain: handling === 'rollback' && !savepoint,
  };
}

function compileMicroflow(
  model: CompiledModel,
  microflow: Microflow,
  all: ReadonlyMap<string, CompiledMicroflow>,
): void {
  const steps = new Map<string, Step>();
  for (const [name, node] of microflow.nodes) steps.set(name, shell(node, microflow.name));
  const step = (name: string): Step => {
    const found = steps.get(name);
    if (found === undefined) {
      throw new UnexpectedError({
        code: 'MICROFLOW_NODE_UNKNOWN',
        message: `${microflow.name} has no node '${name}'.`,
        details: { microflow: microflow.name, node: name },
      });
    }
    return found;
  };
  for (const [name, node] of microflow.nodes) {
    const s = step(name);
    // The last node of a loop body (no next) ends the iteration.
    s.next =
      node.next !== undefined ? step(node.next) : node.loop !== undefined ? Signal.IterationEnd : Signal.End;
    s.errorNext = node.errorHandling.next === undefined ? undefined : step(node.errorHandling.next);
  }
  const ctx: CompileContext = {
    model,
    step,
    microflow(name) {
      const found = all.get(name);
      if (found === undefined) {
        throw new UnexpectedError({
          code: 'MICROFLOW_UNKNOWN',
          message: `${microflow.name} calls ${name}, which the model does not have.`,
          details: { microflow: name },
        });
      }
      return found;
    },
  };
  for (const [name, node] of microflow.nodes) {
    const builder = BUILDERS[node.kind] as unknown as (n: MicroflowNode, s: Step, c: CompileContext) => Exec;
    step(name).exec = builder(node, step(name), ctx);
  }
  const compiled = all.get(microflow.name);
  if (compiled !== undefined) compiled.start = step(microflow.flow.start);
}

/** Compiles every microflow of the model. */
export function compileMicroflows(model: CompiledModel): ReadonlyMap<string, CompiledMicroflow> {
  const all = new Map<string, CompiledMicroflow>();
  for (const microflow of model.microflows.values()) {
    all.set(microflow.name, {
      name: microflow.name,
      microflow,
      start: undefined as unknown as Step,
      spanName: `microflow ${microflow.name}`,
    });
  }
  for (const microflow of model.microflows.values()) compileMicroflow(model, microflow, all);
  return all;
}
