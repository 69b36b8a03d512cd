/**
 * The XPath type checker: resolves every path, attribute, association, variable and token of
 * a constraint against the domain model and builds the {@link XPathQuery} tree.
 */
import { AssociationDirection } from '../context.js';
import { Decimal } from '../decimal.js';
import { LanguageErrorCode, LineMap, type LanguageError } from '../diagnostics.js';
import {
  entityIsA,
  formatType,
  isIntegral,
  isNumeric,
  MxTypes,
  objectType,
  withArticle,
} from '../mx-types.js';
import { parseIsoDateTime } from '../runtime/date-format.js';
import { DATE_TOKEN_NAMES, isPeriodToken, parseDateToken } from '../runtime/tokens.js';
import type { AttributeInfo, DomainSchema, EntityInfo, MxType, SourceSpan } from '../types.js';
import { closest } from '../expression/compiler.js';
import { Diagnostics } from '../expression/support.js';
import type {
  XPathComparisonNode,
  XPathComparisonOperator,
  XPathFunctionNode,
  XPathNode,
  XPathPathNode,
  XPathStringNode,
  XPathVariableNode,
} from './ast.js';
import { parseXPath } from './parser.js';
import type {
  XPathAssociationStep,
  XPathAttributeOperand,
  XPathCondition,
  XPathOperand,
  XPathParameter,
  XPathQuery,
  XPathValueFunction,
  XPathVariableStep,
} from './query.js';

/** What an XPath constraint is checked against. */
export interface XPathEnvironment {
  readonly schema: DomainSchema;
  /** The retrieved entity, e.g. `Sales.Order`. */
  readonly entity: string;
  /** Microflow variables in scope, by name without `$`. */
  readonly variables: ReadonlyMap<string, MxType>;
}

/** The result of {@link compileXPath}. */
export type CompileXPathResult =
  | { readonly ok: true; readonly query: XPathQuery }
  | { readonly ok: false; readonly errors: readonly LanguageError[] };

const VALUE_FUNCTIONS: ReadonlySet<string> = new Set<XPathValueFunction>([
  'string-length',
  'year-from-dateTime',
  'month-from-dateTime',
  'day-from-dateTime',
  'hours-from-dateTime',
  'minutes-from-dateTime',
  'seconds-from-dateTime',
  'quarter-from-dateTime',
  'day-of-year-from-dateTime',
  'week-from-dateTime',
  'weekday-from-dateTime',
]);
const CONDITION_FUNCTIONS = ['not', 'true', 'false', 'contains', 'starts-with', 'ends-with'];
const USER_ENTITY = 'System.User';
const USER_ROLE_ENTITY = 'System.UserRole';

/**
 * Parses and checks an XPath constraint for `env.entity` and builds its query tree. Reports
 * every error it can find, each with its span in `source`; never throws.
 */
export function compileXPath(source: string, env: XPathEnvironment): CompileXPathResult {
  const parsed = parseXPath(source);
  const lines = new LineMap(source);
  const compiler = new XPathCompiler(env, lines);
  let query: XPathQuery | undefined;
  try {
    query = compiler.compile(source, parsed.ast.constraints, parsed.ast.entity);
  } catch (error) {
    const span = lines.span(0, source.length);
    compiler.diagnostics.errors.push({
      code: LanguageErrorCode.XPathSyntax,
      message: `The constraint could not be checked: ${error instanceof Error ? error.message : String(error)}`,
      span,
    });
  }
  const errors = [...parsed.errors, ...compiler.diagnostics.errors].sort(
    (a, b) => a.span.start.offset - b.span.start.offset,
  );
  if (errors.length > 0 || query === undefined) return { ok: false, errors };
  return { ok: true, query };
}

interface Hop {
  step: XPathAssociationStep;
  where: XPathCondition | undefined;
}

type PathEnd =
  | { readonly kind: 'attribute'; readonly operand: XPathAttributeOperand; readonly info: AttributeInfo }
  | { readonly kind: 'id'; readonly entity: string }
  | { readonly kind: 'association' }
  | { readonly kind: 'entity' };

interface ResolvedPath {
  readonly hops: Hop[];
  readonly end: PathEnd;
  readonly span: SourceSpan;
}

/** What a value is compared with: an attribute (or function of one) of some type, or an object. */
type Target =
  | { readonly kind: 'value'; readonly type: MxType; readonly describe: string }
  | { readonly kind: 'object'; readonly entity: string; readonly describe: string };

/** The left side of a comparison: a path or a function of an attribute. */
type Subject =
  | { readonly kind: 'path'; readonly path: ResolvedPath }
  | {
      readonly kind: 'function';
      readonly path: ResolvedPath;
      readonly operand: XPathOperand;
      readonly type: MxType;
    };

function and(conditions: readonly (XPathCondition | undefined)[]): XPathCondition | undefined {
  const present = conditions.filter((c): c is XPathCondition => c !== undefined);
  const flat = present.flatMap((c) => (c.kind === 'and' ? c.operands : [c]));
  if (flat.length === 0) return undefined;
  if (flat.length === 1) return flat[0];
  return { kind: 'and', operands: flat };
}

function or(conditions: readonly XPathCondition[]): XPathCondition {
  const flat = conditions.flatMap((c) => (c.kind === 'or' ? c.operands : [c]));
  return flat.length === 1 && flat[0] !== undefined ? flat[0] : { kind: 'or', operands: flat };
}

function wrap(hops: readonly Hop[], inner: XPathCondition | undefined): XPathCondition | undefined {
  let condition = inner;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === undefined) continue;
    condition = { kind: 'exists', step: hop.step, where: and([hop.where, condition]) };
  }
  return condition;
}

function mirror(operator: XPathComparisonOperator): XPathComparisonOperator {
  switch (operator) {
    case '<':
      return '>';
    case '<=':
      return '>=';
    case '>':
      return '<';
    case '>=':
      return '<=';
    default:
      return operator;
  }
}

class XPathCompiler {
  readonly diagnostics = new Diagnostics();
  private readonly parameters: XPathParameter[] = [];
  private readonly parameterIndex = new Map<string, number>();
  private readonly schema: DomainSchema;

  constructor(
    private readonly env: XPathEnvironment,
    private readonly lines: LineMap,
  ) {
    this.schema = env.schema;
  }

  private report(code: LanguageErrorCode, message: string, span: SourceSpan, hint?: string): void {
    this.diagnostics.report(code, message, span, hint);
  }

  compile(
    source: string,
    constraints: readonly XPathNode[],
    named: { name: string; span: SourceSpan } | undefined,
  ): XPathQuery | undefined {
    const entity = this.schema.entity(this.env.entity);
    if (entity === undefined) {
      this.report(
        LanguageErrorCode.XPathUnknownEntity,
        `Unknown entity ${this.env.entity}`,
        this.lines.span(0, source.length),
      );
      return undefined;
    }
    if (named !== undefined && named.name !== this.env.entity) {
      this.report(
        LanguageErrorCode.XPathUnknownEntity,
        `The query names ${named.name} but retrieves ${this.env.entity}`,
        named.span,
        `Write //${this.env.entity}[...] or only the constraint.`,
      );
    }
    const conditions = constraints.map((node) => this.condition(node, entity));
    return {
      source,
      entity: this.env.entity,
      condition: and(conditions),
      parameters: this.parameters,
    };
  }

  private parameter(parameter: XPathParameter): XPathOperand {
    const key = JSON.stringify(parameter);
    let index = this.parameterIndex.get(key);
    if (index === undefined) {
      index = this.parameters.length;
      this.parameters.push(parameter);
      this.parameterIndex.set(key, index);
    }
    return { kind: 'parameter', index, type: parameter.type };
  }

  // ---- conditions ------------------------------------------------------------------

  private condition(node: XPathNode, scope: EntityInfo): XPathCondition | undefined {
    switch (node.kind) {
      case 'And': {
        const left = this.condition(node.left, scope);
        const right = this.condition(node.right, scope);
        return left === undefined || right === undefined ? undefined : and([left, right]);
      }
      case 'Or': {
        const left = this.condition(node.left, scope);
        const right = this.condition(node.right, scope);
        return left === undefined || right === undefined ? undefined : or([left, right]);
      }
      case 'Comparison':
        return this.comparison(node, scope);
      case 'Function':
        return this.conditionFunction(node, scope);
      case 'Path': {
        const path = this.resolvePath(node, scope);
        if (path === undefined) return undefined;
        if (path.end.kind === 'association' || path.end.kind === 'entity') return wrap(path.hops, undefined);
        this.report(
          LanguageErrorCode.XPathTypeMismatch,
          path.end.kind === 'id'
            ? '`id` alone is not a condition'
            : `The attribute ${path.end.operand.attribute} alone is not a condition`,
          node.span,
          path.end.kind === 'attribute' && path.end.operand.type.kind === 'Boolean'
            ? `Compare it: ${node.steps.map((s) => s.name).join('/')} = true()`
            : "Compare it with a value, e.g. Name = 'x'.",
        );
        return undefined;
      }
      case 'Error':
        return undefined;
      default:
        this.report(
          LanguageErrorCode.XPathTypeMismatch,
          'A value alone is not a condition',
          node.span,
          'Compare it with a member of the entity, e.g. [Name = $Name].',
        );
        return undefined;
    }
  }

  private argumentCount(node: XPathFunctionNode, count: number, signature: string): boolean {
    if (node.args.length === count) return true;
    this.report(
      LanguageErrorCode.XPathArgumentCount,
      `${node.name} takes ${count} argument${count === 1 ? '' : 's'} but got ${node.args.length}`,
      node.span,
      `Write ${signature}.`,
    );
    return false;
  }

  private conditionFunction(node: XPathFunctionNode, scope: EntityInfo): XPathCondition | undefined {
    switch (node.name) {
      case 'not': {
        if (!this.argumentCount(node, 1, 'not(condition)')) return undefined;
        const inner = node.args[0] === undefined ? undefined : this.condition(node.args[0], scope);
        return inner === undefined ? undefined : { kind: 'not', operand: inner };
      }
      case 'true':
      case 'false':
        if (!this.argumentCount(node, 0, `${node.name}()`)) return undefined;
        return { kind: 'constant', value: node.name === 'true' };
      case 'contains':
      case 'starts-with':
      case 'ends-with':
        return this.stringMatch(node, scope);
      default:
        if (VALUE_FUNCTIONS.has(node.name)) {
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `${node.name}(...) gives a value, not a condition`,
            node.span,
            `Compare it, e.g. ${node.name}(...) > 3.`,
          );
          return undefined;
        }
        this.unknownFunction(node);
        return undefined;
    }
  }

  private unknownFunction(node: XPathFunctionNode): void {
    const suggestion = closest(node.name, [...CONDITION_FUNCTIONS, ...VALUE_FUNCTIONS]);
    this.report(
      LanguageErrorCode.XPathUnknownFunction,
      `Unknown XPath function ${node.name}`,
      node.nameSpan,
      suggestion !== undefined
        ? `Did you mean ${suggestion}()?`
        : `XPath functions are ${[...CONDITION_FUNCTIONS, ...VALUE_FUNCTIONS].join(', ')}.`,
    );
  }

  private stringMatch(node: XPathFunctionNode, scope: EntityInfo): XPathCondition | undefined {
    const fn = node.name as 'contains' | 'starts-with' | 'ends-with';
    if (!this.argumentCount(node, 2, `${fn}(Attribute, 'text')`)) return undefined;
    const [subjectNode, valueNode] = node.args;
    if (subjectNode === undefined || valueNode === undefined) return undefined;
    if (subjectNode.kind !== 'Path') {
      this.report(
        LanguageErrorCode.XPathTypeMismatch,
        `The first argument of ${fn} must be a String attribute`,
        subjectNode.span,
      );
      return undefined;
    }
    const path = this.resolvePath(subjectNode, scope);
    if (path === undefined) return undefined;
    if (path.end.kind !== 'attribute' || path.end.operand.type.kind !== 'String') {
      this.report(
        LanguageErrorCode.XPathTypeMismatch,
        `The first argument of ${fn} must be a String attribute`,
        subjectNode.span,
      );
      return undefined;
    }
    if (!this.filterable(path.end.info, subjectNode.span)) return undefined;
    const value = this.value(valueNode, { kind: 'value', type: MxTypes.String, describe: 'a String' });
    if (value === undefined) return undefined;
    return wrap(path.hops, { kind: 'stringMatch', function: fn, attribute: path.end.operand, value });
  }

  private filterable(info: AttributeInfo, span: SourceSpan): boolean {
    if (info.filterable && info.type.kind !== 'Binary') return true;
    this.report(
      LanguageErrorCode.XPathNotFilterable,
      `The ${info.modelType} attribute ${info.name} cannot be used in an XPath constraint`,
      span,
      'Hashed strings, binaries and calculated attributes are not stored in a way that can be filtered on.',
    );
    return false;
  }

  // ---- comparisons -----------------------------------------------------------------

  private isSubject(node: XPathNode): boolean {
    return node.kind === 'Path' || (node.kind === 'Function' && VALUE_FUNCTIONS.has(node.name));
  }

  private comparison(node: XPathComparisonNode, scope: EntityInfo): XPathCondition | undefined {
    let { left, right, operator } = node;
    if (!this.isSubject(left) && this.isSubject(right)) {
      [left, right] = [right, left];
      operator = mirror(operator);
    }
    if (left.kind === 'Error' || right.kind === 'Error') return undefined;
    for (const side of [left, right]) {
      if (
        side.kind === 'Function' &&
        !VALUE_FUNCTIONS.has(side.name) &&
        !CONDITION_FUNCTIONS.includes(side.name)
      ) {
        this.unknownFunction(side);
        return undefined;
      }
    }
    if (!this.isSubject(left)) {
      for (const side of [left, right]) {
        if (side.kind === 'Variable' && !this.env.variables.has(side.name) && side.name !== 'currentUser') {
          this.report(LanguageErrorCode.XPathUnknownVariable, `Unknown variable $${side.name}`, side.span);
          return undefined;
        }
      }
      this.report(
        LanguageErrorCode.XPathBadPath,
        'A comparison needs a member of the entity on one side',
        node.span,
        'Compare an attribute, association or id with a value, e.g. [Total > $Minimum].',
      );
      return undefined;
    }
    const subject = this.subject(left, scope);
    if (subject === undefined) return undefined;
    if (this.isSubject(right)) return this.memberComparison(subject, operator, right, scope, node);
    const path = subject.path;
    if (subject.kind === 'function') {
      if (right.kind === 'Empty') {
        this.report(
          LanguageErrorCode.XPathTypeMismatch,
          `${left.kind === 'Function' ? left.name : 'A function'}(...) is never empty`,
          right.span,
        );
        return undefined;
      }
      const value = this.value(right, {
        kind: 'value',
        type: subject.type,
        describe: withArticle(subject.type),
      });
      if (value === undefined) return undefined;
      return wrap(path.hops, {
        kind: 'compare',
        left: subject.operand,
        operator,
        right: value,
        emptyMatches: false,
      });
    }
    const end = path.end;
    switch (end.kind) {
      case 'attribute': {
        if (!this.filterable(end.info, left.span)) return undefined;
        const type = end.operand.type;
        if (right.kind === 'Empty') {
          if (operator !== '=' && operator !== '!=') {
            this.report(
              LanguageErrorCode.XPathTypeMismatch,
              `${operator} cannot compare with empty`,
              node.operatorSpan,
              'Use = empty or != empty.',
            );
            return undefined;
          }
          return wrap(path.hops, { kind: 'isEmpty', operand: end.operand, negated: operator === '!=' });
        }
        if (operator !== '=' && operator !== '!=' && type.kind === 'Boolean') {
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `${operator} cannot order Boolean values`,
            node.operatorSpan,
          );
          return undefined;
        }
        const value = this.value(right, {
          kind: 'value',
          type,
          describe: `the ${formatType(type)} attribute ${end.operand.attribute}`,
        });
        if (value === undefined) return undefined;
        return wrap(path.hops, {
          kind: 'compare',
          left: end.operand,
          operator,
          right: value,
          emptyMatches: operator === '!=',
        });
      }
      case 'id': {
        if (operator !== '=' && operator !== '!=') {
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `${operator} cannot compare ids`,
            node.operatorSpan,
            'Use = or !=.',
          );
          return undefined;
        }
        if (right.kind === 'Empty') {
          this.report(LanguageErrorCode.XPathTypeMismatch, 'An object id is never empty', right.span);
          return undefined;
        }
        const value = this.value(right, {
          kind: 'object',
          entity: end.entity,
          describe: `an object of ${end.entity}`,
        });
        if (value === undefined) return undefined;
        return wrap(path.hops, {
          kind: 'compare',
          left: { kind: 'id', entity: end.entity },
          operator,
          right: value,
          emptyMatches: false,
        });
      }
      case 'association': {
        const last = path.hops[path.hops.length - 1];
        if (last === undefined) return undefined;
        if (operator !== '=' && operator !== '!=') {
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `${operator} cannot compare an association`,
            node.operatorSpan,
            'Use = or != with an object, an id, a token or empty.',
          );
          return undefined;
        }
        const outer = path.hops.slice(0, -1);
        if (right.kind === 'Empty') {
          const exists: XPathCondition = { kind: 'exists', step: last.step, where: last.where };
          return wrap(outer, operator === '=' ? { kind: 'not', operand: exists } : exists);
        }
        const value = this.value(right, {
          kind: 'object',
          entity: last.step.to,
          describe: `an object of ${last.step.to}`,
        });
        if (value === undefined) return undefined;
        const match: XPathCondition = {
          kind: 'exists',
          step: last.step,
          where: and([
            last.where,
            {
              kind: 'compare',
              left: { kind: 'id', entity: last.step.to },
              operator: '=',
              right: value,
              emptyMatches: false,
            },
          ]),
        };
        return wrap(outer, operator === '=' ? match : { kind: 'not', operand: match });
      }
      default:
        this.report(
          LanguageErrorCode.XPathTypeMismatch,
          'An entity in a path cannot be compared',
          left.span,
          'Compare the association (Module.Assoc = $Object) or an attribute of the entity.',
        );
        return undefined;
    }
  }

  private memberComparison(
    subject: Subject,
    operator: XPathComparisonOperator,
    right: XPathNode,
    scope: EntityInfo,
    node: XPathComparisonNode,
  ): XPathCondition | undefined {
    const other = this.subject(right, scope);
    if (other === undefined) return undefined;
    if (subject.path.hops.length > 0 || other.path.hops.length > 0) {
      this.report(
        LanguageErrorCode.XPathBadPath,
        'Only one side of a comparison may follow associations',
        node.span,
        'Compare attributes of the same object, or compare a path with a value.',
      );
      return undefined;
    }
    const leftOperand = this.operandOf(subject, node.left.span);
    const rightOperand = this.operandOf(other, right.span);
    if (leftOperand === undefined || rightOperand === undefined) return undefined;
    const lt = operandType(leftOperand);
    const rt = operandType(rightOperand);
    if (lt !== undefined && rt !== undefined && !comparable(lt, rt)) {
      this.report(
        LanguageErrorCode.XPathTypeMismatch,
        `Cannot compare ${withArticle(lt)} with ${withArticle(rt)}`,
        node.operatorSpan,
      );
      return undefined;
    }
    return { kind: 'compare', left: leftOperand, operator, right: rightOperand, emptyMatches: false };
  }

  private operandOf(subject: Subject, span: SourceSpan): XPathOperand | undefined {
    if (subject.kind === 'function') return subject.operand;
    const end = subject.path.end;
    if (end.kind === 'attribute') return this.filterable(end.info, span) ? end.operand : undefined;
    if (end.kind === 'id') return { kind: 'id', entity: end.entity };
    this.report(
      LanguageErrorCode.XPathTypeMismatch,
      'Associations can only be compared with objects, ids, tokens or empty',
      span,
    );
    return undefined;
  }

  private subject(node: XPathNode, scope: EntityInfo): Subject | undefined {
    if (node.kind === 'Path') {
      const path = this.resolvePath(node, scope);
      return path === undefined ? undefined : { kind: 'path', path };
    }
    if (node.kind !== 'Function') return undefined;
    const fn = node.name as XPathValueFunction;
    if (!this.argumentCount(node, 1, `${fn}(Attribute)`)) return undefined;
    const arg = node.args[0];
    if (arg === undefined || arg.kind !== 'Path') {
      this.report(
        LanguageErrorCode.XPathTypeMismatch,
        `The argument of ${fn} must be an attribute`,
        arg?.span ?? node.span,
      );
      return undefined;
    }
    const path = this.resolvePath(arg, scope);
    if (path === undefined) return undefined;
    const needs = fn === 'string-length' ? 'String' : 'DateTime';
    if (path.end.kind !== 'attribute' || path.end.operand.type.kind !== needs) {
      this.report(
        LanguageErrorCode.XPathTypeMismatch,
        `The argument of ${fn} must be a ${needs} attribute`,
        arg.span,
      );
      return undefined;
    }
    if (!this.filterable(path.end.info, arg.span)) return undefined;
    return {
      kind: 'function',
      path,
      operand: { kind: 'function', function: fn, argument: path.end.operand, type: MxTypes.Integer },
      type: MxTypes.Integer,
    };
  }

  // ---- paths -----------------------------------------------------------------------

  private resolvePath(node: XPathPathNode, start: EntityInfo): ResolvedPath | undefined {
    let scope = start;
    const hops: Hop[] = [];
    let afterAssociation = false;
    let end: PathEnd | undefined;
    for (let i = 0; i < node.steps.length; i++) {
      const step = node.steps[i];
      if (step === undefined) break;
      const last = i === node.steps.length - 1;
      if (step.name.includes('.')) {
        const association = scope.association(step.name);
        if (association !== undefined) {
          const canForward = scope.isA(association.owner);
          const canBackward = scope.isA(association.target);
          let forward = canForward;
          if (step.reversed) {
            if (!canBackward) {
              this.report(
                LanguageErrorCode.XPathBadPath,
                `${scope.name} is not the target of ${step.name}, so it cannot be reversed`,
                step.span,
              );
              return undefined;
            }
            forward = false;
          } else if (!canForward && !canBackward) {
            this.report(
              LanguageErrorCode.XPathBadPath,
              `The association ${step.name} does not connect ${scope.name}`,
              step.span,
            );
            return undefined;
          }
          const to = forward ? association.target : association.owner;
          const toInfo = this.schema.entity(to);
          if (toInfo === undefined) {
            this.report(
              LanguageErrorCode.XPathUnknownEntity,
              `Unknown entity ${to} at the end of ${step.name}`,
              step.span,
            );
            return undefined;
          }
          const hop: Hop = {
            step: {
              association: association.name,
              type: association.type,
              direction: forward ? AssociationDirection.OwnerToTarget : AssociationDirection.TargetToOwner,
              owner: association.owner,
              target: association.target,
              from: scope.name,
              to,
              specialization: false,
            },
            where: undefined,
          };
          hops.push(hop);
          scope = toInfo;
          hop.where = this.nested(step.constraints, scope);
          afterAssociation = true;
          if (last) end = { kind: 'association' };
          continue;
        }
        const named = this.schema.entity(step.name);
        if (named !== undefined) {
          const hop = hops[hops.length - 1];
          if (!afterAssociation || hop === undefined) {
            this.report(
              LanguageErrorCode.XPathBadPath,
              `The entity ${step.name} can only follow an association in a path`,
              step.span,
              i === 0
                ? 'Start the path with an association of the retrieved entity, e.g. Module.Assoc/Module.Entity.'
                : undefined,
            );
            return undefined;
          }
          if (named.isA(hop.step.to)) {
            if (named.name !== hop.step.to) hop.step = { ...hop.step, to: named.name, specialization: true };
            scope = named;
          } else if (!scope.isA(named.name)) {
            this.report(
              LanguageErrorCode.XPathBadPath,
              `${step.name} is not at the end of ${hop.step.association}, which reaches ${hop.step.to}`,
              step.span,
              `Write ${hop.step.association}/${hop.step.to}.`,
            );
            return undefined;
          }
          hop.where = and([hop.where, this.nested(step.constraints, scope)]);
          afterAssociation = false;
          if (last) end = { kind: 'entity' };
          continue;
        }
        this.report(
          LanguageErrorCode.XPathUnknownMember,
          `${scope.name} has no association ${step.name}`,
          step.span,
          'Paths are written Module.Association/Module.Entity/Attribute.',
        );
        return undefined;
      }
      if (afterAssociation) {
        const hop = hops[hops.length - 1];
        this.report(
          LanguageErrorCode.XPathBadPath,
          `After the association ${hop?.step.association ?? ''} the path must name its entity before ${step.name}`,
          step.span,
          `Write ${hop?.step.association ?? 'Module.Assoc'}/${hop?.step.to ?? 'Module.Entity'}/${step.name}.`,
        );
        return undefined;
      }
      if (step.constraints.length > 0) {
        this.report(
          LanguageErrorCode.XPathBadPath,
          `An attribute cannot have a constraint: ${step.name}[...]`,
          step.span,
        );
        return undefined;
      }
      if (!last) {
        this.report(
          LanguageErrorCode.XPathBadPath,
          `${step.name} must be the last step of the path`,
          step.span,
          'Only associations and entities can be followed in a path.',
        );
        return undefined;
      }
      if (step.name === 'id') {
        end = { kind: 'id', entity: scope.name };
        continue;
      }
      const attribute = scope.attribute(step.name);
      if (attribute === undefined) {
        this.report(
          LanguageErrorCode.XPathUnknownMember,
          `${scope.name} has no attribute ${step.name}`,
          step.span,
          step.name === 'createdDate' || step.name === 'changedDate'
            ? `Enable the system member ${step.name} on ${scope.name}.`
            : 'Attribute names are case-sensitive; associations are written with their module.',
        );
        return undefined;
      }
      end = {
        kind: 'attribute',
        info: attribute,
        operand: {
          kind: 'attribute',
          entity: scope.name,
          attribute: attribute.name,
          type: attribute.type,
          modelType: attribute.modelType,
        },
      };
    }
    if (end === undefined) return undefined;
    return { hops, end, span: node.span };
  }

  private nested(constraints: readonly XPathNode[], scope: EntityInfo): XPathCondition | undefined {
    return and(constraints.map((c) => this.condition(c, scope)));
  }

  // ---- values ----------------------------------------------------------------------

  private value(node: XPathNode, target: Target): XPathOperand | undefined {
    switch (node.kind) {
      case 'String':
        return this.stringValue(node, target);
      case 'Number':
        return this.numberValue(node.text, node.span, target);
      case 'Variable':
        return this.variableValue(node, target);
      case 'Token':
        return this.tokenValue(node.name, node.span, target);
      case 'Function':
        if ((node.name === 'true' || node.name === 'false') && node.args.length === 0) {
          if (target.kind === 'value' && target.type.kind === 'Boolean') {
            return { kind: 'literal', value: node.name === 'true', type: MxTypes.Boolean };
          }
          this.mismatch(`${node.name}()`, target, node.span);
          return;
        }
        if (VALUE_FUNCTIONS.has(node.name) || CONDITION_FUNCTIONS.includes(node.name)) {
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `${node.name}(...) cannot be used as a value here`,
            node.span,
          );
        } else {
          this.unknownFunction(node);
        }
        return undefined;
      case 'Empty':
        this.report(LanguageErrorCode.XPathTypeMismatch, 'empty cannot be used here', node.span);
        return undefined;
      case 'Error':
        return undefined;
      default:
        this.report(LanguageErrorCode.XPathTypeMismatch, 'Expected a value', node.span);
        return undefined;
    }
  }

  private mismatch(what: string, target: Target, span: SourceSpan, hint?: string): undefined {
    this.report(
      LanguageErrorCode.XPathTypeMismatch,
      `${what} cannot be compared with ${target.describe}`,
      span,
      hint,
    );
    return undefined;
  }

  private stringValue(node: XPathStringNode, target: Target): XPathOperand | undefined {
    const text = node.value;
    if (text.trimStart().startsWith('[%')) return this.tokenString(node, target);
    if (target.kind === 'object') {
      if (text === '') {
        this.mismatch("''", target, node.span);
        return;
      }
      return { kind: 'literal', value: text, type: MxTypes.String };
    }
    const type = target.type;
    switch (type.kind) {
      case 'String':
        return { kind: 'literal', value: text, type };
      case 'Integer':
      case 'Long':
      case 'Decimal':
        return this.numberValue(text.trim(), node.span, target, `'${text}'`);
      case 'Boolean':
        return { kind: 'literal', value: text.toLowerCase() === 'true', type };
      case 'DateTime': {
        const trimmed = text.trim();
        if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || parseIsoDateTime(trimmed, 'UTC') === undefined) {
          this.mismatch(
            `'${text}'`,
            target,
            node.span,
            "Write dates in ISO 8601, e.g. '2024-01-31T10:00:00Z', or use a date token.",
          );
          return;
        }
        if (/(?:Z|[+-]\d{2}(?::?\d{2})?)$/.test(trimmed)) {
          const ms = parseIsoDateTime(trimmed, 'UTC');
          return ms === undefined ? undefined : { kind: 'literal', value: new Date(ms), type };
        }
        return this.parameter({ kind: 'localDateTime', text: trimmed, type });
      }
      case 'Enumeration': {
        const info = this.schema.enumeration(type.enumeration);
        if (info !== undefined && !info.values.some((v) => v.key === text)) {
          const suggestion = closest(
            text,
            info.values.map((v) => v.key),
          );
          this.report(
            LanguageErrorCode.XPathTypeMismatch,
            `The enumeration ${type.enumeration} has no value '${text}'`,
            node.span,
            suggestion !== undefined
              ? `Did you mean '${suggestion}'?`
              : `Its values are: ${info.values.map((v) => v.key).join(', ')}.`,
          );
          return undefined;
        }
        return { kind: 'literal', value: text, type };
      }
      default: {
        this.mismatch(`'${text}'`, target, node.span);
        return;
      }
    }
  }

  private numberValue(
    text: string,
    span: SourceSpan,
    target: Target,
    shown = text,
  ): XPathOperand | undefined {
    if (!/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(text)) {
      this.mismatch(shown, target, span);
      return;
    }
    if (target.kind === 'object') return { kind: 'literal', value: text, type: MxTypes.String };
    const type = target.type;
    const integral = /^[+-]?\d+$/.test(text);
    switch (type.kind) {
      case 'String':
        return { kind: 'literal', value: text, type };
      case 'Integer':
      case 'Long':
        if (integral) return { kind: 'literal', value: BigInt(text), type };
        return { kind: 'literal', value: new Decimal(text), type: MxTypes.Decimal };
      case 'Decimal':
        return { kind: 'literal', value: new Decimal(text), type };
      case 'Boolean':
        return { kind: 'literal', value: new Decimal(text).gt(0), type };
      case 'DateTime': {
        const ms = new Decimal(text).times(1000).toDecimalPlaces(0);
        if (ms.abs().gt(8.64e15)) {
          this.mismatch(shown, target, span);
          return;
        }
        return { kind: 'literal', value: new Date(ms.toNumber()), type };
      }
      default: {
        this.mismatch(shown, target, span);
        return;
      }
    }
  }

  private variableValue(node: XPathVariableNode, target: Target): XPathOperand | undefined {
    let type = this.env.variables.get(node.name);
    if (type === undefined && node.name === 'currentUser' && node.path.length === 0) {
      return this.tokenValue('CurrentUser', node.span, target);
    }
    if (type === undefined && node.name === 'currentUser') type = objectType(USER_ENTITY);
    if (type === undefined) {
      const suggestion = closest(node.name, this.env.variables.keys());
      this.report(
        LanguageErrorCode.XPathUnknownVariable,
        `Unknown variable $${node.name}`,
        node.span,
        suggestion !== undefined ? `Did you mean $${suggestion}?` : undefined,
      );
      return undefined;
    }
    const steps: XPathVariableStep[] = [];
    for (let i = 0; i < node.path.length; i++) {
      const step = node.path[i];
      if (step === undefined) break;
      if (type.kind !== 'Object') {
        this.report(
          LanguageErrorCode.XPathBadPath,
          `${withArticle(type)} has no member ${step.name}`,
          step.span,
        );
        return undefined;
      }
      const entity = this.schema.entity(type.entity);
      if (entity === undefined) {
        this.report(LanguageErrorCode.XPathUnknownEntity, `Unknown entity ${type.entity}`, step.span);
        return undefined;
      }
      if (step.name.includes('.')) {
        const association = entity.association(step.name);
        if (association !== undefined && entity.isA(association.owner) && association.type === 'Reference') {
          steps.push({
            kind: 'association',
            name: association.name,
            direction: AssociationDirection.OwnerToTarget,
          });
          type = objectType(association.target);
          continue;
        }
        if (association === undefined && this.schema.entity(step.name) !== undefined && entity.isA(step.name))
          continue;
        this.report(
          LanguageErrorCode.XPathBadPath,
          association === undefined
            ? `${type.entity} has no association ${step.name}`
            : `${step.name} leads to several objects; a variable path must follow single references from their owner`,
          step.span,
        );
        return undefined;
      }
      const attribute = entity.attribute(step.name);
      if (attribute === undefined) {
        this.report(
          LanguageErrorCode.XPathUnknownMember,
          `${type.entity} has no attribute ${step.name}`,
          step.span,
        );
        return undefined;
      }
      if (i !== node.path.length - 1) {
        this.report(
          LanguageErrorCode.XPathBadPath,
          `${step.name} must be the last step of the path`,
          step.span,
        );
        return undefined;
      }
      steps.push({ kind: 'attribute', name: attribute.name });
      type = attribute.type;
    }
    if (!this.fits(type, target)) {
      this.mismatch(
        `$${[node.name, ...node.path.map((p) => p.name)].join('/')} (${formatType(type)})`,
        target,
        node.span,
      );
      return;
    }
    return this.parameter({ kind: 'variable', name: node.name, path: steps, type });
  }

  private fits(type: MxType, target: Target): boolean {
    if (type.kind === 'Empty') return true;
    if (target.kind === 'object') {
      return (
        type.kind === 'Object' &&
        (entityIsA(this.schema, type.entity, target.entity) ||
          entityIsA(this.schema, target.entity, type.entity))
      );
    }
    return comparable(type, target.type);
  }

  private tokenString(node: XPathStringNode, target: Target): XPathOperand | undefined {
    const text = node.value;
    const offsetAt = (i: number): number => node.contentOffsets[i] ?? node.span.start.offset;
    const spanOf = (from: number, to: number): SourceSpan =>
      this.lines.span(offsetAt(from), offsetAt(Math.max(from, to - 1)) + 1);
    const tokenRe = /\[%([^%]*)%\]/y;
    let pos = text.length - text.trimStart().length;
    tokenRe.lastIndex = pos;
    const first = tokenRe.exec(text);
    if (first === null) {
      this.report(
        LanguageErrorCode.XPathUnknownToken,
        `Unterminated token in '${text}'`,
        node.span,
        'Tokens are written [%Name%].',
      );
      return undefined;
    }
    const baseName = first[1] ?? '';
    const baseSpan = spanOf(pos, pos + first[0].length);
    pos += first[0].length;
    const rest = text.slice(pos);
    if (rest.trim() === '') return this.tokenValue(baseName, baseSpan, target);
    const base = parseDateToken(baseName);
    if (base === undefined) {
      if (isPeriodToken(baseName)) {
        this.report(
          LanguageErrorCode.XPathUnknownToken,
          `Date arithmetic must start with a date token, not [%${baseName}%]`,
          baseSpan,
          "E.g. '[%BeginOfCurrentDay%] - 3 * [%DayLength%]'.",
        );
      } else {
        this.tokenValue(baseName, baseSpan, target);
        this.report(
          LanguageErrorCode.XPathUnknownToken,
          `Only date tokens can be combined with periods in '${text}'`,
          node.span,
        );
      }
      return undefined;
    }
    if (target.kind !== 'value' || target.type.kind !== 'DateTime') {
      this.mismatch(`'${text}'`, target, node.span);
      return;
    }
    const terms: { count: number; period: string }[] = [];
    const termRe = /\s*([+-])\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?\[%([^%]*)%\](?:\s*\*\s*(\d+(?:\.\d+)?))?/y;
    while (pos < text.length) {
      if (text.slice(pos).trim() === '') break;
      termRe.lastIndex = pos;
      const m = termRe.exec(text);
      if (m === null) {
        this.report(
          LanguageErrorCode.XPathSyntax,
          `Cannot read the date arithmetic in '${text}' at '${text.slice(pos).trim()}'`,
          spanOf(pos, text.length),
          "Write e.g. '[%BeginOfCurrentDay%] - 3 * [%YearLength%] + [%HourLength%]'.",
        );
        return undefined;
      }
      const period = m[3] ?? '';
      const periodStart = pos + m[0].lastIndexOf('[%');
      if (!isPeriodToken(period)) {
        this.report(
          LanguageErrorCode.XPathUnknownToken,
          `[%${period}%] is not a period token`,
          spanOf(periodStart, periodStart + period.length + 4),
          'Periods are [%SecondLength%], [%MinuteLength%], [%HourLength%], [%DayLength%], [%WeekLength%], [%MonthLength%] and [%YearLength%].',
        );
        return undefined;
      }
      const factorText = m[2] ?? m[4] ?? '1';
      const count = Number(factorText) * (m[1] === '-' ? -1 : 1);
      if ((period === 'MonthLength' || period === 'YearLength') && !Number.isInteger(count)) {
        this.report(
          LanguageErrorCode.XPathSyntax,
          `Months and years can only be added in whole numbers`,
          spanOf(pos, pos + m[0].length),
        );
        return undefined;
      }
      terms.push({ count, period });
      pos += m[0].length;
    }
    return this.parameter({ kind: 'dateExpression', token: base.name, terms, type: MxTypes.DateTime });
  }

  private tokenValue(name: string, span: SourceSpan, target: Target): XPathOperand | undefined {
    const date = parseDateToken(name);
    if (date !== undefined) {
      if (target.kind !== 'value' || target.type.kind !== 'DateTime') {
        this.mismatch(`[%${name}%]`, target, span);
        return;
      }
      return this.parameter({ kind: 'token', token: name, type: MxTypes.DateTime });
    }
    if (name === 'CurrentUser') {
      if (
        target.kind !== 'object' ||
        !(
          entityIsA(this.schema, USER_ENTITY, target.entity) ||
          entityIsA(this.schema, target.entity, USER_ENTITY)
        )
      ) {
        this.mismatch(
          '[%CurrentUser%]',
          target,
          span,
          'Compare it with an association to System.User (e.g. System.owner) or the id of a user.',
        );
        return;
      }
      return this.parameter({ kind: 'token', token: 'CurrentUser', type: objectType(USER_ENTITY) });
    }
    if (name === 'CurrentObject') {
      if (target.kind !== 'object') {
        this.mismatch('[%CurrentObject%]', target, span);
        return;
      }
      return this.parameter({ kind: 'token', token: 'CurrentObject', type: objectType(target.entity) });
    }
    if (name.startsWith('UserRole_')) {
      const role = name.slice('UserRole_'.length);
      if (!this.schema.userRole(role)) {
        this.report(LanguageErrorCode.XPathUnknownToken, `Unknown user role ${role} in [%${name}%]`, span);
        return undefined;
      }
      if (target.kind !== 'object' || !entityIsA(this.schema, target.entity, USER_ROLE_ENTITY)) {
        this.mismatch(
          `[%${name}%]`,
          target,
          span,
          "Compare it with System.UserRoles, e.g. [System.UserRoles = '[%UserRole_Administrator%]'].",
        );
        return;
      }
      return { kind: 'userRole', name: role };
    }
    if (isPeriodToken(name)) {
      this.report(
        LanguageErrorCode.XPathUnknownToken,
        `[%${name}%] is a period and must be added to a date token`,
        span,
        "E.g. '[%CurrentDateTime%] - [%DayLength%]'.",
      );
      return undefined;
    }
    const suggestion = closest(name, [...DATE_TOKEN_NAMES, 'CurrentUser', 'CurrentObject']);
    this.report(
      LanguageErrorCode.XPathUnknownToken,
      `Unknown token [%${name}%]`,
      span,
      suggestion !== undefined ? `Did you mean [%${suggestion}%]?` : undefined,
    );
    return undefined;
  }
}

function operandType(operand: XPathOperand): MxType | undefined {
  switch (operand.kind) {
    case 'attribute':
    case 'literal':
    case 'parameter':
    case 'function':
      return operand.type;
    default:
      return undefined;
  }
}

/** Whether values of two types can be compared in XPath. */
function comparable(a: MxType, b: MxType): boolean {
  if (isNumeric(a) && isNumeric(b)) return true;
  if (a.kind === 'Enumeration' && b.kind === 'String') return true;
  if (a.kind === 'String' && b.kind === 'Enumeration') return true;
  if (a.kind === 'Enumeration' && b.kind === 'Enumeration') return a.enumeration === b.enumeration;
  if (isIntegral(a) && isIntegral(b)) return true;
  return a.kind === b.kind && a.kind !== 'Object' && a.kind !== 'List';
}
