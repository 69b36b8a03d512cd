import { beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '@runplane/expressions';
import type { RunplaneDatabase, RunplaneUnitOfWork } from '../src/index.js';
import { BACKENDS } from './support/databases.js';
import { SYSTEM_CONTEXT, exampleModel, suiteDatabase } from './support/fixtures.js';
import { seedOrders, type OrdersData } from './support/orders-data.js';

/** Runs `work` in a unit of work that is rolled back afterwards, so the data set stays as seeded. */
async function inRolledBack<T>(
  db: RunplaneDatabase,
  work: (uow: RunplaneUnitOfWork) => Promise<T>,
): Promise<T> {
  const uow = db.unitOfWork(SYSTEM_CONTEXT);
  try {
    return await work(uow);
  } finally {
    await uow.close();
  }
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new TypeError('expected a failure');
}

describe.each(BACKENDS)('the orders example on %s', (backend) => {
  const suite = suiteDatabase(backend, 'orders', () => exampleModel('orders'));
  let data: OrdersData;
  beforeAll(async () => {
    data = await seedOrders(suite.db);
  });

  it('has the schema TypeORM derives from the model’s EntitySchemas, nothing more or less', async () => {
    expect(await suite.db.schemaDrift()).toEqual([]);
  });

  describe('associations', () => {
    it('follows a reference from its owner to its target', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [order] = await uow.retrieveByIds([data.orders.aliceDraft]);
        if (order === undefined) throw new TypeError('missing order');
        const customers = await uow.retrieveByAssociation(order, 'Sales.Order_Customer');
        expect(customers.map((c) => [c.id, c.entity, c.get('Name')])).toEqual([
          [data.users.alice, 'Sales.Customer', 'alice'],
        ]);
      });
    });

    it('follows a reference back from its target, seeing the request’s uncommitted changes', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [alice] = await uow.retrieveByIds([data.users.alice]);
        if (alice === undefined) throw new TypeError('missing customer');
        const before = await uow.retrieveByAssociation(alice, 'Sales.Order_Customer');
        expect(before.map((o) => o.id).sort()).toEqual(
          [data.orders.aliceDraft, data.orders.alicePlaced].sort(),
        );
        const [bobs] = await uow.retrieveByIds([data.orders.bobPlaced]);
        bobs?.setReference('Sales.Order_Customer', data.users.alice);
        const fresh = await uow.instantiate('Sales.Order');
        fresh.setReference('Sales.Order_Customer', data.users.alice);
        const [draft] = await uow.retrieveByIds([data.orders.aliceDraft]);
        draft?.setReference('Sales.Order_Customer', data.users.bob);
        const after = await uow.retrieveByAssociation(alice, 'Sales.Order_Customer');
        expect(after.map((o) => o.id).sort()).toEqual(
          [data.orders.alicePlaced, data.orders.bobPlaced, fresh.id].sort(),
        );
      });
    });

    it('retrieves by XPath over an association path with a variable', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [alice] = await uow.retrieveByIds([data.users.alice]);
        const lines = await uow.retrieve({
          entity: 'Sales.OrderLine',
          xpath: '[Sales.OrderLine_Order/Sales.Order/Sales.Order_Customer = $customer]',
          variables: new Map([['customer', alice ?? null]]),
        });
        expect(lines.objects.map((l) => l.id).sort()).toEqual(
          [data.lines.aliceDraft, data.lines.alicePlaced].sort(),
        );
      });
    });

    it('never sees uncommitted changes in an XPath retrieve, as in Mendix', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [draft] = await uow.retrieveByIds([data.orders.aliceDraft]);
        draft?.set('Status', 'Approved');
        const approved = await uow.retrieve({ entity: 'Sales.Order', xpath: "[Status = 'Approved']" });
        expect(approved.objects).toEqual([]);
        const drafts = await uow.retrieve({ entity: 'Sales.Order', xpath: "[Status = 'Draft']" });
        expect(drafts.objects.map((o) => [o.id, o.get('Status')])).toEqual([
          [data.orders.aliceDraft, 'Draft'],
        ]);
        expect(uow.find(data.orders.aliceDraft)?.get('Status')).toBe('Approved');
      });
    });

    it('reads the other side of a one-to-one association owned by both', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [order] = await uow.retrieveByIds([data.orders.alicePlaced]);
        if (order === undefined) throw new TypeError('missing order');
        expect(order.getReference('Sales.Invoice_Order')).toBe(data.invoice);
        const invoices = await uow.retrieveByAssociation(order, 'Sales.Invoice_Order');
        expect(invoices.map((i) => [i.entity, i.get('InvoiceNumber')])).toEqual([['Sales.Invoice', 'INV-1']]);
      });
    });
  });

  describe('delete behaviour', () => {
    it('deletes the lines and the invoice of a deleted order', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [order] = await uow.retrieveByIds([data.orders.alicePlaced]);
        if (order === undefined) throw new TypeError('missing order');
        await uow.delete([order]);
        expect(order.state).toBe('deleted');
        expect(
          await uow.retrieveByIds([data.lines.alicePlaced, data.invoice, data.orders.alicePlaced]),
        ).toEqual([]);
        const left = await uow.retrieve({ entity: 'Sales.OrderLine' });
        expect(left.objects.map((l) => l.id).sort()).toEqual(
          [data.lines.aliceDraft, data.lines.bobPlaced].sort(),
        );
      });
    });

    it('refuses to delete a customer who has orders, with the model’s message', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [alice] = await uow.retrieveByIds([data.users.alice]);
        if (alice === undefined) throw new TypeError('missing customer');
        const error = await failure(uow.delete([alice]));
        expect(error.code).toBe('DELETE_PREVENTED');
        expect(error.message).toBe('This customer still has orders.');
        expect(alice.state).toBe('stored');
        expect(await uow.retrieveByIds([data.users.alice])).toHaveLength(1);
      });
    });

    it('refuses to delete a product on order lines, and allows it once the lines are gone', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const [widget] = await uow.retrieveByIds([data.products.widget]);
        if (widget === undefined) throw new TypeError('missing product');
        const error = await failure(uow.delete([widget]));
        expect(error.code).toBe('DELETE_PREVENTED');
        expect(error.message).toBe('This product is on orders; deactivate it instead.');
        const lines = await uow.retrieveByAssociation(widget, 'Sales.OrderLine_Product');
        await uow.delete(lines);
        await uow.delete([widget]);
        expect(await uow.retrieveByIds([data.products.widget])).toEqual([]);
      });
    });

    it('deletes a customer with no orders, and the database agrees with the delete behaviour', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const carol = await uow.instantiate('Sales.Customer');
        carol.set('Name', 'carol');
        carol.set('Email', 'carol@example.com');
        await uow.commit([carol]);
        await uow.delete([carol]);
        expect(await uow.retrieve({ entity: 'System.User', xpath: "[Name = 'carol']" })).toMatchObject({
          objects: [],
        });
      });
    });
  });

  describe('aggregates', () => {
    it('counts, sums, averages and finds the extremes, with XPath', async () => {
      await inRolledBack(suite.db, async (uow) => {
        expect(await uow.aggregate({ entity: 'Sales.Order', function: 'count' })).toBe(3n);
        expect(
          await uow.aggregate({ entity: 'Sales.Order', function: 'count', xpath: "[Status = 'Placed']" }),
        ).toBe(2n);
        const sum = (await uow.aggregate({
          entity: 'Sales.Order',
          function: 'sum',
          attribute: 'Total',
        })) as Decimal;
        expect(sum.toFixed()).toBe('91');
        const average = (await uow.aggregate({
          entity: 'Sales.Order',
          function: 'average',
          attribute: 'Total',
        })) as Decimal;
        expect(average.toFixed()).toBe('30.33333333333333333333333333333333');
        const min = (await uow.aggregate({
          entity: 'Sales.Product',
          function: 'minimum',
          attribute: 'Price',
        })) as Decimal;
        const max = (await uow.aggregate({
          entity: 'Sales.Product',
          function: 'maximum',
          attribute: 'Price',
        })) as Decimal;
        expect([min.toFixed(), max.toFixed()]).toEqual(['5', '25.5']);
        expect(
          await uow.aggregate({ entity: 'Sales.OrderLine', function: 'sum', attribute: 'Quantity' }),
        ).toBe(6n);
        expect(
          await uow.aggregate({
            entity: 'Sales.Product',
            function: 'maximum',
            attribute: 'Stock',
            xpath: '[Price > 1000]',
          }),
        ).toBeNull();
        const empty = (await uow.aggregate({
          entity: 'Sales.Order',
          function: 'sum',
          attribute: 'Total',
          xpath: "[Status = 'Closed']",
        })) as Decimal;
        expect(empty.toFixed()).toBe('0');
      });
    });

    it('refuses an average of a text attribute', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const error = await failure(
          uow.aggregate({ entity: 'Sales.Product', function: 'average', attribute: 'Name' }),
        );
        expect(error.code).toBe('INVALID_AGGREGATE');
      });
    });
  });

  describe('paging and sorting', () => {
    it('sorts on several attributes, breaks ties by id and pages with offset, amount and a count', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const names = ['Bolt', 'Anchor', 'Clamp', 'Anchor', 'Drill', 'Bolt', 'Anchor'];
        for (const [i, name] of names.entries()) {
          const p = await uow.instantiate('Sales.Product');
          p.set('Code', `PG-${i}`);
          p.set('Name', name);
          p.set('Price', new Decimal(i % 3));
          await uow.commit([p]);
        }
        const sort = [
          { attribute: 'Name', descending: false },
          { attribute: 'Price', descending: true },
        ];
        const all = await uow.retrieve({
          entity: 'Sales.Product',
          xpath: "[starts-with(Code, 'PG-')]",
          sort,
        });
        const keys = all.objects.map(
          (o) => `${o.get('Name') as string}/${(o.get('Price') as Decimal).toFixed()}`,
        );
        expect(keys).toEqual(['Anchor/1', 'Anchor/0', 'Anchor/0', 'Bolt/2', 'Bolt/0', 'Clamp/2', 'Drill/1']);
        const tied = [all.objects[1]?.id ?? '', all.objects[2]?.id ?? ''];
        expect(tied).toEqual([...tied].sort());
        const pages: string[] = [];
        for (let offset = 0; offset < 7; offset += 3) {
          const page = await uow.retrieve({
            entity: 'Sales.Product',
            xpath: "[starts-with(Code, 'PG-')]",
            sort,
            offset,
            amount: 3,
            count: true,
          });
          expect(page.count).toBe(7);
          pages.push(...page.objects.map((o) => o.id));
        }
        expect(pages).toEqual(all.objects.map((o) => o.id));
        const first = await uow.retrieve({
          entity: 'Sales.Product',
          xpath: "[starts-with(Code, 'PG-')]",
          sort,
          amount: 1,
        });
        expect(first.objects.map((o) => o.id)).toEqual([all.objects[0]?.id]);
      });
    });

    it('matches contains case-insensitively and treats LIKE wildcards as plain characters', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const p = await uow.instantiate('Sales.Product');
        p.set('Code', '100%_OFF');
        p.set('Name', 'Sale Item');
        await uow.commit([p]);
        const found = await uow.retrieve({ entity: 'Sales.Product', xpath: "[contains(Code, '0%_o')]" });
        expect(found.objects.map((o) => o.id)).toEqual([p.id]);
        const wildcard = await uow.retrieve({ entity: 'Sales.Product', xpath: "[contains(Code, '%')]" });
        expect(wildcard.objects.map((o) => o.id)).toEqual([p.id]);
        const named = await uow.retrieve({ entity: 'Sales.Product', xpath: "[contains(Name, 'GADG')]" });
        expect(named.objects.map((o) => o.id)).toEqual([data.products.gadget]);
      });
    });
  });

  describe('validation', () => {
    it('reports every broken rule at once, in rule order, and stores nothing', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const c = await uow.instantiate('Sales.Customer');
        c.set('Name', 'dave');
        c.set('Email', '   ');
        const o = await uow.instantiate('Sales.Order');
        o.set('Total', new Decimal('-1'));
        const error = await failure(uow.commit([c, o]));
        expect(error.code).toBe('VALIDATION_FAILED');
        const problems = error.details.problems as { objectId: string; member: string; message: string }[];
        expect(problems.map((p) => [p.objectId, p.member, p.message])).toEqual([
          [c.id, 'Email', 'An email address is required.'],
          [c.id, 'Email', 'This is not an email address.'],
          [o.id, 'Total', 'The total cannot be negative.'],
          [o.id, 'Sales.Order_Customer', 'An order belongs to a customer.'],
        ]);
        expect(c.state).toBe('new');
        expect(uow.validate([c, o])).toHaveLength(4);
      });
    });

    it('reports a taken unique value as a problem on the member, and the unit of work goes on', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const p = await uow.instantiate('Sales.Product');
        p.set('Code', 'W-1');
        p.set('Name', 'Copy');
        const error = await failure(uow.commit([p]));
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.details.problems).toEqual([
          {
            objectId: p.id,
            entity: 'Sales.Product',
            member: 'Code',
            message: 'Another product has this code.',
          },
        ]);
        p.set('Code', 'W-2');
        await uow.commit([p]);
        expect(p.state).toBe('stored');
      });
    });
  });

  describe('commits', () => {
    it('updates only the changed columns, so concurrent changes of other members survive', async () => {
      const first = suite.db.unitOfWork(SYSTEM_CONTEXT);
      const second = suite.db.unitOfWork(SYSTEM_CONTEXT);
      try {
        // Each reads in its own short transaction (PGlite has one connection for both).
        const [a] = await first.retrieveByIds([data.products.gadget]);
        await first.complete();
        const [b] = await second.retrieveByIds([data.products.gadget]);
        await second.complete();
        a?.set('Stock', 7n);
        b?.set('Description', 'Shiny');
        await first.commit(a === undefined ? [] : [a]);
        await first.complete();
        await second.commit(b === undefined ? [] : [b]);
        await second.complete();
      } finally {
        await first.close();
        await second.close();
      }
      const [read] = await suite.db.transaction(SYSTEM_CONTEXT, (uow) =>
        uow.retrieveByIds([data.products.gadget]),
      );
      expect([read?.get('Stock'), read?.get('Description')]).toEqual([7n, 'Shiny']);
    });

    it('commits a new object that a committed one refers to along with it', async () => {
      await inRolledBack(suite.db, async (uow) => {
        const p = await uow.instantiate('Sales.Product');
        p.set('Code', 'AUTO');
        p.set('Name', 'Autocommitted');
        const line = await uow.instantiate('Sales.OrderLine');
        line.setReference('Sales.OrderLine_Order', data.orders.aliceDraft);
        line.setReference('Sales.OrderLine_Product', p.id);
        await uow.commit([line]);
        expect([line.state, p.state]).toEqual(['stored', 'stored']);
      });
    });
  });
});
