/**
 * A table-driven check of entity access: for one role and one entity, every operation —
 * read (XPath retrieve), by id, a crafted XPath, over an association, aggregate, reading and
 * writing each member, create and delete — against what the row says the rules allow.
 */
import { expect } from 'vitest';
import type { CompiledModel } from '@runplane/model';
import type { MxObject, RunplaneDatabase, RunplaneUnitOfWork, UserContext } from '../../src/index.js';
import { SYSTEM_CONTEXT } from './fixtures.js';

/** What one role may do with one entity. */
export interface AccessCell {
  readonly role: string;
  readonly entity: string;
  /** Ids of the objects of the entity (specialisations included) the role sees. */
  readonly visible: readonly string[];
  /** Members the role may read on the visible objects ('all', or the names). */
  readonly readable: 'all' | readonly string[];
  /** Members the role may write on the visible objects ('all' writable ones, or the names). */
  readonly writable: 'all' | readonly string[];
  readonly create: boolean;
  /** Ids of visible objects the role may delete (the others are refused). */
  readonly deletable: readonly string[];
  /** An association to reach objects of the entity: from an object (read in the system view) over it. */
  readonly via?: { readonly from: string; readonly association: string; readonly reaches: readonly string[] };
}

/** Every member of an entity: attributes, associations it owns, system associations. */
export function membersOf(model: CompiledModel, entity: string): string[] {
  const e = model.entities.get(entity);
  if (e === undefined) throw new TypeError(`no entity ${entity}`);
  const lineage = [entity, ...e.generalizations];
  const owned = [...model.associations.values()]
    .filter((a) => lineage.includes(a.owner) || (a.ownership === 'both' && lineage.includes(a.target)))
    .map((a) => a.name);
  const system: string[] = [];
  for (const name of lineage) {
    const g = model.entities.get(name);
    if (g?.system.owner === true) system.push('System.owner');
    if (g?.system.changedBy === true) system.push('System.changedBy');
  }
  return [...e.allAttributes.keys(), ...owned, ...new Set(system)];
}

/** Members nobody writes: AutoNumbers, system members, calculated attributes. */
export function serverSetOf(model: CompiledModel, entity: string): string[] {
  const e = model.entities.get(entity);
  const attributes = [...(e?.allAttributes.values() ?? [])]
    .filter((a) => a.kind === 'AutoNumber' || a.system || a.calculatedBy !== undefined)
    .map((a) => a.name);
  return [...attributes, 'System.owner', 'System.changedBy'];
}

async function codeOf(work: () => unknown): Promise<string | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** Runs `work` in a unit of work of the user that is rolled back afterwards. */
export async function asUser<T>(
  db: RunplaneDatabase,
  user: UserContext,
  work: (uow: RunplaneUnitOfWork) => Promise<T>,
): Promise<T> {
  const uow = db.unitOfWork(user);
  try {
    return await work(uow);
  } finally {
    await uow.close();
  }
}

/** Checks every operation of one cell. */
export async function checkCell(
  db: RunplaneDatabase,
  model: CompiledModel,
  user: UserContext,
  cell: AccessCell,
): Promise<void> {
  const all = await asUser(db, SYSTEM_CONTEXT, async (uow) =>
    (await uow.retrieve({ entity: cell.entity })).objects.map((o) => o.id),
  );
  const visible = [...cell.visible].sort();
  const invisible = all.filter((id) => !cell.visible.includes(id));
  const serverSet = serverSetOf(model, cell.entity);

  await asUser(db, user, async (uow) => {
    // read: an XPath retrieve without a constraint, with a count
    const read = await uow.retrieve({ entity: cell.entity, count: true });
    expect(read.objects.map((o) => o.id).sort(), 'read').toEqual(visible);
    expect(read.count, 'read count').toBe(visible.length);

    // by id: invisible ids are left out
    const byId = await uow.retrieveByIds(all, cell.entity);
    expect(byId.map((o) => o.id).sort(), 'by id').toEqual(visible);
    expect(await uow.retrieveByIds(invisible), 'by id without the entity').toEqual([]);

    // a crafted XPath naming invisible objects finds none of them
    for (const id of invisible) {
      const crafted = await uow.retrieve({ entity: cell.entity, xpath: `[id = '${id}' or id != '${id}']` });
      expect(
        crafted.objects.map((o) => o.id),
        'crafted XPath',
      ).not.toContain(id);
    }

    // aggregate: counts only what is visible
    expect(await uow.aggregate({ entity: cell.entity, function: 'count' }), 'aggregate').toBe(
      BigInt(visible.length),
    );

    // members: readable ones read, the others refuse; writable ones take a value, the others refuse
    for (const object of read.objects) {
      // 'all' means every member of the object's own entity (a specialisation has more).
      const ownMembers = membersOf(model, object.entity);
      const readable = cell.readable === 'all' ? ownMembers : cell.readable;
      const writable = (cell.writable === 'all' ? ownMembers : cell.writable).filter(
        (m) => !serverSet.includes(m),
      );
      for (const member of ownMembers) {
        expect(object.canRead(member), `can read ${member}`).toBe(readable.includes(member));
        expect(object.canWrite(member), `can write ${member}`).toBe(writable.includes(member));
      }
      const snapshot = uow.snapshot(object);
      const attributes = model.entities.get(object.entity)?.allAttributes;
      const shown = readable.filter(
        (m) => attributes?.get(m)?.kind !== 'HashedString' && ownMembers.includes(m),
      );
      expect(Object.keys(snapshot.members).sort(), 'snapshot members').toEqual([...shown].sort());
      await checkMemberWrites(object, model, ownMembers, readable, writable);
    }

    // create
    expect(await codeOf(() => uow.instantiate(cell.entity)), 'create').toBe(
      cell.create ? undefined : 'ACCESS_DENIED',
    );
  });

  // over an association: only visible objects come back
  if (cell.via !== undefined) {
    const via = cell.via;
    await asUser(db, user, async (uow) => {
      const [from] = await uow.asSystem().retrieveByIds([via.from]);
      if (from === undefined) throw new TypeError(`no object ${via.from}`);
      const reached = await uow.retrieveByAssociation(from, via.association);
      const expected = via.reaches.filter((id) => cell.visible.includes(id)).sort();
      expect(reached.map((o) => o.id).sort(), 'over association').toEqual(expected);
    });
  }

  // delete: each visible object, in a unit of work that is rolled back
  for (const id of visible) {
    const code = await asUser(db, user, async (uow) => {
      const [object] = await uow.retrieveByIds([id], cell.entity);
      if (object === undefined) throw new TypeError(`cannot see ${id}`);
      return codeOf(() => uow.delete([object]));
    });
    if (cell.deletable.includes(id)) expect(code, `delete ${id}`).not.toBe('ACCESS_DENIED');
    else expect(code, `delete ${id}`).toBe('ACCESS_DENIED');
  }
}

async function checkMemberWrites(
  object: MxObject,
  model: CompiledModel,
  members: readonly string[],
  readable: readonly string[],
  writable: readonly string[],
): Promise<void> {
  const attributes = model.entities.get(object.entity)?.allAttributes;
  for (const member of members) {
    const attribute = attributes?.get(member);
    if (!readable.includes(member)) {
      const read = await codeOf(() =>
        attribute !== undefined
          ? object.get(member)
          : model.associations.get(member)?.type === 'ReferenceSet'
            ? object.getReferenceSet(member)
            : object.getReference(member),
      );
      expect(read, `read ${member}`).toBe('MEMBER_NOT_READABLE');
    }
    if (attribute === undefined) {
      const isSet = model.associations.get(member)?.type === 'ReferenceSet';
      const write = await codeOf(() => {
        if (isSet) object.setReferenceSet(member, []);
        else object.setReference(member, null);
      });
      expect(write, `write ${member}`).toBe(writable.includes(member) ? undefined : 'MEMBER_NOT_WRITABLE');
      continue;
    }
    const current = readable.includes(member) ? object.get(member) : null;
    const write = await codeOf(() => {
      object.set(member, attribute.kind === 'Boolean' ? (current ?? false) : current);
    });
    expect(write, `write ${member}`).toBe(writable.includes(member) ? undefined : 'MEMBER_NOT_WRITABLE');
  }
}
