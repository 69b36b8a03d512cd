/** Object activities: create, change, retrieve, commit, delete, rollback, cast. */
import { entityIsA, type MxValue } from '@runplane/expressions';
import type { CommitOption, CompiledModel, MemberChange } from '@runplane/model';
import type { MxObject, RetrieveQuery, UnitOfWork } from '@runplane/persistence';
import { engineError, MicroflowErrorCode } from '../errors.js';
import { evaluateAll, evaluator, type Evaluator } from '../runtime/evaluate.js';
import { refreshInClient } from '../runtime/instructions.js';
import type { Frame, Next } from '../runtime/state.js';
import { objectIn, objectsIn, objectsOfValue, toCount, type NodeBuilder } from './context.js';

type Apply = (object: MxObject, value: MxValue) => void;

function ids(value: MxValue): string[] {
  return objectsOfValue(value).map((o) => o.id);
}

/** How one member change is applied to an object. */
function memberSetter(change: MemberChange, model: CompiledModel): Apply {
  const member = change.member;
  if (change.memberKind === 'attribute') {
    return (object, value) => {
      object.set(member, value);
    };
  }
  const association = model.associations.get(member);
  if (association?.type === 'Reference') {
    return (object, value) => {
      object.setReference(member, value === null ? null : (value as MxObject).id);
    };
  }
  switch (change.operation) {
    case 'add':
      return (object, value) => {
        const current = object.getReferenceSet(member);
        const added = ids(value).filter((id) => !current.includes(id));
        object.setReferenceSet(member, [...current, ...added]);
      };
    case 'remove':
      return (object, value) => {
        const removed = new Set(ids(value));
        object.setReferenceSet(
          member,
          object.getReferenceSet(member).filter((id) => !removed.has(id)),
        );
      };
    default:
      return (object, value) => {
        object.setReferenceSet(member, ids(value));
      };
  }
}

interface MemberChanges {
  readonly evaluators: readonly Evaluator[];
  readonly setters: readonly Apply[];
  readonly sync: boolean;
}

function memberChanges(members: readonly MemberChange[], model: CompiledModel): MemberChanges {
  const evaluators = members.map((m) => evaluator(m.value));
  return {
    evaluators,
    setters: members.map((m) => memberSetter(m, model)),
    sync: evaluators.every((e) => e.sync),
  };
}

function applyChanges(object: MxObject, changes: MemberChanges, values: readonly MxValue[]): void {
  for (let i = 0; i < values.length; i++) (changes.setters[i] as Apply)(object, values[i] ?? null);
}

async function commitAsOption(uow: UnitOfWork, object: MxObject, option: CommitOption): Promise<void> {
  if (option === 'no') return;
  await uow.commit([object], { events: option === 'yes' });
}

export const createNode: NodeBuilder<'create'> = (node, step, ctx) => {
  const changes = memberChanges(node.members, ctx.model);
  return async (frame) => {
    // Mendix: the object is made (after-create handlers run on its defaults), then the members are set.
    const object = await frame.uow.instantiate(node.entity);
    const values = await evaluateAll(changes.evaluators, frame);
    applyChanges(object, changes, values);
    frame.vars.set(node.output, object);
    await commitAsOption(frame.uow, object, node.commit);
    if (node.refreshInClient) refreshInClient(frame.run, [object]);
    return step.next;
  };
};

export const changeNode: NodeBuilder<'change'> = (node, step, ctx) => {
  const changes = memberChanges(node.members, ctx.model);
  const finish = (frame: Frame, object: MxObject, values: readonly MxValue[]): Next | Promise<Next> => {
    // All values are evaluated before any is set, so a failing expression leaves the object as it was.
    applyChanges(object, changes, values);
    if (node.refreshInClient) refreshInClient(frame.run, [object]);
    if (node.commit === 'no') return step.next;
    return commitAsOption(frame.uow, object, node.commit).then(() => step.next);
  };
  return (frame) => {
    const object = objectIn(frame, node.variable);
    const values = evaluateAll(changes.evaluators, frame);
    return values instanceof Promise
      ? values.then((v) => finish(frame, object, v))
      : finish(frame, object, values);
  };
};

export const retrieveNode: NodeBuilder<'retrieve'> = (node, step) => {
  if (node.source === 'association') {
    const single = node.outputType.kind === 'Object';
    return async (frame) => {
      const from = frame.vars.get(node.variable);
      if (from === null || from === undefined) {
        frame.vars.set(node.output, single ? null : []);
        return step.next;
      }
      const found = await frame.uow.retrieveByAssociation(from as MxObject, node.association);
      frame.vars.set(node.output, single ? (found[0] ?? null) : [...found]);
      return step.next;
    };
  }
  const range = node.range;
  const offset = range.kind === 'custom' && range.offset !== undefined ? evaluator(range.offset) : undefined;
  const amount = range.kind === 'custom' && range.amount !== undefined ? evaluator(range.amount) : undefined;
  const first = range.kind === 'first';
  return async (frame) => {
    const query: {
      -readonly [K in keyof RetrieveQuery]: RetrieveQuery[K];
    } = { entity: node.entity, variables: frame.vars, sort: node.sort };
    if (node.xpath !== undefined) query.xpath = node.xpath;
    if (first) query.amount = 1;
    if (offset !== undefined) query.offset = toCount(await offset(frame), 'offset');
    if (amount !== undefined) {
      const n = toCount(await amount(frame), 'amount');
      // Mendix: an amount of 0 means all objects.
      if (n > 0) query.amount = n;
    }
    const result = await frame.uow.retrieve(query);
    frame.vars.set(node.output, first ? (result.objects[0] ?? null) : [...result.objects]);
    return step.next;
  };
};

export const commitNode: NodeBuilder<'commit'> = (node, step) => async (frame) => {
  const objects = objectsIn(frame, node.variable);
  if (objects.length > 0) await frame.uow.commit(objects, { events: node.withEvents });
  if (node.refreshInClient) refreshInClient(frame.run, objects);
  return step.next;
};

export const deleteNode: NodeBuilder<'delete'> = (node, step) => async (frame) => {
  const objects = objectsIn(frame, node.variable);
  if (objects.length > 0) await frame.uow.delete(objects);
  if (node.refreshInClient) refreshInClient(frame.run, objects);
  return step.next;
};

export const rollbackNode: NodeBuilder<'rollback'> = (node, step) => async (frame) => {
  const objects = objectsIn(frame, node.variable);
  if (objects.length > 0) await frame.uow.rollback(objects);
  if (node.refreshInClient) refreshInClient(frame.run, objects);
  return step.next;
};

export const castNode: NodeBuilder<'cast'> = (node, step, ctx) => (frame) => {
  const object = objectIn(frame, node.variable);
  if (!entityIsA(ctx.model.schema, object.entity, node.entity)) {
    throw engineError(
      MicroflowErrorCode.FlowInvalid,
      `$${node.variable} is a ${object.entity}, which cannot be cast to ${node.entity}.`,
      { details: { entity: object.entity, target: node.entity } },
    );
  }
  frame.vars.set(node.output, object);
  return step.next;
};
