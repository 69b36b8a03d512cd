import { randomBytes, scryptSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '@runplane/errors';
import { Decimal } from '@runplane/expressions';
import type {
  EntityEvent,
  EntityEventRunner,
  MxObject,
  RunplaneDatabase,
  RunplaneUnitOfWork,
} from '../src/index.js';
import { BACKENDS } from './support/databases.js';
import { SYSTEM_CONTEXT, exampleModel, suiteDatabase, userContext } from './support/fixtures.js';
import { seedOrders, type OrdersData } from './support/orders-data.js';

/**
 * Records every event call; answers false for objects named in `refuse`, and, as the
 * microflow engine does for a handler that raises on false, throws for those in `raise`.
 */
class RecordingRunner implements EntityEventRunner {
  readonly calls: string[] = [];
  readonly refuse = new Set<string>();
  readonly raise = new Set<string>();

  run(
    moment: 'before' | 'after',
    event: EntityEvent,
    objects: readonly MxObject[],
  ): Promise<readonly boolean[]> {
    this.calls.push(`${moment} ${event} ${objects.map((o) => o.entity.split('.')[1] ?? '').join(',')}`);
    const raised = objects.find((o) => this.raise.has(o.id));
    if (raised !== undefined) {
      return Promise.reject(
        new UserError({ code: 'EVENT_HANDLER_REFUSED', message: `refused ${event} of ${raised.entity}` }),
      );
    }
    return Promise.resolve(objects.map((o) => !this.refuse.has(o.id)));
  }
}

async function count(db: RunplaneDatabase, entity: string, xpath?: string): Promise<bigint> {
  return (await db.transaction(SYSTEM_CONTEXT, (uow) =>
    uow.aggregate({ entity, function: 'count', ...(xpath === undefined ? {} : { xpath }) }),
  )) as bigint;
}

async function newProduct(uow: RunplaneUnitOfWork, code: string): Promise<MxObject> {
  const p = await uow.instantiate('Sales.Product');
  p.set('Code', code);
  p.set('Name', `Product ${code}`);
  return p;
}

describe.each(BACKENDS)('units of work on %s', (backend) => {
  const suite = suiteDatabase(backend, 'uow', () => exampleModel('orders'));
  let data: OrdersData;
  beforeAll(async () => {
    data = await seedOrders(suite.db);
  });

  describe('transactions', () => {
    it('keeps changes to itself until complete, and stores them then', async () => {
      const uow = suite.db.unitOfWork(SYSTEM_CONTEXT);
      try {
        await uow.commit([await newProduct(uow, 'TX-1')]);
        await uow.complete();
      } finally {
        await uow.close();
      }
      expect(await count(suite.db, 'Sales.Product', "[Code = 'TX-1']")).toBe(1n);
    });

    it('aborts: the database forgets the work and the objects go back to their state before it; the unit of work goes on', async () => {
      const uow = suite.db.unitOfWork(SYSTEM_CONTEXT);
      try {
        const fresh = await newProduct(uow, 'TX-2');
        const [gadget] = await uow.retrieveByIds([data.products.gadget]);
        if (gadget === undefined) throw new TypeError('missing');
        gadget.set('Name', 'Renamed');
        await uow.commit([fresh, gadget]);
        expect([fresh.state, gadget.changedMembers.size]).toEqual(['stored', 0]);
        await uow.abort();
        expect([fresh.state, fresh.get('Code')]).toEqual(['new', 'TX-2']);
        expect([gadget.get('Name'), [...gadget.changedMembers]]).toEqual(['Renamed', ['Name']]);
        expect(uow.find(fresh.id)).toBe(fresh);
        expect(await count(suite.db, 'Sales.Product', "[Code = 'TX-2']")).toBe(0n);
        await uow.commit([fresh]);
        await uow.complete();
      } finally {
        await uow.close();
      }
      expect(await count(suite.db, 'Sales.Product', "[Code = 'TX-2']")).toBe(1n);
      expect(await count(suite.db, 'Sales.Product', "[Name = 'Renamed']")).toBe(0n);
    });

    it('closes once, rolling back what is open, and refuses work afterwards', async () => {
      const uow = suite.db.unitOfWork(SYSTEM_CONTEXT);
      await uow.commit([await newProduct(uow, 'TX-3')]);
      await uow.close();
      await uow.close();
      expect(await count(suite.db, 'Sales.Product', "[Code = 'TX-3']")).toBe(0n);
      await expect(uow.retrieve({ entity: 'Sales.Product' })).rejects.toMatchObject({
        code: 'UNIT_OF_WORK_CLOSED',
      });
    });

    it('rolls back to a savepoint: the work since is undone and the objects are as they were', async () => {
      await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const kept = await newProduct(uow, 'SP-1');
        await uow.commit([kept]);
        const savepoint = await uow.savepoint();
        const dropped = await newProduct(uow, 'SP-2');
        kept.set('Name', 'Changed after the savepoint');
        await uow.commit([dropped, kept]);
        await savepoint.rollback();
        expect([dropped.state, uow.find(dropped.id)]).toEqual(['new', undefined]);
        expect([kept.state, kept.get('Name')]).toEqual(['stored', 'Product SP-1']);
        const inner = await uow.savepoint();
        const released = await newProduct(uow, 'SP-3');
        await uow.commit([released]);
        await inner.release();
      });
      expect(await count(suite.db, 'Sales.Product', "[starts-with(Code, 'SP-')]")).toBe(2n);
      expect(await count(suite.db, 'Sales.Product', "[Code = 'SP-2']")).toBe(0n);
    });

    it('keeps earlier work of the transaction when a later commit fails in the database', async () => {
      await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        await uow.commit([await newProduct(uow, 'FAIL-1')]);
        await expect(uow.commit([await newProduct(uow, 'W-1')])).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
        await uow.commit([await newProduct(uow, 'FAIL-2')]);
      });
      expect(await count(suite.db, 'Sales.Product', "[starts-with(Code, 'FAIL-')]")).toBe(2n);
    });

    it('locks objects by id to the end of its transaction: a second locker waits, then reads the first one’s work', async () => {
      const a = suite.db.unitOfWork(SYSTEM_CONTEXT);
      const b = suite.db.unitOfWork(SYSTEM_CONTEXT);
      try {
        const [mine] = await a.lockByIds([data.products.gadget], 'Sales.Product');
        if (mine === undefined) throw new TypeError('missing');
        let waited = true;
        const second = b.lockByIds([data.products.gadget]).then((objects) => {
          waited = false;
          return objects;
        });
        await new Promise((r) => setTimeout(r, 150));
        expect(waited).toBe(true);
        mine.set('Name', 'Locked by A');
        await a.commit([mine]);
        await a.complete();
        await a.close();
        const [theirs] = await second;
        expect(theirs?.get('Name')).toBe('Locked by A');
        expect(await b.lockByIds(['not-an-id', data.products.gadget])).toHaveLength(1);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('claims an idempotency key once, and a rolled-back claim can be made again', async () => {
      const key = `task-${backend}-1`;
      const uow = suite.db.unitOfWork(SYSTEM_CONTEXT);
      try {
        expect(await uow.claimIdempotencyKey(key)).toBe(true);
        await uow.abort();
        expect(await uow.claimIdempotencyKey(key)).toBe(true);
        await uow.complete();
        expect(await uow.claimIdempotencyKey(key)).toBe(false);
      } finally {
        await uow.close();
      }
      expect(await suite.db.transaction(SYSTEM_CONTEXT, (u) => u.claimIdempotencyKey(key))).toBe(false);
    });
  });

  describe('rollback of objects', () => {
    it('gives stored objects their stored values back and forgets new ones', async () => {
      await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const [widget] = await uow.retrieveByIds([data.products.widget]);
        if (widget === undefined) throw new TypeError('missing');
        widget.set('Price', new Decimal('99'));
        const fresh = await newProduct(uow, 'RB-1');
        await uow.rollback([widget, fresh]);
        expect((widget.get('Price') as Decimal).toFixed()).toBe('10');
        expect(widget.changedMembers.size).toBe(0);
        expect(uow.find(fresh.id)).toBeUndefined();
        expect(uow.pendingState().objects).toEqual([]);
      });
    });
  });

  describe('the client state round trip', () => {
    it('hands back new objects in full and changed stored objects as deltas, with what the user may not change', async () => {
      const alice = userContext(data.users.alice, ['Customer']);
      const state = await suite.db.transaction(alice, async (uow) => {
        const order = await uow.instantiate('Sales.Order');
        order.set('Note', 'Please gift wrap');
        order.setReference('Sales.Order_Customer', data.users.alice);
        const [draft] = await uow.retrieveByIds([data.orders.aliceDraft]);
        draft?.set('Note', 'Leave at the door');
        return uow.pendingState();
      });
      const [fresh, changed] = state.objects;
      expect(fresh).toMatchObject({
        entity: 'Sales.Order',
        state: 'new',
        members: { Note: 'Please gift wrap', Status: 'Draft' },
      });
      expect(fresh?.readOnlyMembers).toEqual(expect.arrayContaining(['Status', 'Total', 'Number']));
      expect(fresh?.readOnlyMembers).not.toContain('Note');
      expect(changed).toEqual({
        id: data.orders.aliceDraft,
        entity: 'Sales.Order',
        state: 'stored',
        members: { Note: 'Leave at the door' },
        readOnlyMembers: expect.arrayContaining(['Status']) as unknown,
      });
      await suite.db.transaction(alice, async (uow) => {
        await uow.restore(state);
        const restored = uow.find(fresh?.id ?? '');
        expect([restored?.state, restored?.get('Note')]).toEqual(['new', 'Please gift wrap']);
        expect(uow.find(data.orders.aliceDraft)?.get('Note')).toBe('Leave at the door');
        await uow.commit(
          [restored, uow.find(data.orders.aliceDraft)].filter((o): o is MxObject => o !== undefined),
        );
      });
      const notes = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) =>
        (await uow.retrieveByIds([fresh?.id ?? '', data.orders.aliceDraft])).map((o) => o.get('Note')),
      );
      expect(notes).toEqual(['Please gift wrap', 'Leave at the door']);
    });

    it('refuses a restored change to a member the user may not write, and creating what the user may not create', async () => {
      const alice = userContext(data.users.alice, ['Customer']);
      await suite.db.transaction(alice, async (uow) => {
        await expect(
          uow.restore({
            objects: [
              {
                id: data.orders.aliceDraft,
                entity: 'Sales.Order',
                state: 'stored',
                members: { Status: 'Approved' },
                readOnlyMembers: [],
              },
            ],
          }),
        ).rejects.toMatchObject({ code: 'MEMBER_NOT_WRITABLE' });
        await expect(
          uow.restore({
            objects: [
              {
                id: crypto.randomUUID(),
                entity: 'Sales.Product',
                state: 'new',
                members: { Code: 'X' },
                readOnlyMembers: [],
              },
            ],
          }),
        ).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
        await uow.restore({
          objects: [
            {
              id: data.orders.aliceDraft,
              entity: 'Sales.Order',
              state: 'stored',
              members: { Status: 'Draft' },
              readOnlyMembers: [],
            },
          ],
        });
      });
    });
  });

  describe('events', () => {
    it('runs before-handlers for every object, then writes, then after-handlers, as Mendix does for a list', async () => {
      const runner = new RecordingRunner();
      await suite.db.transaction(
        SYSTEM_CONTEXT,
        async (uow) => {
          const p = await newProduct(uow, 'EV-1');
          const q = await newProduct(uow, 'EV-2');
          await uow.commit([p, q]);
          await uow.commit([await newProduct(uow, 'EV-3')], { events: false });
        },
        runner,
      );
      expect(runner.calls).toEqual([
        'before create Product',
        'after create Product',
        'before create Product',
        'after create Product',
        'before commit Product,Product',
        'after commit Product,Product',
        'before create Product',
        'after create Product',
      ]);
    });

    it('skips an object a before-handler says no to, and writes the others of the list', async () => {
      const runner = new RecordingRunner();
      await suite.db.transaction(
        SYSTEM_CONTEXT,
        async (uow) => {
          const [draft, placed] = await uow.retrieveByIds([data.orders.aliceDraft, data.orders.alicePlaced]);
          if (draft === undefined || placed === undefined) throw new TypeError('missing');
          runner.refuse.add(draft.id);
          draft.set('Note', 'refused');
          placed.set('Note', 'accepted');
          await uow.commit([draft, placed]);
          expect(draft.changedMembers.has('Note')).toBe(true);
          expect(placed.changedMembers.has('Note')).toBe(false);
        },
        runner,
      );
      const notes = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) =>
        (await uow.retrieveByIds([data.orders.aliceDraft, data.orders.alicePlaced])).map((o) =>
          o.get('Note'),
        ),
      );
      expect(notes).not.toContain('refused');
      expect(notes).toContain('accepted');
    });

    it('writes nothing of a list when the runner raises for a refusing handler', async () => {
      const runner = new RecordingRunner();
      await suite.db.transaction(
        SYSTEM_CONTEXT,
        async (uow) => {
          const [draft, placed] = await uow.retrieveByIds([data.orders.aliceDraft, data.orders.alicePlaced]);
          if (draft === undefined || placed === undefined) throw new TypeError('missing');
          runner.raise.add(draft.id);
          draft.set('Note', 'raised');
          placed.set('Note', 'raised too');
          await expect(uow.commit([draft, placed])).rejects.toMatchObject({ code: 'EVENT_HANDLER_REFUSED' });
          expect(draft.changedMembers.has('Note')).toBe(true);
          expect(placed.changedMembers.has('Note')).toBe(true);
        },
        runner,
      );
      const notes = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) =>
        (await uow.retrieveByIds([data.orders.aliceDraft, data.orders.alicePlaced])).map((o) =>
          o.get('Note'),
        ),
      );
      expect(notes).not.toContain('raised');
      expect(notes).not.toContain('raised too');
    });

    it('runs delete handlers for the objects deleted along with one', async () => {
      const runner = new RecordingRunner();
      const uow = suite.db.unitOfWork(SYSTEM_CONTEXT, runner);
      try {
        const [order] = await uow.retrieveByIds([data.orders.alicePlaced]);
        if (order === undefined) throw new TypeError('missing');
        await uow.delete([order]);
      } finally {
        await uow.close();
      }
      expect(runner.calls).toEqual([
        'before delete Order',
        'before delete OrderLine,Invoice',
        'after delete Order,OrderLine,Invoice',
      ]);
    });
  });

  describe('hashed strings', () => {
    it('hashes a text on commit, keeps a hash made elsewhere as it is, and verifies either', async () => {
      // A hash in the stored form, as the identity package's password hasher writes it.
      const salt = randomBytes(16);
      const key = scryptSync('made elsewhere', salt, 32, { N: 1024, r: 8, p: 1 });
      const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
      const external = `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(key)}`;
      const ids = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const own = await uow.instantiate('System.User');
        own.set('Name', `hashed-${backend}`);
        own.set('Password', 'first secret');
        const imported = await uow.instantiate('System.User');
        imported.set('Name', `imported-${backend}`);
        imported.set('Password', external);
        await uow.commit([own, imported]);
        return [own.id, imported.id];
      });
      await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const [own, imported] = await uow.retrieveByIds(ids);
        if (own === undefined || imported === undefined) throw new TypeError('missing');
        expect(await uow.verifyHashedString(own, 'Password', 'first secret')).toBe(true);
        expect(await uow.verifyHashedString(own, 'Password', 'wrong')).toBe(false);
        expect(await uow.verifyHashedString(imported, 'Password', 'made elsewhere')).toBe(true);
        expect(await uow.verifyHashedString(imported, 'Password', external)).toBe(false);
        own.set('Password', 'second secret');
        expect(await uow.verifyHashedString(own, 'Password', 'second secret')).toBe(true);
      });
    });
  });
});
