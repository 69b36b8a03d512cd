/** List activities: create list, change list, list operations and aggregates. */
import {
  compareMxValues,
  Decimal,
  divideDecimal,
  isDecimal,
  mxValuesEqual,
  type MxValue,
} from '@runplane/expressions';
import type { SortItem } from '@runplane/model';
import type { MxObject } from '@runplane/persistence';
import { UnexpectedError } from '@runplane/errors';
import { evaluator, type Evaluator } from '../runtime/evaluate.js';
import type { Frame, Next } from '../runtime/state.js';
import { listIn, objectsIn, objectsOfValue, toCount, type NodeBuilder } from './context.js';

export const createListNode: NodeBuilder<'createList'> = (node, step) => (frame) => {
  frame.vars.set(node.output, []);
  return step.next;
};

/** Removes one occurrence of each given object (Mendix: duplicates are removed one at a time). */
function removeOnce(list: MxObject[], objects: readonly MxObject[]): void {
  for (const object of objects) {
    const index = list.findIndex((o) => o.id === object.id);
    if (index >= 0) list.splice(index, 1);
  }
}

export const changeListNode: NodeBuilder<'changeList'> = (node, step) => {
  const value = node.value === undefined ? undefined : evaluator(node.value);
  // Lists are shared by reference (a sub-microflow changing its parameter changes the caller's list): change in place.
  const apply = (frame: Frame, v: MxValue): Next => {
    const list = listIn(frame, node.list);
    const objects = objectsOfValue(v);
    switch (node.operation) {
      case 'add':
        list.push(...objects);
        break;
      case 'remove':
        removeOnce(list, objects);
        break;
      case 'clear':
        list.length = 0;
        break;
      case 'replace':
        list.length = 0;
        list.push(...objects);
        break;
    }
    return step.next;
  };
  if (value === undefined) return (frame) => apply(frame, null);
  if (value.sync) return (frame) => apply(frame, value(frame) as MxValue);
  return async (frame) => apply(frame, await value(frame));
};

const collator = new Intl.Collator('en-US');

function compareForSort(a: MxValue, b: MxValue): number {
  // Empty sorts first, as in the database.
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  if (typeof a === 'string' && typeof b === 'string') return collator.compare(a, b);
  return compareMxValues(a, b) ?? 0;
}

/** A stable sort of objects by attributes. */
export function sortObjects(objects: readonly MxObject[], items: readonly SortItem[]): MxObject[] {
  return [...objects].sort((x, y) => {
    for (const item of items) {
      const c = compareForSort(x.get(item.attribute), y.get(item.attribute));
      if (c !== 0) return item.descending ? -c : c;
    }
    return 0;
  });
}

function distinct(objects: readonly MxObject[]): MxObject[] {
  const seen = new Set<string>();
  const result: MxObject[] = [];
  for (const o of objects) {
    if (seen.has(o.id)) continue;
    seen.add(o.id);
    result.push(o);
  }
  return result;
}

/** A member of an object as a list filter compares it: attributes by value, references by target id. */
function memberReader(
  member: string,
  kind: 'attribute' | 'Reference' | 'ReferenceSet',
): (o: MxObject) => MxValue | readonly string[] {
  if (kind === 'attribute') return (o) => o.get(member);
  if (kind === 'Reference') return (o) => o.getReference(member);
  return (o) => o.getReferenceSet(member);
}

function memberMatches(actual: MxValue | readonly string[], expected: MxValue, kind: string): boolean {
  if (kind === 'attribute') return mxValuesEqual(actual as MxValue, expected);
  if (kind === 'Reference') return actual === (expected === null ? null : (expected as MxObject).id);
  const wanted = new Set(objectsOfValue(expected).map((o) => o.id));
  const have = actual as readonly string[];
  return have.length === wanted.size && have.every((id) => wanted.has(id));
}

export const listOperationNode: NodeBuilder<'listOperation'> = (node, step, ctx) => {
  const output = node.output;
  const set = (frame: Frame, value: MxValue): Next => {
    frame.vars.set(output, value);
    return step.next;
  };
  const list = (frame: Frame): MxObject[] => objectsIn(frame, node.list);
  const other = (frame: Frame): MxObject[] => (node.other === undefined ? [] : objectsIn(frame, node.other));
  switch (node.operation) {
    case 'union':
      return (frame) => set(frame, distinct([...list(frame), ...other(frame)]));
    case 'intersect':
      return (frame) => {
        const ids = new Set(other(frame).map((o) => o.id));
        return set(frame, distinct(list(frame).filter((o) => ids.has(o.id))));
      };
    case 'subtract':
      return (frame) => {
        const ids = new Set(other(frame).map((o) => o.id));
        return set(
          frame,
          list(frame).filter((o) => !ids.has(o.id)),
        );
      };
    case 'contains':
      return (frame) => {
        const ids = new Set(list(frame).map((o) => o.id));
        return set(
          frame,
          other(frame).every((o) => ids.has(o.id)),
        );
      };
    case 'equals':
      return (frame) => {
        const a = new Set(list(frame).map((o) => o.id));
        const b = new Set(other(frame).map((o) => o.id));
        return set(frame, a.size === b.size && [...a].every((id) => b.has(id)));
      };
    case 'sort':
      return (frame) => set(frame, sortObjects(list(frame), node.sort));
    case 'head':
      return (frame) => set(frame, list(frame)[0] ?? null);
    case 'tail':
      return (frame) => set(frame, list(frame).slice(1));
    case 'range': {
      const offset = node.offset === undefined ? undefined : evaluator(node.offset);
      const amount = node.amount === undefined ? undefined : evaluator(node.amount);
      return async (frame) => {
        const from = offset === undefined ? 0 : toCount(await offset(frame), 'offset');
        const count = amount === undefined ? 0 : toCount(await amount(frame), 'amount');
        const items = list(frame);
        return set(frame, count === 0 ? items.slice(from) : items.slice(from, from + count));
      };
    }
    case 'filter':
    case 'find': {
      const member = node.member ?? '';
      const association = ctx.model.associations.get(member);
      const kind = association === undefined ? 'attribute' : association.type;
      const read = memberReader(member, kind);
      const value = node.value === undefined ? undefined : evaluator(node.value);
      const find = node.operation === 'find';
      const pick = (frame: Frame, expected: MxValue): Next => {
        const matches = list(frame).filter((o) => memberMatches(read(o), expected, kind));
        return set(frame, find ? (matches[0] ?? null) : matches);
      };
      if (value === undefined) return (frame) => pick(frame, null);
      if (value.sync) return (frame) => pick(frame, value(frame) as MxValue);
      return async (frame) => pick(frame, await value(frame));
    }
    case 'filterByExpression':
    case 'findByExpression': {
      const condition = evaluator(node.value ?? missingExpression(node.name));
      const find = node.operation === 'findByExpression';
      return (frame) => {
        const items = list(frame);
        const saved = frame.vars.get('currentObject');
        const restore = (): void => {
          if (saved === undefined) frame.vars.delete('currentObject');
          else frame.vars.set('currentObject', saved);
        };
        if (condition.sync) {
          const matches: MxObject[] = [];
          try {
            for (const item of items) {
              frame.vars.set('currentObject', item);
              if (condition(frame) === true) {
                matches.push(item);
                if (find) break;
              }
            }
          } finally {
            restore();
          }
          return set(frame, find ? (matches[0] ?? null) : matches);
        }
        return filterAsync(frame, items, condition, find).then(
          (matches) => {
            restore();
            return set(frame, find ? (matches[0] ?? null) : matches);
          },
          (error: unknown) => {
            restore();
            throw error;
          },
        );
      };
    }
  }
};

function missingExpression(node: string): never {
  throw new UnexpectedError({
    code: 'MICROFLOW_NODE_INVALID',
    message: `List operation '${node}' has no expression.`,
    details: { node },
  });
}

async function filterAsync(
  frame: Frame,
  items: readonly MxObject[],
  condition: Evaluator,
  find: boolean,
): Promise<MxObject[]> {
  const matches: MxObject[] = [];
  for (const item of items) {
    frame.vars.set('currentObject', item);
    if ((await condition(frame)) === true) {
      matches.push(item);
      if (find) break;
    }
  }
  return matches;
}

export const aggregateNode: NodeBuilder<'aggregate'> = (node, step) => {
  const attribute = node.attribute ?? '';
  const decimal = node.outputType.kind === 'Decimal';
  const aggregate = (objects: readonly MxObject[]): MxValue => {
    if (node.function === 'count') return BigInt(objects.length);
    const values = objects.map((o) => o.get(attribute)).filter((v) => v !== null);
    switch (node.function) {
      case 'sum':
      case 'average': {
        let total: MxValue = decimal ? new Decimal(0) : 0n;
        for (const v of values) {
          if (isDecimal(total)) total = total.plus(isDecimal(v) ? v : new Decimal((v as bigint).toString()));
          else total = total + (v as bigint);
        }
        if (node.function === 'sum') return total;
        // Mendix: the average of no values is 0.
        if (values.length === 0) return new Decimal(0);
        return divideDecimal(
          isDecimal(total) ? total : new Decimal(total.toString()),
          new Decimal(values.length),
        );
      }
      case 'minimum':
      case 'maximum': {
        let best: MxValue = null;
        for (const v of values) {
          const c = best === null ? 0 : (compareMxValues(v, best) ?? 0);
          if (best === null || (node.function === 'minimum' ? c < 0 : c > 0)) best = v;
        }
        return best;
      }
    }
  };
  return (frame) => {
    frame.vars.set(node.output, aggregate(objectsIn(frame, node.list)));
    return step.next;
  };
};
