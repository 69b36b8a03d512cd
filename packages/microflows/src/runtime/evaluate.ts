/**
 * Evaluating model expressions in a frame. Expressions evaluate synchronously; the
 * associations they walk are fetched first (from the unit of work, which sees the request's
 * uncommitted changes) into a cache that the evaluation context's `follow` reads.
 */
import {
  AssociationDirection,
  createEvaluationContext,
  isMxList,
  isMxObject,
  RoundingMode,
  toStringValue,
  type AssociationPath,
  type EvaluationContext,
  type MxObjectValue,
  type MxValue,
} from '@runplane/expressions';
import type { CompiledModel, ModelExpression, ModelTemplate } from '@runplane/model';
import type { MxObject } from '@runplane/persistence';
import { UnexpectedError } from '@runplane/errors';
import type { MicroflowUser } from '../types.js';
import type { FollowCache, Frame, RunState } from './state.js';

/** Evaluates in a frame: synchronously when the expression walks no association. */
export type Evaluator = ((frame: Frame) => MxValue | Promise<MxValue>) & { readonly sync: boolean };

/** Builds the evaluator of an expression. */
export function evaluator(expression: ModelExpression): Evaluator {
  const compiled = expression.compiled;
  const paths = compiled.dependencies.associationPaths;
  if (paths.length === 0) {
    return Object.assign((frame: Frame) => compiled.evaluate(frame.vars, frame.run.context), { sync: true });
  }
  return Object.assign(
    async (frame: Frame): Promise<MxValue> => {
      const cache = await prefetch(frame, paths);
      const run = frame.run;
      const previous = run.follow;
      run.follow = cache;
      try {
        return compiled.evaluate(frame.vars, run.context);
      } finally {
        run.follow = previous;
      }
    },
    { sync: false },
  );
}

/** Evaluates several expressions, in order; synchronous when all of them are. */
export function evaluateAll(evaluators: readonly Evaluator[], frame: Frame): MxValue[] | Promise<MxValue[]> {
  const values: MxValue[] = [];
  for (let i = 0; i < evaluators.length; i++) {
    const evaluate = evaluators[i] as Evaluator;
    const value = evaluate(frame);
    if (value instanceof Promise) return finishAll(evaluators, frame, values, value, i);
    values.push(value);
  }
  return values;
}

async function finishAll(
  evaluators: readonly Evaluator[],
  frame: Frame,
  values: MxValue[],
  pending: Promise<MxValue>,
  index: number,
): Promise<MxValue[]> {
  values.push(await pending);
  for (let i = index + 1; i < evaluators.length; i++) values.push(await (evaluators[i] as Evaluator)(frame));
  return values;
}

function followKey(id: string, association: string): string {
  return `${id}\u0000${association}`;
}

function objectsOf(value: MxValue | undefined): readonly MxObjectValue[] {
  if (value === undefined || value === null) return [];
  if (isMxList(value)) return value;
  return isMxObject(value) ? [value] : [];
}

async function prefetch(frame: Frame, paths: readonly AssociationPath[]): Promise<FollowCache> {
  const cache: FollowCache = new Map();
  for (const path of paths) {
    let objects = objectsOf(frame.vars.get(path.variable));
    for (const association of path.path) {
      const next: MxObjectValue[] = [];
      for (const object of objects) {
        const key = followKey(object.id, association);
        let found = cache.get(key);
        if (found === undefined) {
          found = await frame.uow.retrieveByAssociation(object as MxObject, association);
          cache.set(key, found);
        }
        for (const item of found) next.push(item);
      }
      objects = next;
    }
  }
  return cache;
}

/** The evaluation context of a run: its clock, user, zone, rounding and association cache. */
export function runContext(
  model: CompiledModel,
  run: () => RunState,
  user: MicroflowUser,
  timeZone: string,
  constants: ReadonlyMap<string, MxValue>,
): EvaluationContext {
  const references = referenceAssociations(model);
  return createEvaluationContext({
    now: new Date(),
    currentUser: user.currentUser ?? null,
    timeZone,
    roundingMode:
      model.settings.roundingMode === 'HalfEven' ? RoundingMode.HalfEven : RoundingMode.HalfAwayFromZero,
    ...(user.locale === undefined ? {} : { locale: user.locale }),
    constants,
    follow(object, association, direction) {
      const state = run();
      const found = state.follow?.get(followKey(object.id, association));
      const single = direction === AssociationDirection.OwnerToTarget && references.has(association);
      if (found !== undefined) return single ? (found[0] ?? null) : found;
      // Paths not rooted in a variable were not prefetched; a reference can still be read from the request scope.
      if (single && typeof (object as Partial<MxObject>).getReference === 'function') {
        const id = (object as MxObject).getReference(association);
        if (id === null) return null;
        const target = state.uow.find(id);
        if (target !== undefined) return target;
      }
      throw new UnexpectedError({
        code: 'ASSOCIATION_NOT_PREFETCHED',
        message: `The association ${association} of ${object.entity} was not loaded before the expression was evaluated.`,
        details: { association, entity: object.entity },
      });
    },
  });
}

const referenceCache = new WeakMap<CompiledModel, ReadonlySet<string>>();

function referenceAssociations(model: CompiledModel): ReadonlySet<string> {
  let set = referenceCache.get(model);
  if (set === undefined) {
    set = new Set([...model.associations.values()].filter((a) => a.type === 'Reference').map((a) => a.name));
    referenceCache.set(model, set);
  }
  return set;
}

/** Constant values: the model's, overridden by the deployment's. */
export function constantValues(
  model: CompiledModel,
  overrides: ReadonlyMap<string, MxValue> | undefined,
): ReadonlyMap<string, MxValue> {
  const values = new Map<string, MxValue>();
  for (const constant of model.constants.values()) values.set(constant.name, constant.value);
  for (const [name, value] of overrides ?? []) values.set(name, value);
  return values;
}

/** A compiled text template: `{1}`, `{2}` replaced by its parameters' text, `{{` for a literal brace. */
export interface TemplateRenderer {
  (frame: Frame): string | Promise<string>;
}

/** Builds the renderer of a template. */
export function templateRenderer(template: ModelTemplate): TemplateRenderer {
  const parts = splitTemplate(template.text);
  const evaluators = template.parameters.map(evaluator);
  const render = (frame: Frame, values: readonly MxValue[]): string => {
    let text = '';
    const zone = frame.run.context.timeZone;
    for (const part of parts) {
      if (typeof part === 'string') text += part;
      else text += toStringValue(values[part - 1] ?? null, { timeZone: zone });
    }
    return text;
  };
  return (frame) => {
    const values = evaluateAll(evaluators, frame);
    return values instanceof Promise ? values.then((v) => render(frame, v)) : render(frame, values);
  };
}

/** Literal text and 1-based parameter numbers, in order. */
function splitTemplate(text: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '{' && text[i + 1] === '{') {
      literal += '{';
      i++;
      continue;
    }
    if (char === '{') {
      const close = text.indexOf('}', i);
      const digits = close < 0 ? '' : text.slice(i + 1, close);
      if (/^\d+$/.test(digits)) {
        if (literal !== '') parts.push(literal);
        literal = '';
        parts.push(Number(digits));
        i = close;
        continue;
      }
    }
    literal += char;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}
