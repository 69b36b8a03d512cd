/**
 * Microflow bodies: the flow graph (targets, reachability, ends, loops, error flows),
 * the variables in scope at each node, and every node's references and expressions.
 */
import { ModelErrorCode } from '../errors.js';
import { formatType, isAssignable, type MxType } from '../languages.js';
import type {
  ErrorHandling,
  Flow,
  MemberChange,
  Microflow,
  MicroflowNode,
  ModelExpression,
  SortItem,
} from '../compiled/types.js';
import type { RawFlow, RawMemberValue, RawMicroflow, RawNode } from '../raw.js';
import { at, elementSource, modelPath, type Loc } from './diagnostics.js';
import { entries, variableName, type Context, type Elem, type Signature } from './context.js';
import { compileExpr, compileTemplate, compileXPathAt, extend, type Env } from './expressions.js';
import { ownsAssociation } from './domain.js';
import { RESERVED_VARIABLES } from './signatures.js';
import { didYouMean } from './spelling.js';

const CURRENT_USER: MxType = { kind: 'Object', entity: 'System.User' };
const CURRENT_SESSION: MxType = { kind: 'Object', entity: 'System.Session' };
const LATEST_ERROR: MxType = { kind: 'Object', entity: 'System.Error' };
const LATEST_HTTP_RESPONSE: MxType = { kind: 'Object', entity: 'System.HttpResponse' };
const INTEGER: MxType = { kind: 'Integer' };
const BOOLEAN: MxType = { kind: 'Boolean' };
const STRING: MxType = { kind: 'String' };

/** Variables every microflow has. */
export const GLOBAL_VARIABLES: readonly (readonly [string, MxType])[] = [
  ['currentUser', CURRENT_USER],
  ['currentSession', CURRENT_SESSION],
];

const TERMINAL_KINDS = new Set(['end', 'error', 'break', 'continue']);

type EdgeLabel =
  | { kind: 'next' }
  | { kind: 'case'; key: string }
  | { kind: 'default' }
  | { kind: 'empty' }
  | { kind: 'error' };

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: EdgeLabel;
}

interface FlowInfo {
  readonly raw: RawFlow;
  readonly loc: Loc;
  /** The loop or while node owning this flow (undefined at the top level). */
  readonly loop: string | undefined;
  readonly nodes: string[];
}

interface NodeInfo {
  readonly name: string;
  readonly raw: RawNode;
  readonly loc: Loc;
  readonly flow: FlowInfo;
}

/** Compiles the body of every microflow. */
export function compileMicroflows(ctx: Context): void {
  for (const elem of ctx.elements.microflows.values()) {
    const signature = ctx.microflowSignatures.get(elem.qname);
    if (signature === undefined) continue;
    const microflow = new MicroflowCompiler(ctx, elem, signature).compile();
    if (microflow !== undefined) ctx.microflows.set(elem.qname, microflow);
  }
}

class MicroflowCompiler {
  readonly #ctx: Context;
  readonly #elem: Elem<RawMicroflow>;
  readonly #signature: Signature;
  readonly #nodes = new Map<string, NodeInfo>();
  readonly #flows: FlowInfo[] = [];
  readonly #edges = new Map<string, Edge[]>();
  readonly #incoming = new Map<string, Edge[]>();
  /** Declared variables: parameters, outputs, iterators. */
  readonly #declared = new Map<string, Loc | undefined>();
  readonly #types = new Map<string, MxType>();
  readonly #poisoned = new Set<string>();
  /** Variable names in scope at each node's start (must-defined analysis). */
  readonly #available = new Map<string, Set<string>>();
  readonly #compiled = new Map<string, MicroflowNode>();
  /** Nodes with a target that does not resolve: graph checks downstream of them would only echo. */
  readonly #brokenEdges = new Set<string>();
  readonly #errorsBefore: number;

  constructor(ctx: Context, elem: Elem<RawMicroflow>, signature: Signature) {
    this.#ctx = ctx;
    this.#elem = elem;
    this.#signature = signature;
    this.#errorsBefore = ctx.diag.count;
  }

  get #module(): string {
    return this.#elem.module;
  }

  #error(loc: Loc, code: ModelErrorCode, message: string, hint = '', on: 'key' | 'value' = 'value'): void {
    this.#ctx.diag.error(loc, code, message, hint, on);
  }

  compile(): Microflow | undefined {
    const top: FlowInfo = {
      raw: { start: this.#elem.raw.start, nodes: this.#elem.raw.nodes },
      loc: this.#elem.loc,
      loop: undefined,
      nodes: [],
    };
    this.#collect(top);
    for (const node of this.#nodes.values()) this.#buildEdges(node);
    for (const flow of this.#flows) this.#checkFlowShape(flow);
    this.#declareVariables();
    this.#analyseFlow(
      top,
      new Set([...GLOBAL_VARIABLES.map(([n]) => n), ...this.#signature.parameters.map((p) => p.name)]),
    );
    for (const [name, type] of GLOBAL_VARIABLES) this.#types.set(name, type);
    for (const p of this.#signature.parameters) this.#types.set(p.name, p.type);
    this.#compileFlow(top);
    const ok = this.#ctx.diag.count === this.#errorsBefore;
    if (!ok) return undefined;
    const raw = this.#elem.raw;
    return {
      name: this.#elem.qname,
      module: this.#elem.module,
      shortName: this.#elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(this.#elem.loc),
      id: raw.id ?? `${this.#ctx.modules.get(this.#module)?.id ?? this.#module}.${this.#elem.name}`,
      parameters: this.#signature.parameters,
      returnType: this.#signature.returnType,
      allowedRoles: this.#ctx.resolveModuleRoles(
        raw.allowedRoles,
        this.#module,
        at(this.#elem.loc, 'allowedRoles'),
      ),
      applyEntityAccess: raw.applyEntityAccess ?? false,
      flow: { start: top.raw.start, nodes: top.nodes },
      nodes: this.#compiled,
      variables: new Map([...this.#types].filter(([name]) => !GLOBAL_VARIABLES.some(([g]) => g === name))),
    };
  }

  // -------------------------------------------------------------------------------------
  // Structure

  #collect(flow: FlowInfo): void {
    this.#flows.push(flow);
    for (const [name, raw] of entries(flow.raw.nodes)) {
      const loc = at(flow.loc, 'nodes', name);
      const existing = this.#nodes.get(name);
      if (existing !== undefined) {
        const p = existing.loc.file.position(existing.loc.path, 'key');
        this.#error(
          loc,
          ModelErrorCode.DuplicateName,
          `Node '${name}' is defined twice in this microflow (also at ${p.line}:${p.column}).`,
          'Node names are unique across the microflow, loop bodies included.',
          'key',
        );
        continue;
      }
      const node: NodeInfo = { name, raw, loc, flow };
      this.#nodes.set(name, node);
      flow.nodes.push(name);
      if ((raw.kind === 'loop' || raw.kind === 'while') && typeof raw.body === 'object') {
        this.#collect({ raw: raw.body, loc: at(loc, 'body'), loop: name, nodes: [] });
      }
    }
  }

  #target(node: NodeInfo, target: string, loc: Loc, label: EdgeLabel): void {
    const to = this.#nodes.get(target);
    if (to === undefined || to.flow !== node.flow) this.#brokenEdges.add(node.name);
    if (to === undefined) {
      this.#error(
        loc,
        ModelErrorCode.UnknownNode,
        `There is no node '${target}' in this microflow.`,
        didYouMean(target, node.flow.nodes) || `Nodes here: ${node.flow.nodes.join(', ')}.`,
      );
      return;
    }
    if (to.flow !== node.flow) {
      this.#error(
        loc,
        ModelErrorCode.InvalidFlow,
        `Node '${target}' is in ${to.flow.loop === undefined ? 'the main flow' : `the body of loop '${to.flow.loop}'`}; a flow cannot jump ${node.flow.loop === undefined ? 'into' : 'out of'} a loop body.`,
        node.flow.loop === undefined
          ? 'Go to the loop node instead.'
          : 'Use break to leave the loop, or end the iteration.',
      );
      return;
    }
    const edge: Edge = { from: node.name, to: target, label };
    this.#edges.set(node.name, [...(this.#edges.get(node.name) ?? []), edge]);
    this.#incoming.set(target, [...(this.#incoming.get(target) ?? []), edge]);
  }

  #buildEdges(node: NodeInfo): void {
    const raw = node.raw;
    if (raw.next !== undefined) this.#target(node, raw.next, at(node.loc, 'next'), { kind: 'next' });
    if (raw.kind === 'decision' || raw.kind === 'inheritanceSplit') {
      for (const [key, target] of entries(raw.cases))
        this.#target(node, target, at(node.loc, 'cases', key), { kind: 'case', key });
      if (raw.empty !== undefined) this.#target(node, raw.empty, at(node.loc, 'empty'), { kind: 'empty' });
      if (raw.default !== undefined)
        this.#target(node, raw.default, at(node.loc, 'default'), { kind: 'default' });
    }
    const onError = raw.onError;
    if (onError !== undefined) {
      const custom =
        onError.handling === 'customWithRollback' || onError.handling === 'customWithoutRollback';
      if (custom && onError.next === undefined) {
        this.#error(
          at(node.loc, 'onError'),
          ModelErrorCode.InvalidFlow,
          `Error handling '${onError.handling}' needs the error flow's first node.`,
          'Add next: <node> under onError.',
        );
      } else if (!custom && onError.next !== undefined) {
        this.#error(
          at(node.loc, 'onError', 'next'),
          ModelErrorCode.InvalidFlow,
          `Error handling '${onError.handling}' has no error flow.`,
          'Remove next, or use customWithRollback / customWithoutRollback.',
          'key',
        );
      } else if (onError.next !== undefined) {
        this.#target(node, onError.next, at(node.loc, 'onError', 'next'), { kind: 'error' });
      }
      if (onError.handling === 'continue' && (raw.kind === 'decision' || raw.kind === 'inheritanceSplit')) {
        this.#error(
          at(node.loc, 'onError', 'handling'),
          ModelErrorCode.InvalidFlow,
          'A decision cannot continue after an error: it would not know which way to go.',
          'Use rollback or a custom error flow.',
        );
      }
    }
  }

  #successors(name: string): Edge[] {
    return this.#edges.get(name) ?? [];
  }

  #checkFlowShape(flow: FlowInfo): void {
    const inLoop = flow.loop !== undefined;
    if (!this.#nodes.has(flow.raw.start) || this.#nodes.get(flow.raw.start)?.flow !== flow) {
      const loc = at(flow.loc, 'start');
      if (this.#nodes.get(flow.raw.start)?.flow !== undefined) {
        this.#error(
          loc,
          ModelErrorCode.InvalidFlow,
          `Start node '${flow.raw.start}' is not in this flow.`,
          'Start with a node of this flow.',
        );
      } else {
        this.#error(
          loc,
          ModelErrorCode.UnknownNode,
          `There is no node '${flow.raw.start}' to start with.`,
          didYouMean(flow.raw.start, flow.nodes) || `Nodes here: ${flow.nodes.join(', ') || 'none'}.`,
        );
      }
      return;
    }
    for (const name of flow.nodes) {
      const node = this.#nodes.get(name);
      if (node === undefined) continue;
      const kind = node.raw.kind;
      if (kind === 'end' && inLoop) {
        this.#error(
          at(node.loc, 'kind'),
          ModelErrorCode.InvalidFlow,
          'A loop body cannot contain an end event.',
          'Use break to leave the loop and end after it.',
        );
      }
      if ((kind === 'break' || kind === 'continue') && !inLoop) {
        this.#error(
          at(node.loc, 'kind'),
          ModelErrorCode.InvalidFlow,
          `A ${kind} event can only be used inside a loop body.`,
          'Use an end event, or move it into the loop.',
        );
      }
      const branches = kind === 'decision' || kind === 'inheritanceSplit';
      if (!TERMINAL_KINDS.has(kind) && !branches && node.raw.next === undefined && !inLoop) {
        this.#brokenEdges.add(name);
        this.#error(
          node.loc,
          ModelErrorCode.InvalidFlow,
          `Node '${name}' has no next node: the flow would stop without reaching an end.`,
          'Add next: <node>, or an end node after it.',
          'key',
        );
      }
    }
    // With a broken edge in the flow, reachability and termination would only echo it.
    if (flow.nodes.some((name) => this.#brokenEdges.has(name))) return;
    // Reachability from the start, over every edge.
    const reached = new Set<string>([flow.raw.start]);
    const queue = [flow.raw.start];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      for (const edge of this.#successors(item)) {
        if (!reached.has(edge.to)) {
          reached.add(edge.to);
          queue.push(edge.to);
        }
      }
    }
    for (const name of flow.nodes) {
      const node = this.#nodes.get(name);
      if (node !== undefined && !reached.has(name)) {
        this.#error(
          node.loc,
          ModelErrorCode.InvalidFlow,
          `Node '${name}' can never be reached from the start.`,
          'Point a next, case or error flow at it, or remove it.',
          'key',
        );
      }
    }
    // Every reached node must be able to reach the end of its flow.
    const finishing = new Set<string>();
    for (const name of flow.nodes) {
      const node = this.#nodes.get(name);
      if (node === undefined) continue;
      const kind = node.raw.kind;
      const branches = kind === 'decision' || kind === 'inheritanceSplit';
      if (TERMINAL_KINDS.has(kind) || (inLoop && !branches && node.raw.next === undefined))
        finishing.add(name);
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const name of flow.nodes) {
        if (finishing.has(name)) continue;
        if (this.#successors(name).some((e) => finishing.has(e.to))) {
          finishing.add(name);
          changed = true;
        }
      }
    }
    const stuck = flow.nodes.find(
      (name) => reached.has(name) && !finishing.has(name) && this.#nodes.get(name) !== undefined,
    );
    if (stuck !== undefined) {
      const node = this.#nodes.get(stuck);
      if (node !== undefined) {
        this.#error(
          node.loc,
          ModelErrorCode.InvalidFlow,
          `From node '${stuck}' the flow can never reach ${inLoop ? 'the end of the iteration' : 'an end'}: it loops forever.`,
          'Add a way out of the cycle, e.g. a decision with a case to an end.',
          'key',
        );
      }
    }
    if (!inLoop) {
      const ends = flow.nodes.filter(
        (name) => reached.has(name) && this.#nodes.get(name)?.raw.kind === 'end',
      );
      if (ends.length === 0 && reached.size > 0) {
        this.#error(
          at(flow.loc, 'start'),
          ModelErrorCode.InvalidFlow,
          'The microflow has no end node it can reach.',
          'Add a node with kind: end.',
        );
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Variables

  #outputName(raw: RawNode): string | undefined {
    if (raw.kind === 'loop') return raw.iterator;
    return raw.output;
  }

  #declareVariables(): void {
    for (const p of this.#signature.parameters) this.#declared.set(p.name, undefined);
    // Parameters whose type is broken: their uses are not checked again.
    for (const name of Object.keys(this.#elem.raw.parameters ?? {})) {
      if (!this.#declared.has(name)) {
        this.#declared.set(name, undefined);
        this.#poisoned.add(name);
      }
    }
    for (const node of this.#nodes.values()) {
      const name = this.#outputName(node.raw);
      if (name === undefined) continue;
      const key = node.raw.kind === 'loop' ? 'iterator' : 'output';
      const loc = at(node.loc, key);
      if ((RESERVED_VARIABLES as readonly string[]).includes(name)) {
        this.#error(
          loc,
          ModelErrorCode.DuplicateName,
          `'${name}' is a name the runtime uses for $${name}.`,
          'Choose another name.',
        );
        this.#poisoned.add(name);
        continue;
      }
      if (this.#declared.has(name)) {
        const previous = this.#declared.get(name);
        const where =
          previous === undefined
            ? 'a parameter'
            : `the output of node '${String(previous.path[previous.path.length - 2])}'`;
        this.#error(
          loc,
          ModelErrorCode.DuplicateName,
          `Variable '${name}' is already ${where}.`,
          'Variable names are unique in a microflow; choose another name.',
        );
        continue;
      }
      this.#declared.set(name, loc);
    }
  }

  /** Defines of a node on its normal outgoing flows. */
  #defines(node: NodeInfo): string[] {
    const raw = node.raw;
    if (raw.kind === 'loop') return [];
    return raw.output === undefined ? [] : [raw.output];
  }

  /** Must-defined analysis over one flow, then its loop bodies. */
  #analyseFlow(flow: FlowInfo, entry: ReadonlySet<string>): void {
    const order = this.#reversePostorder(flow);
    const inSets = new Map<string, Set<string> | undefined>();
    inSets.set(flow.raw.start, new Set(entry));
    let changed = true;
    while (changed) {
      changed = false;
      for (const name of order) {
        const incoming = (this.#incoming.get(name) ?? []).filter((e) => inSets.get(e.from) !== undefined);
        let next: Set<string> | undefined = name === flow.raw.start ? new Set(entry) : undefined;
        for (const edge of incoming) {
          const from = this.#nodes.get(edge.from);
          const fromIn = inSets.get(edge.from);
          if (from === undefined || fromIn === undefined) continue;
          const out = new Set(fromIn);
          if (edge.label.kind === 'error') {
            out.add('latestError');
            if (from.raw.kind === 'callRest') out.add('latestHttpResponse');
          } else {
            for (const d of this.#defines(from)) out.add(d);
          }
          next = next === undefined ? out : new Set([...next].filter((v) => out.has(v)));
        }
        const previous = inSets.get(name);
        if (
          next !== undefined &&
          (previous === undefined || previous.size !== next.size || [...next].some((v) => !previous.has(v)))
        ) {
          inSets.set(name, next);
          changed = true;
        }
      }
    }
    for (const name of order) {
      this.#available.set(name, inSets.get(name) ?? new Set(entry));
    }
    for (const name of order) {
      const node = this.#nodes.get(name);
      if (node === undefined) continue;
      if ((node.raw.kind === 'loop' || node.raw.kind === 'while') && typeof node.raw.body === 'object') {
        const body = this.#flows.find((f) => f.loop === name);
        if (body === undefined) continue;
        const inner = new Set(this.#available.get(name));
        inner.add('currentIndex');
        if (node.raw.kind === 'loop' && node.raw.iterator !== undefined) inner.add(node.raw.iterator);
        this.#analyseFlow(body, inner);
      }
    }
  }

  #reversePostorder(flow: FlowInfo): string[] {
    const visited = new Set<string>();
    const post: string[] = [];
    const visit = (name: string): void => {
      visited.add(name);
      for (const edge of this.#successors(name)) if (!visited.has(edge.to)) visit(edge.to);
      post.push(name);
    };
    if (this.#nodes.get(flow.raw.start)?.flow === flow) visit(flow.raw.start);
    return post.reverse();
  }

  #env(name: string, extra: readonly (readonly [string, MxType])[] = []): Env {
    const available = this.#available.get(name) ?? new Set<string>();
    const types = new Map<string, MxType>();
    const poisoned = new Set<string>(this.#poisoned);
    for (const v of available) {
      const type = this.#types.get(v);
      if (type !== undefined) types.set(v, type);
      else if (v !== 'currentIndex' && v !== 'latestError' && v !== 'latestHttpResponse') poisoned.add(v);
    }
    if (available.has('latestError')) types.set('latestError', LATEST_ERROR);
    if (available.has('latestHttpResponse')) types.set('latestHttpResponse', LATEST_HTTP_RESPONSE);
    for (const [n, t] of extra) types.set(n, t);
    // Declared but not (yet) available: unknown variables, reported by the expression checker.
    return { types, poisoned };
  }

  // -------------------------------------------------------------------------------------
  // Nodes

  #compileFlow(flow: FlowInfo, loopScope: readonly (readonly [string, MxType])[] = []): void {
    for (const name of this.#reversePostorder(flow)) {
      const node = this.#nodes.get(name);
      if (node === undefined) continue;
      const env = this.#env(name, loopScope);
      const compiled = this.#compileNode(node, env, loopScope);
      if (compiled !== undefined) this.#compiled.set(name, compiled);
    }
  }

  /** Looks up a variable (`$X` or `X`) used by a node; reports when it is not in scope. */
  #variable(loc: Loc, ref: string, env: Env): { name: string; type: MxType } | undefined {
    const name = variableName(ref);
    const type = env.types.get(name);
    if (type !== undefined) return { name, type };
    if (env.poisoned.has(name)) return undefined;
    if (this.#declared.has(name) || name === 'latestError' || name === 'currentIndex') {
      this.#error(
        loc,
        ModelErrorCode.UnknownVariable,
        `Variable $${name} is not available here: not every path to this node defines it.`,
        'Define it before the decision or merge that leads here, or move this node.',
      );
    } else {
      this.#error(
        loc,
        ModelErrorCode.UnknownVariable,
        `There is no variable $${name}.`,
        didYouMean(name, env.types.keys()) ||
          `In scope: ${[...env.types.keys()].map((v) => `$${v}`).join(', ')}.`,
      );
    }
    return undefined;
  }

  #objectVariable(
    loc: Loc,
    ref: string,
    env: Env,
    allowList: boolean,
  ): { name: string; type: MxType; entity: string } | undefined {
    const found = this.#variable(loc, ref, env);
    if (found === undefined) return undefined;
    if (found.type.kind === 'Object' || (allowList && found.type.kind === 'List')) {
      return { ...found, entity: found.type.entity };
    }
    this.#error(
      loc,
      ModelErrorCode.TypeMismatch,
      `$${found.name} is ${formatType(found.type)}; an object${allowList ? ' or a list' : ''} is needed here.`,
      '',
    );
    return undefined;
  }

  #listVariable(loc: Loc, ref: string, env: Env): { name: string; entity: string } | undefined {
    const found = this.#variable(loc, ref, env);
    if (found === undefined) return undefined;
    if (found.type.kind === 'List') return { name: found.name, entity: found.type.entity };
    this.#error(
      loc,
      ModelErrorCode.TypeMismatch,
      `$${found.name} is ${formatType(found.type)}; a list is needed here.`,
      '',
    );
    return undefined;
  }

  #setOutput(node: NodeInfo, type: MxType | undefined): void {
    const name = this.#outputName(node.raw);
    if (name === undefined) return;
    if (type === undefined) this.#poisoned.add(name);
    else if (
      this.#declared.get(name)?.path.join('/') ===
      at(node.loc, node.raw.kind === 'loop' ? 'iterator' : 'output').path.join('/')
    ) {
      this.#types.set(name, type);
    }
  }

  #unused(node: NodeInfo, fields: readonly (keyof RawNode)[], why: string): void {
    for (const field of fields) {
      if (node.raw[field] !== undefined) {
        this.#error(
          at(node.loc, field),
          ModelErrorCode.InvalidArguments,
          `'${field}' is not used ${why}.`,
          `Remove '${field}'.`,
          'key',
        );
      }
    }
  }

  #compileNode(
    node: NodeInfo,
    env: Env,
    loopScope: readonly (readonly [string, MxType])[],
  ): MicroflowNode | undefined {
    const raw = node.raw;
    const errorHandling: ErrorHandling = {
      handling: raw.onError?.handling ?? 'rollback',
      next: raw.onError?.next,
    };
    const base = {
      name: node.name,
      caption: raw.caption ?? '',
      path: modelPath(node.loc),
      next: raw.next,
      errorHandling,
      loop: node.flow.loop,
      scope: env.types,
    };
    const loc = node.loc;
    const ctx = this.#ctx;
    const expr = (
      key: keyof RawNode,
      source: string | undefined,
      expected?: MxType,
      scope: Env = env,
    ): ModelExpression | undefined =>
      source === undefined ? undefined : compileExpr(ctx, at(loc, key), source, scope, expected);
    switch (raw.kind) {
      case 'end': {
        const returnType = this.#signature.returnType;
        if (returnType.kind === 'Void') {
          if (raw.value !== undefined) {
            this.#error(
              at(loc, 'value'),
              ModelErrorCode.TypeMismatch,
              'The microflow returns nothing, so its end has no value.',
              'Remove value, or give the microflow a returnType.',
              'key',
            );
          }
          return { ...base, kind: 'end', value: undefined };
        }
        if (raw.value === undefined) {
          this.#error(
            loc,
            ModelErrorCode.TypeMismatch,
            `The microflow returns ${formatType(returnType)}: this end needs a value.`,
            'Add value: <expression>.',
            'key',
          );
          return undefined;
        }
        const value = expr('value', raw.value, returnType);
        return value === undefined ? undefined : { ...base, kind: 'end', value };
      }
      case 'error':
        if (!env.types.has('latestError')) {
          this.#error(
            at(loc, 'kind'),
            ModelErrorCode.InvalidFlow,
            'An error event can only end an error flow: there is no error to raise again here.',
            'Reach it from a node with onError: { handling: customWithRollback, next: ... }.',
          );
        }
        return { ...base, kind: 'error' };
      case 'break':
      case 'continue':
        return { ...base, kind: raw.kind };
      case 'merge':
        return { ...base, kind: 'merge' };
      case 'decision':
        return this.#decision(node, base, env);
      case 'inheritanceSplit':
        return this.#inheritanceSplit(node, base, env);
      case 'loop': {
        const list = raw.over === undefined ? undefined : this.#listVariable(at(loc, 'over'), raw.over, env);
        const iteratorType: MxType | undefined =
          list === undefined ? undefined : { kind: 'Object', entity: list.entity };
        this.#setOutput(node, iteratorType);
        const body = this.#flows.find((f) => f.loop === node.name);
        const inner: (readonly [string, MxType])[] = [
          ...loopScope.filter(([n]) => n !== 'currentIndex'),
          ['currentIndex', INTEGER],
        ];
        if (body !== undefined) this.#compileFlow(body, inner);
        if (
          list === undefined ||
          iteratorType === undefined ||
          raw.iterator === undefined ||
          body === undefined
        )
          return undefined;
        return {
          ...base,
          kind: 'loop',
          list: list.name,
          iterator: raw.iterator,
          iteratorType,
          body: { start: body.raw.start, nodes: body.nodes },
        };
      }
      case 'while': {
        const inner: (readonly [string, MxType])[] = [
          ...loopScope.filter(([n]) => n !== 'currentIndex'),
          ['currentIndex', INTEGER],
        ];
        const condition = expr('condition', raw.condition, BOOLEAN, extend(env, [['currentIndex', INTEGER]]));
        const body = this.#flows.find((f) => f.loop === node.name);
        if (body !== undefined) this.#compileFlow(body, inner);
        if (condition === undefined || body === undefined) return undefined;
        return { ...base, kind: 'while', condition, body: { start: body.raw.start, nodes: body.nodes } };
      }
      case 'create': {
        const entity =
          raw.entity === undefined
            ? undefined
            : ctx.resolve('entities', raw.entity, this.#module, at(loc, 'entity'));
        this.#setOutput(node, entity === undefined ? undefined : { kind: 'Object', entity });
        if (entity === undefined) return undefined;
        const members = this.#members(node, entity, env);
        if (members === undefined || raw.output === undefined) return undefined;
        return {
          ...base,
          kind: 'create',
          entity,
          members,
          commit: raw.commit ?? 'no',
          refreshInClient: raw.refreshInClient ?? false,
          output: raw.output,
        };
      }
      case 'change': {
        const object =
          raw.object === undefined
            ? undefined
            : this.#objectVariable(at(loc, 'object'), raw.object, env, false);
        if (object === undefined) return undefined;
        const members = this.#members(node, object.entity, env);
        if (members === undefined) return undefined;
        return {
          ...base,
          kind: 'change',
          variable: object.name,
          entity: object.entity,
          members,
          commit: raw.commit ?? 'no',
          refreshInClient: raw.refreshInClient ?? false,
        };
      }
      case 'retrieve':
        return this.#retrieve(node, base, env);
      case 'commit':
      case 'delete':
      case 'rollback': {
        const object =
          raw.object === undefined
            ? undefined
            : this.#objectVariable(at(loc, 'object'), raw.object, env, true);
        if (object === undefined) return undefined;
        const refreshInClient = raw.refreshInClient ?? false;
        if (raw.kind === 'commit')
          return {
            ...base,
            kind: 'commit',
            variable: object.name,
            withEvents: raw.events ?? true,
            refreshInClient,
          };
        return { ...base, kind: raw.kind, variable: object.name, refreshInClient };
      }
      case 'cast':
        return this.#cast(node, base);
      case 'aggregate':
        return this.#aggregate(node, base, env);
      case 'listOperation':
        return this.#listOperation(node, base, env);
      case 'createList': {
        const entity =
          raw.entity === undefined
            ? undefined
            : ctx.resolve('entities', raw.entity, this.#module, at(loc, 'entity'));
        this.#setOutput(node, entity === undefined ? undefined : { kind: 'List', entity });
        if (entity === undefined || raw.output === undefined) return undefined;
        return { ...base, kind: 'createList', entity, output: raw.output };
      }
      case 'changeList': {
        const list = raw.list === undefined ? undefined : this.#listVariable(at(loc, 'list'), raw.list, env);
        if (list === undefined) return undefined;
        const operation = (raw.operation ?? 'add') as 'add' | 'remove' | 'clear' | 'replace';
        if (operation === 'clear') {
          this.#unused(node, ['value'], 'when clearing a list');
          return { ...base, kind: 'changeList', list: list.name, operation, value: undefined };
        }
        if (raw.value === undefined) {
          this.#error(
            loc,
            ModelErrorCode.InvalidArguments,
            `Changing a list with '${operation}' needs a value.`,
            'Add value: <object or list>.',
            'key',
          );
          return undefined;
        }
        const value = expr('value', raw.value);
        if (value === undefined) return undefined;
        if (!this.#fitsEntity(value.type, list.entity)) {
          this.#error(
            at(loc, 'value'),
            ModelErrorCode.TypeMismatch,
            `The value is ${formatType(value.type)}; an object or list of ${list.entity} is needed.`,
            '',
          );
          return undefined;
        }
        return { ...base, kind: 'changeList', list: list.name, operation, value };
      }
      case 'createVariable': {
        const type =
          raw.type === undefined ? undefined : ctx.parseType(raw.type, this.#module, at(loc, 'type'));
        if (
          type !== undefined &&
          (type.kind === 'Object' || type.kind === 'List' || type.kind === 'Binary')
        ) {
          this.#error(
            at(loc, 'type'),
            ModelErrorCode.TypeMismatch,
            `A variable holds a simple value, not ${formatType(type)}.`,
            'For objects use create, retrieve or createList.',
          );
          this.#setOutput(node, undefined);
          return undefined;
        }
        this.#setOutput(node, type);
        if (type === undefined || raw.output === undefined) return undefined;
        const value = raw.value === undefined ? undefined : expr('value', raw.value, type);
        if (raw.value !== undefined && value === undefined) return undefined;
        return { ...base, kind: 'createVariable', type, value, output: raw.output };
      }
      case 'changeVariable': {
        const variable =
          raw.variable === undefined ? undefined : this.#variable(at(loc, 'variable'), raw.variable, env);
        if (variable === undefined) return undefined;
        if (variable.type.kind === 'Object' || variable.type.kind === 'List') {
          this.#error(
            at(loc, 'variable'),
            ModelErrorCode.TypeMismatch,
            `$${variable.name} is ${formatType(variable.type)}; change variable works on simple values.`,
            'Use change to set members of an object, changeList for lists.',
          );
          return undefined;
        }
        const value = expr('value', raw.value, variable.type);
        return value === undefined
          ? undefined
          : { ...base, kind: 'changeVariable', variable: variable.name, value };
      }
      case 'callMicroflow':
        return this.#callMicroflow(node, base, env);
      case 'callAction': {
        const action =
          raw.action === undefined
            ? undefined
            : ctx.resolve('customActions', raw.action, this.#module, at(loc, 'action'));
        const signature = action === undefined ? undefined : ctx.actionSignatures.get(action);
        const args =
          signature === undefined
            ? undefined
            : this.#arguments(node, signature.parameters, env, 'custom action');
        const output = this.#callOutput(node, signature?.returnType, action ?? '');
        if (action === undefined || args === undefined || !output) return undefined;
        return { ...base, kind: 'callAction', action, arguments: args, output: raw.output };
      }
      case 'callRest':
        return this.#callRest(node, base, env);
      case 'logMessage': {
        const template = compileTemplate(ctx, loc, raw.template ?? '', this.#templateParams(raw), env);
        if (template === undefined) return undefined;
        return {
          ...base,
          kind: 'logMessage',
          level: raw.level ?? 'info',
          logNode: raw.logNode ?? this.#module,
          template,
          includeLatestStackTrace: raw.includeLatestStackTrace ?? false,
        };
      }
      case 'validationFeedback': {
        const object =
          raw.object === undefined
            ? undefined
            : this.#objectVariable(at(loc, 'object'), raw.object, env, false);
        const template = compileTemplate(ctx, loc, raw.template ?? '', this.#templateParams(raw), env);
        if (object === undefined || template === undefined || raw.member === undefined) return undefined;
        const member = this.#member(at(loc, 'member'), object.entity, raw.member);
        if (member === undefined) return undefined;
        return { ...base, kind: 'validationFeedback', variable: object.name, member: member.name, template };
      }
      case 'showMessage': {
        const template = compileTemplate(ctx, loc, raw.template ?? '', this.#templateParams(raw), env);
        if (template === undefined) return undefined;
        const type = (raw.type ?? 'information') as 'information' | 'warning' | 'error';
        return { ...base, kind: 'showMessage', type, template, blocking: raw.blocking ?? true };
      }
      case 'openPage': {
        const page =
          raw.page === undefined ? undefined : ctx.resolve('pages', raw.page, this.#module, at(loc, 'page'));
        const parameters = page === undefined ? undefined : ctx.pageParameters.get(page);
        const args = parameters === undefined ? undefined : this.#arguments(node, parameters, env, 'page');
        if (page === undefined || args === undefined) return undefined;
        return { ...base, kind: 'openPage', page, arguments: args, title: raw.title };
      }
      case 'closePage':
        return { ...base, kind: 'closePage', count: raw.count ?? 1 };
    }
  }

  #templateParams(raw: RawNode): readonly string[] | undefined {
    return Array.isArray(raw.parameters) ? (raw.parameters as readonly string[]) : undefined;
  }

  #fitsEntity(type: MxType, entity: string): boolean {
    return (
      (type.kind === 'Object' || type.kind === 'List') &&
      isAssignable({ kind: 'Object', entity: type.entity }, { kind: 'Object', entity }, this.#ctx.domain)
    );
  }

  /** An attribute or association of an entity, by name as written in the model. */
  #member(
    loc: Loc,
    entity: string,
    key: string,
  ):
    | {
        name: string;
        kind: 'attribute' | 'association';
        type: MxType;
        readOnly: string | undefined;
        reference: 'Reference' | 'ReferenceSet' | undefined;
      }
    | undefined {
    const ctx = this.#ctx;
    const info = ctx.entities.get(entity);
    if (info === undefined) return undefined;
    const attribute = info.allAttributes.get(key);
    if (attribute !== undefined) {
      const readOnly =
        attribute.kind === 'AutoNumber'
          ? 'AutoNumber attributes are set by the database'
          : attribute.calculatedBy !== undefined
            ? 'calculated attributes are computed, not stored'
            : attribute.system
              ? 'system members are set by the server'
              : undefined;
      return {
        name: attribute.name,
        kind: 'attribute',
        type: attribute.type,
        readOnly,
        reference: undefined,
      };
    }
    const qualified = ctx.qualify(key, this.#module);
    const association = ctx.associations.get(qualified);
    if (association !== undefined) {
      if (!ownsAssociation(info, association)) {
        this.#error(
          loc,
          ModelErrorCode.UnknownMember,
          `${entity} does not own association ${qualified}; set it from ${association.owner}.`,
          '',
          'key',
        );
        return undefined;
      }
      const lineage = [info.name, ...info.generalizations];
      const other = lineage.includes(association.owner) ? association.target : association.owner;
      const type: MxType =
        association.type === 'Reference'
          ? { kind: 'Object', entity: other }
          : { kind: 'List', entity: other };
      return { name: qualified, kind: 'association', type, readOnly: undefined, reference: association.type };
    }
    const names = [
      ...info.allAttributes.keys(),
      ...[...ctx.associations.values()].filter((a) => ownsAssociation(info, a)).map((a) => a.name),
    ];
    this.#error(
      loc,
      key.includes('.') ? ModelErrorCode.UnknownAssociation : ModelErrorCode.UnknownAttribute,
      `Entity ${entity} has no member '${key}'.`,
      didYouMean(key, names) || `Its members: ${names.join(', ') || 'none'}.`,
      'key',
    );
    return undefined;
  }

  #members(node: NodeInfo, entity: string, env: Env): MemberChange[] | undefined {
    const changes: MemberChange[] = [];
    let ok = true;
    for (const [key, value] of entries<RawMemberValue>(node.raw.members)) {
      const loc = at(node.loc, 'members', key);
      const member = this.#member(loc, entity, key);
      if (member === undefined) {
        ok = false;
        continue;
      }
      if (member.readOnly !== undefined) {
        this.#error(
          loc,
          ModelErrorCode.InvalidArguments,
          `'${member.name}' cannot be set: ${member.readOnly}.`,
          '',
          'key',
        );
        ok = false;
        continue;
      }
      const [operation, source, valueLoc] =
        typeof value === 'string'
          ? (['set', value, loc] as const)
          : 'add' in value
            ? (['add', value.add, at(loc, 'add')] as const)
            : 'remove' in value
              ? (['remove', value.remove, at(loc, 'remove')] as const)
              : (['set', value.set, at(loc, 'set')] as const);
      if (operation !== 'set' && member.reference !== 'ReferenceSet') {
        this.#error(
          valueLoc,
          ModelErrorCode.InvalidArguments,
          `'${operation}' works on reference sets; '${member.name}' is ${member.kind === 'attribute' ? 'an attribute' : 'a reference'}.`,
          'Assign the value directly.',
          'key',
        );
        ok = false;
        continue;
      }
      let expression: ModelExpression | undefined;
      if (operation === 'set') {
        expression = compileExpr(this.#ctx, valueLoc, source, env, member.type);
      } else {
        expression = compileExpr(this.#ctx, valueLoc, source, env);
        if (
          expression !== undefined &&
          member.type.kind === 'List' &&
          !this.#fitsEntity(expression.type, member.type.entity)
        ) {
          this.#error(
            valueLoc,
            ModelErrorCode.TypeMismatch,
            `The value is ${formatType(expression.type)}; an object or list of ${member.type.entity} is needed.`,
            '',
          );
          expression = undefined;
        }
      }
      if (expression === undefined) {
        ok = false;
        continue;
      }
      changes.push({ member: member.name, memberKind: member.kind, operation, value: expression });
    }
    return ok ? changes : undefined;
  }

  #sortItems(node: NodeInfo, entity: string): SortItem[] | undefined {
    const info = this.#ctx.entities.get(entity);
    if (info === undefined) return undefined;
    const items: SortItem[] = [];
    let ok = true;
    for (const [name, order] of entries(node.raw.sort)) {
      const loc = at(node.loc, 'sort', name);
      const attribute = info.allAttributes.get(name);
      if (attribute === undefined) {
        this.#error(
          loc,
          ModelErrorCode.UnknownAttribute,
          `Entity ${entity} has no attribute '${name}'.`,
          didYouMean(name, info.allAttributes.keys()),
          'key',
        );
        ok = false;
        continue;
      }
      if (
        attribute.kind === 'Binary' ||
        attribute.kind === 'HashedString' ||
        attribute.calculatedBy !== undefined
      ) {
        this.#error(
          loc,
          ModelErrorCode.InvalidArguments,
          `Cannot sort on '${name}': ${attribute.calculatedBy !== undefined ? 'calculated attributes are not stored' : `${attribute.kind} attributes are not sortable`}.`,
          '',
          'key',
        );
        ok = false;
        continue;
      }
      items.push({ attribute: name, descending: order === 'desc' });
    }
    return ok ? items : undefined;
  }

  #decision(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const expression =
      raw.expression === undefined
        ? undefined
        : compileExpr(this.#ctx, at(node.loc, 'expression'), raw.expression, env);
    const cases = new Map(entries(raw.cases));
    if (expression === undefined) return undefined;
    const type = expression.type;
    let allowed: string[] | undefined;
    if (type.kind === 'Boolean') allowed = ['true', 'false'];
    else if (type.kind === 'Enumeration') {
      allowed = [...(this.#ctx.enumerations.get(type.enumeration)?.values.map((v) => v.key) ?? []), 'empty'];
    } else if (type.kind !== 'Empty') {
      this.#error(
        at(node.loc, 'expression'),
        ModelErrorCode.TypeMismatch,
        `A decision needs a Boolean or an enumeration; this expression is ${formatType(type)}.`,
        'Compare it, e.g. $Count > 0.',
      );
      return undefined;
    }
    if (allowed !== undefined) {
      let ok = true;
      for (const key of cases.keys()) {
        if (!allowed.includes(key)) {
          ok = false;
          this.#error(
            at(node.loc, 'cases', key),
            type.kind === 'Boolean' ? ModelErrorCode.InvalidFlow : ModelErrorCode.UnknownEnumerationValue,
            `'${key}' is not a case of ${formatType(type)}.`,
            didYouMean(key, allowed) || `Cases: ${allowed.join(', ')}.`,
            'key',
          );
        }
      }
      const missing = allowed.filter((key) => !cases.has(key));
      if (missing.length > 0 && raw.default === undefined) {
        ok = false;
        this.#error(
          at(node.loc, 'cases'),
          ModelErrorCode.MissingCase,
          `The decision has no flow for ${missing.map((m) => `'${m}'`).join(', ')}.`,
          'Add the missing cases, or a default.',
          'key',
        );
      }
      if (!ok) return undefined;
    }
    return { ...base, next: undefined, kind: 'decision', expression, cases, default: raw.default };
  }

  #inheritanceSplit(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const ctx = this.#ctx;
    const object =
      raw.object === undefined
        ? undefined
        : this.#objectVariable(at(node.loc, 'object'), raw.object, env, false);
    if (object === undefined) return undefined;
    const cases = new Map<string, string>();
    let ok = true;
    for (const [key, target] of entries(raw.cases)) {
      const entity = ctx.resolve('entities', key, this.#module, at(node.loc, 'cases', key));
      if (entity === undefined) {
        ok = false;
        continue;
      }
      const info = ctx.entities.get(entity);
      if (
        info === undefined ||
        !(info.name === object.entity || info.generalizations.includes(object.entity))
      ) {
        ok = false;
        this.#error(
          at(node.loc, 'cases', key),
          ModelErrorCode.TypeMismatch,
          `${entity} is not a specialisation of ${object.entity}, the type of $${object.name}.`,
          '',
          'key',
        );
        continue;
      }
      cases.set(entity, target);
    }
    if (!ok) return undefined;
    if (raw.default === undefined) {
      const uncovered = [...ctx.entities.values()]
        .filter((e) => e.name === object.entity || e.generalizations.includes(object.entity))
        .filter((e) => ![e.name, ...e.generalizations].some((n) => cases.has(n)))
        .map((e) => e.name);
      const missing = [...uncovered, ...(raw.empty === undefined ? ['empty'] : [])];
      if (missing.length > 0) {
        this.#error(
          at(node.loc, 'cases'),
          ModelErrorCode.MissingCase,
          `The split has no flow for ${missing.join(', ')}.`,
          'Add cases (and empty), or a default.',
          'key',
        );
        return undefined;
      }
    }
    return {
      ...base,
      next: undefined,
      kind: 'inheritanceSplit',
      variable: object.name,
      cases,
      empty: raw.empty,
      default: raw.default,
    };
  }

  #cast(node: NodeInfo, base: BaseFields): MicroflowNode | undefined {
    const incoming = this.#incoming.get(node.name) ?? [];
    const sources = incoming.map((edge) => {
      const from = this.#nodes.get(edge.from);
      if (from?.raw.kind !== 'inheritanceSplit' || edge.label.kind !== 'case') return undefined;
      const entity = this.#ctx.qualify(edge.label.key, this.#module);
      return { variable: variableName(from.raw.object ?? ''), entity };
    });
    const first = sources[0];
    if (
      first === undefined ||
      sources.some((s) => s === undefined || s.entity !== first.entity || s.variable !== first.variable)
    ) {
      this.#error(
        at(node.loc, 'kind'),
        ModelErrorCode.InvalidFlow,
        'A cast must directly follow a case of an inheritance split (and only such cases, all for one entity).',
        'Point a case of an inheritanceSplit at it.',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    if (node.raw.entity !== undefined) {
      const given = this.#ctx.resolve('entities', node.raw.entity, this.#module, at(node.loc, 'entity'));
      if (given !== undefined && given !== first.entity) {
        this.#error(
          at(node.loc, 'entity'),
          ModelErrorCode.TypeMismatch,
          `The case leading here is ${first.entity}, not ${given}.`,
          `Use entity: ${first.entity}, or leave it out.`,
        );
        this.#setOutput(node, undefined);
        return undefined;
      }
    }
    this.#setOutput(node, { kind: 'Object', entity: first.entity });
    if (node.raw.output === undefined) return undefined;
    return { ...base, kind: 'cast', variable: first.variable, entity: first.entity, output: node.raw.output };
  }

  #retrieve(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const ctx = this.#ctx;
    const loc = node.loc;
    if ((raw.entity === undefined) === (raw.association === undefined)) {
      this.#error(
        loc,
        ModelErrorCode.InvalidArguments,
        'A retrieve needs either entity (from the database) or association (over an association).',
        'Give exactly one of them.',
        'key',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    if (raw.association !== undefined) {
      this.#unused(node, ['xpath', 'sort', 'range'], 'when retrieving over an association');
      if (raw.object === undefined) {
        this.#error(
          loc,
          ModelErrorCode.InvalidArguments,
          'Retrieving over an association needs the object to start from.',
          'Add object: $Variable.',
          'key',
        );
        this.#setOutput(node, undefined);
        return undefined;
      }
      const association = ctx.resolve('associations', raw.association, this.#module, at(loc, 'association'));
      const object = this.#objectVariable(at(loc, 'object'), raw.object, env, false);
      const info = association === undefined ? undefined : ctx.associations.get(association);
      const from = object === undefined ? undefined : ctx.entities.get(object.entity);
      if (info === undefined || object === undefined || from === undefined) {
        this.#setOutput(node, undefined);
        return undefined;
      }
      const lineage = [from.name, ...from.generalizations];
      let outputType: MxType;
      let entity: string;
      if (lineage.includes(info.owner)) {
        entity = info.target;
        outputType = info.type === 'Reference' ? { kind: 'Object', entity } : { kind: 'List', entity };
      } else if (lineage.includes(info.target)) {
        entity = info.owner;
        outputType =
          info.type === 'Reference' && info.ownership === 'both'
            ? { kind: 'Object', entity }
            : { kind: 'List', entity };
      } else {
        this.#error(
          at(loc, 'association'),
          ModelErrorCode.TypeMismatch,
          `$${object.name} is ${object.entity}, which is not on either end of ${association ?? ''} (${info.owner} → ${info.target}).`,
          '',
        );
        this.#setOutput(node, undefined);
        return undefined;
      }
      this.#setOutput(node, outputType);
      if (raw.output === undefined) return undefined;
      return {
        ...base,
        kind: 'retrieve',
        source: 'association',
        association: info.name,
        variable: object.name,
        entity,
        output: raw.output,
        outputType,
      };
    }
    this.#unused(node, ['object'], 'when retrieving from the database');
    const entity = ctx.resolve('entities', raw.entity ?? '', this.#module, at(loc, 'entity'));
    const info = entity === undefined ? undefined : ctx.entities.get(entity);
    if (entity === undefined || info === undefined) {
      this.#setOutput(node, undefined);
      return undefined;
    }
    if (!info.persistable) {
      this.#error(
        at(loc, 'entity'),
        ModelErrorCode.InvalidArguments,
        `${entity} is not persistable: it cannot be retrieved from the database.`,
        'Retrieve non-persistable objects over an association.',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    const range = raw.range ?? 'all';
    const outputType: MxType = range === 'first' ? { kind: 'Object', entity } : { kind: 'List', entity };
    this.#setOutput(node, outputType);
    const xpath =
      raw.xpath === undefined ? undefined : compileXPathAt(ctx, at(loc, 'xpath'), raw.xpath, entity, env);
    const sort = this.#sortItems(node, entity);
    let compiledRange: Extract<MicroflowNode, { kind: 'retrieve'; source: 'database' }>['range'];
    let rangeOk = true;
    if (range === 'all' || range === 'first') {
      compiledRange = { kind: range };
    } else {
      const offset =
        range.offset === undefined
          ? undefined
          : compileExpr(ctx, at(loc, 'range', 'offset'), range.offset, env, { kind: 'Long' });
      const amount =
        range.amount === undefined
          ? undefined
          : compileExpr(ctx, at(loc, 'range', 'amount'), range.amount, env, { kind: 'Long' });
      rangeOk =
        (range.offset === undefined || offset !== undefined) &&
        (range.amount === undefined || amount !== undefined);
      compiledRange = { kind: 'custom', offset, amount };
    }
    if (
      (raw.xpath !== undefined && xpath === undefined) ||
      sort === undefined ||
      !rangeOk ||
      raw.output === undefined
    )
      return undefined;
    return {
      ...base,
      kind: 'retrieve',
      source: 'database',
      entity,
      xpath,
      sort,
      range: compiledRange,
      output: raw.output,
      outputType,
    };
  }

  #aggregate(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const list = raw.list === undefined ? undefined : this.#listVariable(at(node.loc, 'list'), raw.list, env);
    const fn = raw.function ?? 'count';
    if (list === undefined) {
      this.#setOutput(node, undefined);
      return undefined;
    }
    if (fn === 'count') {
      this.#unused(node, ['attribute'], 'by count');
      this.#setOutput(node, INTEGER);
      if (raw.output === undefined) return undefined;
      return {
        ...base,
        kind: 'aggregate',
        list: list.name,
        function: fn,
        attribute: undefined,
        output: raw.output,
        outputType: INTEGER,
      };
    }
    if (raw.attribute === undefined) {
      this.#error(
        node.loc,
        ModelErrorCode.InvalidArguments,
        `Aggregate ${fn} needs the attribute to aggregate.`,
        'Add attribute: <name>.',
        'key',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    const attribute = this.#ctx.entities.get(list.entity)?.allAttributes.get(raw.attribute);
    if (attribute === undefined) {
      this.#error(
        at(node.loc, 'attribute'),
        ModelErrorCode.UnknownAttribute,
        `Entity ${list.entity} has no attribute '${raw.attribute}'.`,
        didYouMean(raw.attribute, this.#ctx.entities.get(list.entity)?.allAttributes.keys() ?? []),
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    const numeric =
      attribute.type.kind === 'Integer' ||
      attribute.type.kind === 'Long' ||
      attribute.type.kind === 'Decimal';
    const dateOk = (fn === 'minimum' || fn === 'maximum') && attribute.type.kind === 'DateTime';
    if (!numeric && !dateOk) {
      this.#error(
        at(node.loc, 'attribute'),
        ModelErrorCode.TypeMismatch,
        `Cannot take the ${fn} of ${attribute.kind} attribute '${attribute.name}'.`,
        'Aggregate a numeric attribute.',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    const outputType: MxType =
      fn === 'average'
        ? { kind: 'Decimal' }
        : fn === 'sum'
          ? attribute.type.kind === 'Decimal'
            ? { kind: 'Decimal' }
            : { kind: 'Long' }
          : attribute.type;
    this.#setOutput(node, outputType);
    if (raw.output === undefined) return undefined;
    return {
      ...base,
      kind: 'aggregate',
      list: list.name,
      function: fn,
      attribute: attribute.name,
      output: raw.output,
      outputType,
    };
  }

  #listOperation(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const ctx = this.#ctx;
    const loc = node.loc;
    const operation = raw.operation as Extract<MicroflowNode, { kind: 'listOperation' }>['operation'];
    const list = raw.list === undefined ? undefined : this.#listVariable(at(loc, 'list'), raw.list, env);
    if (list === undefined) {
      this.#setOutput(node, undefined);
      return undefined;
    }
    const listType: MxType = { kind: 'List', entity: list.entity };
    const objectType: MxType = { kind: 'Object', entity: list.entity };
    const fields: Record<string, (keyof RawNode)[]> = {
      union: ['other'],
      intersect: ['other'],
      subtract: ['other'],
      contains: ['other'],
      equals: ['other'],
      sort: ['sort'],
      filter: ['attribute', 'value'],
      find: ['attribute', 'value'],
      filterByExpression: ['expression'],
      findByExpression: ['expression'],
      head: [],
      tail: [],
      range: ['offset', 'amount'],
    };
    const used = fields[operation] ?? [];
    const all: (keyof RawNode)[] = ['other', 'sort', 'attribute', 'value', 'expression', 'offset', 'amount'];
    this.#unused(
      node,
      all.filter((f) => !used.includes(f)),
      `by list operation ${operation}`,
    );
    for (const field of used) {
      if (raw[field] === undefined && field !== 'offset' && field !== 'sort') {
        this.#error(
          loc,
          ModelErrorCode.InvalidArguments,
          `List operation ${operation} needs '${field}'.`,
          '',
          'key',
        );
        this.#setOutput(node, undefined);
        return undefined;
      }
    }
    let outputType: MxType = listType;
    let other: string | undefined;
    let member: string | undefined;
    let value: ModelExpression | undefined;
    let sort: SortItem[] = [];
    let offset: ModelExpression | undefined;
    let amount: ModelExpression | undefined;
    let ok = true;
    switch (operation) {
      case 'union':
      case 'intersect':
      case 'subtract':
      case 'contains':
      case 'equals': {
        const found = this.#objectVariable(at(loc, 'other'), raw.other ?? '', env, true);
        if (found === undefined) {
          ok = false;
          break;
        }
        const related = this.#fitsEntity(found.type, list.entity) || this.#fitsEntity(listType, found.entity);
        const shapeOk =
          operation === 'contains'
            ? found.type.kind === 'Object'
            : operation === 'equals'
              ? found.type.kind === 'List'
              : true;
        if (!related || !shapeOk) {
          this.#error(
            at(loc, 'other'),
            ModelErrorCode.TypeMismatch,
            `$${found.name} is ${formatType(found.type)}, which does not fit list operation ${operation} on a list of ${list.entity}.`,
            '',
          );
          ok = false;
          break;
        }
        other = found.name;
        outputType = operation === 'contains' || operation === 'equals' ? BOOLEAN : listType;
        break;
      }
      case 'sort': {
        const items = this.#sortItems(node, list.entity);
        if (items === undefined) ok = false;
        else sort = items;
        break;
      }
      case 'filter':
      case 'find': {
        const found = this.#member(at(loc, 'attribute'), list.entity, raw.attribute ?? '');
        if (found === undefined) {
          ok = false;
          break;
        }
        member = found.name;
        value = compileExpr(ctx, at(loc, 'value'), raw.value ?? '', env, found.type);
        if (value === undefined) ok = false;
        outputType = operation === 'find' ? objectType : listType;
        break;
      }
      case 'filterByExpression':
      case 'findByExpression':
        value = compileExpr(
          ctx,
          at(loc, 'expression'),
          raw.expression ?? '',
          extend(env, [['currentObject', objectType]]),
          BOOLEAN,
        );
        if (value === undefined) ok = false;
        outputType = operation === 'findByExpression' ? objectType : listType;
        break;
      case 'head':
        outputType = objectType;
        break;
      case 'tail':
        break;
      case 'range':
        offset =
          raw.offset === undefined
            ? undefined
            : compileExpr(ctx, at(loc, 'offset'), raw.offset, env, { kind: 'Long' });
        amount = compileExpr(ctx, at(loc, 'amount'), raw.amount ?? '', env, { kind: 'Long' });
        if ((raw.offset !== undefined && offset === undefined) || amount === undefined) ok = false;
        break;
    }
    this.#setOutput(node, ok ? outputType : undefined);
    if (!ok || raw.output === undefined) return undefined;
    return {
      ...base,
      kind: 'listOperation',
      operation,
      list: list.name,
      other,
      member,
      value,
      sort,
      offset,
      amount,
      output: raw.output,
      outputType,
    };
  }

  /** Arguments by parameter name, for every parameter of the callee. */
  #arguments(
    node: NodeInfo,
    parameters: readonly { name: string; type: MxType }[],
    env: Env,
    calleeWord: string,
  ): Map<string, ModelExpression> | undefined {
    const given = node.raw.parameters;
    const record: Readonly<Record<string, string>> =
      given === undefined || Array.isArray(given) ? {} : (given as Readonly<Record<string, string>>);
    const args = new Map<string, ModelExpression>();
    let ok = true;
    for (const key of Object.keys(record)) {
      if (!parameters.some((p) => p.name === key)) {
        ok = false;
        this.#error(
          at(node.loc, 'parameters', key),
          ModelErrorCode.UnknownParameter,
          `The ${calleeWord} has no parameter '${key}'.`,
          didYouMean(
            key,
            parameters.map((p) => p.name),
          ) || `Its parameters: ${parameters.map((p) => p.name).join(', ') || 'none'}.`,
          'key',
        );
      }
    }
    const missing = parameters.filter((p) => record[p.name] === undefined).map((p) => p.name);
    if (missing.length > 0) {
      ok = false;
      this.#error(
        at(node.loc, 'parameters'),
        ModelErrorCode.InvalidArguments,
        `Missing argument${missing.length > 1 ? 's' : ''} for ${missing.join(', ')}.`,
        `Pass every parameter of the ${calleeWord} under parameters.`,
        'key',
      );
    }
    for (const parameter of parameters) {
      const source = record[parameter.name];
      if (source === undefined) continue;
      const expression = compileExpr(
        this.#ctx,
        at(node.loc, 'parameters', parameter.name),
        source,
        env,
        parameter.type,
      );
      if (expression === undefined) ok = false;
      else args.set(parameter.name, expression);
    }
    return ok ? args : undefined;
  }

  /** Checks and types the output of a call; false when it is wrong. */
  #callOutput(node: NodeInfo, returnType: MxType | undefined, callee: string): boolean {
    const output = node.raw.output;
    if (output === undefined) return true;
    if (returnType === undefined) {
      this.#setOutput(node, undefined);
      return true;
    }
    if (returnType.kind === 'Void') {
      this.#error(
        at(node.loc, 'output'),
        ModelErrorCode.TypeMismatch,
        `${callee} returns nothing; there is no output to store.`,
        'Remove output.',
        'key',
      );
      this.#setOutput(node, undefined);
      return false;
    }
    this.#setOutput(node, returnType);
    return true;
  }

  #callMicroflow(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const ctx = this.#ctx;
    const microflow =
      raw.microflow === undefined
        ? undefined
        : ctx.resolve('microflows', raw.microflow, this.#module, at(node.loc, 'microflow'));
    const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
    if (microflow === undefined || signature === undefined || ctx.broken.has(microflow)) {
      this.#setOutput(node, undefined);
      return undefined;
    }
    let taskQueue: string | undefined;
    if (raw.taskQueue !== undefined) {
      taskQueue = ctx.resolve('taskQueues', raw.taskQueue, this.#module, at(node.loc, 'taskQueue'));
      if (raw.output !== undefined) {
        this.#error(
          at(node.loc, 'output'),
          ModelErrorCode.InvalidArguments,
          'A call on a task queue runs later, in the background: it has no output.',
          'Remove output.',
          'key',
        );
        this.#setOutput(node, undefined);
        return undefined;
      }
      signature.parameters.forEach((p) => {
        const entity = p.type.kind === 'Object' ? ctx.entities.get(p.type.entity) : undefined;
        if (p.type.kind === 'List' || (entity !== undefined && !entity.persistable)) {
          this.#error(
            at(node.loc, 'taskQueue'),
            ModelErrorCode.InvalidArguments,
            `${microflow} cannot run on a task queue: parameter '${p.name}' is ${formatType(p.type)}.`,
            'Task-queue microflows take simple values and persistable objects only.',
          );
          taskQueue = undefined;
        }
      });
      if (taskQueue === undefined) return undefined;
    }
    const args = this.#arguments(node, signature.parameters, env, 'microflow');
    const outputOk = this.#callOutput(node, signature.returnType, microflow);
    if (args === undefined || !outputOk) return undefined;
    return { ...base, kind: 'callMicroflow', microflow, arguments: args, output: raw.output, taskQueue };
  }

  #callRest(node: NodeInfo, base: BaseFields, env: Env): MicroflowNode | undefined {
    const raw = node.raw;
    const ctx = this.#ctx;
    const loc = node.loc;
    const url = compileTemplate(ctx, loc, raw.url ?? '', raw.urlParameters, env, 'url', 'urlParameters');
    const headers = new Map<string, ModelExpression>();
    let ok = url !== undefined;
    for (const [name, source] of entries(raw.headers)) {
      const header = compileExpr(ctx, at(loc, 'headers', name), source, env, STRING);
      if (header === undefined) ok = false;
      else headers.set(name, header);
    }
    const body =
      typeof raw.body !== 'string' ? undefined : compileExpr(ctx, at(loc, 'body'), raw.body, env, STRING);
    if (raw.body !== undefined && body === undefined) ok = false;
    if (body !== undefined && (raw.method === 'GET' || raw.method === 'HEAD')) {
      this.#error(
        at(loc, 'body'),
        ModelErrorCode.InvalidArguments,
        `A ${raw.method} request has no body.`,
        'Remove body, or use POST, PUT or PATCH.',
        'key',
      );
      ok = false;
    }
    let auth: { username: ModelExpression; password: ModelExpression } | undefined;
    if (raw.auth !== undefined) {
      const username = compileExpr(ctx, at(loc, 'auth', 'username'), raw.auth.username, env, STRING);
      const password = compileExpr(ctx, at(loc, 'auth', 'password'), raw.auth.password, env, STRING);
      if (username === undefined || password === undefined) ok = false;
      else auth = { username, password };
    }
    const as = raw.response?.as ?? 'string';
    let response: Extract<MicroflowNode, { kind: 'callRest' }>['response'] = { as: 'none' };
    let outputType: MxType = { kind: 'Void' };
    if (as === 'object' || as === 'list') {
      const entityRef = raw.response?.entity;
      const entity =
        entityRef === undefined
          ? undefined
          : ctx.resolve('entities', entityRef, this.#module, at(loc, 'response', 'entity'));
      if (entityRef === undefined) {
        this.#error(
          at(loc, 'response'),
          ModelErrorCode.InvalidArguments,
          `Mapping the response to ${as === 'object' ? 'an object' : 'a list'} needs the entity.`,
          'Add entity: Module.Entity under response.',
          'key',
        );
      }
      const info = entity === undefined ? undefined : ctx.entities.get(entity);
      if (info === undefined) {
        ok = false;
      } else {
        const members = new Map<string, string>();
        const given = raw.response?.members;
        for (const [attribute, field] of entries(given)) {
          if (!info.allAttributes.has(attribute)) {
            this.#error(
              at(loc, 'response', 'members', attribute),
              ModelErrorCode.UnknownAttribute,
              `Entity ${info.name} has no attribute '${attribute}'.`,
              didYouMean(attribute, info.allAttributes.keys()),
              'key',
            );
            ok = false;
          } else {
            members.set(attribute, field);
          }
        }
        if (given === undefined) {
          for (const attribute of info.allAttributes.values()) {
            if (!attribute.system && attribute.kind !== 'AutoNumber' && attribute.calculatedBy === undefined)
              members.set(attribute.name, attribute.name);
          }
        }
        response = { as, entity: info.name, members };
        outputType =
          as === 'object' ? { kind: 'Object', entity: info.name } : { kind: 'List', entity: info.name };
      }
    } else {
      if (raw.response?.entity !== undefined || raw.response?.members !== undefined) {
        this.#error(
          at(loc, 'response'),
          ModelErrorCode.InvalidArguments,
          `entity and members are used only when mapping the response to objects (as: object or list).`,
          '',
          'key',
        );
        ok = false;
      }
      response = { as };
      outputType = as === 'string' ? STRING : as === 'httpResponse' ? LATEST_HTTP_RESPONSE : { kind: 'Void' };
    }
    if (raw.output !== undefined && outputType.kind === 'Void') {
      this.#error(
        at(loc, 'output'),
        ModelErrorCode.InvalidArguments,
        'The response is ignored (as: none); there is no output.',
        'Remove output, or map the response.',
        'key',
      );
      this.#setOutput(node, undefined);
      return undefined;
    }
    this.#setOutput(node, ok ? outputType : undefined);
    if (!ok || url === undefined) return undefined;
    return {
      ...base,
      kind: 'callRest',
      method: raw.method ?? 'GET',
      url,
      headers,
      body,
      timeoutMs: raw.timeoutMs ?? 300_000,
      auth,
      response,
      output: raw.output,
      outputType,
    };
  }
}

type BaseFields = {
  readonly name: string;
  readonly caption: string;
  readonly path: string;
  readonly next: string | undefined;
  readonly errorHandling: ErrorHandling;
  readonly loop: string | undefined;
  readonly scope: ReadonlyMap<string, MxType>;
};

/** The names of the nodes of a flow, for tests and tooling. */
export function flowNodes(flow: Flow): readonly string[] {
  return flow.nodes;
}
