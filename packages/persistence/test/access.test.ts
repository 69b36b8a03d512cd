import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledModel } from '@runplane/model';
import type { MxObject, RunplaneDatabase, UserContext } from '../src/index.js';
import { BACKENDS } from './support/databases.js';
import { SYSTEM_CONTEXT, exampleModel, suiteDatabase, userContext } from './support/fixtures.js';
import { asUser, checkCell, type AccessCell } from './support/matrix.js';
import { seedOrders, type OrdersData } from './support/orders-data.js';

const except = (members: readonly string[], model: CompiledModel, entity: string): string[] => {
  const e = model.entities.get(entity);
  const lineage = [entity, ...(e?.generalizations ?? [])];
  const all = [
    ...(e?.allAttributes.keys() ?? []),
    ...[...model.associations.values()]
      .filter((a) => lineage.includes(a.owner) || (a.ownership === 'both' && lineage.includes(a.target)))
      .map((a) => a.name),
    ...(lineage.some((n) => model.entities.get(n)?.system.owner === true) ? ['System.owner'] : []),
  ];
  return all.filter((m) => !members.includes(m));
};

/** The orders example: Customer, Sales and Administrator against every entity of the Sales module. */
function ordersMatrix(model: CompiledModel, d: OrdersData): { user: UserContext; cells: AccessCell[] }[] {
  const { users, orders, lines, products, invoice } = d;
  const allOrders = [orders.aliceDraft, orders.alicePlaced, orders.bobPlaced];
  const allLines = [lines.aliceDraft, lines.alicePlaced, lines.bobPlaced];
  const allProducts = [products.widget, products.gadget, products.retired];
  return [
    {
      user: userContext(users.alice, ['Customer']),
      cells: [
        {
          role: 'Customer',
          entity: 'Sales.Order',
          visible: [orders.aliceDraft, orders.alicePlaced],
          readable: 'all',
          writable: ['Note', 'Sales.Order_Customer'],
          create: true,
          deletable: [],
          via: { from: users.bob, association: 'Sales.Order_Customer', reaches: [orders.bobPlaced] },
        },
        {
          role: 'Customer',
          entity: 'Sales.Customer',
          visible: [users.alice],
          readable: ['Name', 'FullName', 'Email', 'Phone'],
          writable: ['FullName', 'Email', 'Phone'],
          create: false,
          deletable: [],
          via: { from: orders.bobPlaced, association: 'Sales.Order_Customer', reaches: [users.bob] },
        },
        {
          role: 'Customer',
          entity: 'Sales.Product',
          visible: [products.widget, products.gadget],
          readable: except(['Stock'], model, 'Sales.Product'),
          writable: [],
          create: false,
          deletable: [],
          via: { from: lines.bobPlaced, association: 'Sales.OrderLine_Product', reaches: [products.widget] },
        },
        {
          role: 'Customer',
          entity: 'Sales.OrderLine',
          visible: [lines.aliceDraft, lines.alicePlaced],
          readable: 'all',
          writable: ['Quantity', 'Sales.OrderLine_Order', 'Sales.OrderLine_Product'],
          create: true,
          deletable: [lines.aliceDraft, lines.alicePlaced],
          via: { from: orders.bobPlaced, association: 'Sales.OrderLine_Order', reaches: [lines.bobPlaced] },
        },
        {
          role: 'Customer',
          entity: 'Sales.Invoice',
          visible: [invoice],
          readable: 'all',
          writable: [],
          create: false,
          deletable: [],
          via: { from: orders.alicePlaced, association: 'Sales.Invoice_Order', reaches: [invoice] },
        },
      ],
    },
    {
      user: userContext(users.bob, ['Customer']),
      cells: [
        {
          role: 'Customer (another)',
          entity: 'Sales.Order',
          visible: [orders.bobPlaced],
          readable: 'all',
          writable: ['Note', 'Sales.Order_Customer'],
          create: true,
          deletable: [],
          via: {
            from: users.alice,
            association: 'Sales.Order_Customer',
            reaches: [orders.aliceDraft, orders.alicePlaced],
          },
        },
        {
          role: 'Customer (another)',
          entity: 'Sales.Invoice',
          visible: [],
          readable: 'all',
          writable: [],
          create: false,
          deletable: [],
          via: { from: orders.alicePlaced, association: 'Sales.Invoice_Order', reaches: [invoice] },
        },
      ],
    },
    {
      user: userContext(users.sam, ['Sales']),
      cells: [
        {
          role: 'Sales',
          entity: 'Sales.Order',
          visible: [orders.alicePlaced, orders.bobPlaced],
          readable: 'all',
          writable: ['Note'],
          create: false,
          deletable: [],
          via: {
            from: users.alice,
            association: 'Sales.Order_Customer',
            reaches: [orders.aliceDraft, orders.alicePlaced],
          },
        },
        {
          role: 'Sales',
          entity: 'Sales.Customer',
          visible: [users.alice, users.bob],
          readable: except(['Password'], model, 'Sales.Customer'),
          writable: [],
          create: false,
          deletable: [],
        },
        {
          role: 'Sales',
          entity: 'Sales.Product',
          visible: allProducts,
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: allProducts,
        },
        {
          role: 'Sales',
          entity: 'Sales.OrderLine',
          visible: allLines,
          readable: 'all',
          writable: [],
          create: false,
          deletable: [],
        },
        {
          role: 'Sales',
          entity: 'Sales.Invoice',
          visible: [invoice],
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: [],
        },
      ],
    },
    {
      user: userContext(users.admin, ['Administrator']),
      cells: [
        {
          role: 'Administrator',
          entity: 'Sales.Order',
          visible: allOrders,
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: allOrders,
        },
        {
          role: 'Administrator',
          entity: 'Sales.Customer',
          visible: [users.alice, users.bob],
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: [users.alice, users.bob],
        },
        {
          role: 'Administrator',
          entity: 'Sales.Product',
          visible: allProducts,
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: allProducts,
        },
        {
          role: 'Administrator',
          entity: 'Sales.OrderLine',
          visible: allLines,
          readable: 'all',
          writable: [],
          create: false,
          deletable: [],
        },
        {
          role: 'Administrator',
          entity: 'Sales.Invoice',
          visible: [invoice],
          readable: 'all',
          writable: 'all',
          create: true,
          deletable: [],
        },
      ],
    },
  ];
}

describe.each(BACKENDS)('entity access in the orders example on %s', (backend) => {
  const suite = suiteDatabase(backend, 'access_orders', () => exampleModel('orders'));
  let data: OrdersData;
  let model: CompiledModel;
  beforeAll(async () => {
    data = await seedOrders(suite.db);
    model = await exampleModel('orders');
  });

  it('allows each role what its rules allow, and nothing else, for every entity and operation', async () => {
    for (const { user, cells } of ordersMatrix(model, data)) {
      for (const cell of cells) {
        await checkCell(suite.db, model, user, cell).catch((error: unknown) => {
          throw new Error(
            `${cell.role} × ${cell.entity}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        });
      }
    }
  });

  it('does not let a customer read another customer’s order by id, by XPath or through a restored state', async () => {
    const alice = userContext(data.users.alice, ['Customer']);
    await asUser(suite.db, alice, async (uow) => {
      expect(await uow.retrieveByIds([data.orders.bobPlaced])).toEqual([]);
      expect(await uow.retrieveByIds([data.orders.bobPlaced], 'Sales.Order')).toEqual([]);
      const crafted = [
        `[id = '${data.orders.bobPlaced}']`,
        `[Sales.Order_Customer = '${data.users.bob}']`,
        `[Sales.Order_Customer/Sales.Customer/Name = 'bob']`,
        `[System.owner = '${data.users.bob}' or Status = 'Placed' or true()]`,
        `[not(System.owner = '${data.users.alice}')]`,
      ];
      for (const xpath of crafted) {
        const { objects } = await uow.retrieve({ entity: 'Sales.Order', xpath });
        expect(
          objects.map((o) => o.id),
          xpath,
        ).not.toContain(data.orders.bobPlaced);
      }
      const lines = await uow.retrieve({
        entity: 'Sales.OrderLine',
        xpath: `[Sales.OrderLine_Order = '${data.orders.bobPlaced}']`,
      });
      expect(lines.objects).toEqual([]);
      await expect(
        uow.restore({
          objects: [
            {
              id: data.orders.bobPlaced,
              entity: 'Sales.Order',
              state: 'stored',
              members: { Note: 'mine now' },
              readOnlyMembers: [],
            },
          ],
        }),
      ).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect(await uow.aggregate({ entity: 'Sales.Order', function: 'sum', attribute: 'Total' })).toEqual(
        await uow.asSystem().aggregate({
          entity: 'Sales.Order',
          function: 'sum',
          attribute: 'Total',
          xpath: `[System.owner = '${data.users.alice}']`,
        }),
      );
    });
  });

  it('keeps XPath parameters that carry SQL inert', async () => {
    const attacks = [
      "' or 1=1 --",
      '\'); drop table "sales$order"; --',
      "%' or '1'='1",
      '\\',
      'x\' ; delete from "sales$product"; --',
    ];
    const admin = userContext(data.users.admin, ['Administrator']);
    for (const attack of attacks) {
      await asUser(suite.db, admin, async (uow) => {
        const exact = await uow.retrieve({
          entity: 'Sales.Product',
          xpath: '[Name = $q]',
          variables: new Map([['q', attack]]),
        });
        expect(exact.objects).toEqual([]);
        const like = await uow.retrieve({
          entity: 'Sales.Product',
          xpath: '[contains(Name, $q)]',
          variables: new Map([['q', attack]]),
        });
        expect(like.objects).toEqual([]);
        const asId = await uow.retrieve({
          entity: 'Sales.Order',
          xpath: '[Sales.Order_Customer/Sales.Customer/Email = $q]',
          variables: new Map([['q', attack]]),
        });
        expect(asId.objects).toEqual([]);
        expect(await uow.retrieveByIds([attack])).toEqual([]);
      });
    }
    const alice = userContext(data.users.alice, ['Customer']);
    await asUser(suite.db, alice, async (uow) => {
      const { objects } = await uow.retrieve({
        entity: 'Sales.Order',
        xpath: '[Note != $q]',
        variables: new Map([['q', "' or 1=1 --"]]),
      });
      expect(objects.map((o) => o.id).sort()).toEqual(
        [data.orders.aliceDraft, data.orders.alicePlaced].sort(),
      );
    });
    await asUser(suite.db, SYSTEM_CONTEXT, async (uow) => {
      expect(await uow.aggregate({ entity: 'Sales.Order', function: 'count' })).toBe(3n);
      expect(await uow.aggregate({ entity: 'Sales.Product', function: 'count' })).toBe(3n);
    });
  });

  it('refuses an aggregate over an attribute the role cannot read', async () => {
    await asUser(suite.db, userContext(data.users.alice, ['Customer']), async (uow) => {
      await expect(
        uow.aggregate({ entity: 'Sales.Product', function: 'sum', attribute: 'Stock' }),
      ).rejects.toMatchObject({
        code: 'MEMBER_NOT_READABLE',
      });
    });
  });

  it('judges writes on the database state: a new object passes every rule, until it is stored', async () => {
    const alice = userContext(data.users.alice, ['Customer']);
    await asUser(suite.db, alice, async (uow) => {
      const order = await uow.instantiate('Sales.Order');
      expect(order.canWrite('Note')).toBe(true);
      order.setReference('Sales.Order_Customer', data.users.bob);
      await uow.commit([order]);
      // Stored, it is still hers: she owns it, whatever customer it names.
      const [again] = await uow.retrieveByIds([order.id]);
      expect(again?.id).toBe(order.id);
    });
  });

  it('lets a system view of a user’s unit of work see everything, while the client still gets only what the user may see', async () => {
    const alice = userContext(data.users.alice, ['Customer']);
    await asUser(suite.db, alice, async (uow) => {
      const system = uow.asSystem();
      expect(system.asSystem()).toBe(system);
      const all = await system.retrieve({ entity: 'Sales.Product' });
      expect(all.objects).toHaveLength(3);
      const retired = all.objects.find((p) => p.id === data.products.retired) as MxObject;
      expect(retired.get('Stock')).toBe(100n);
      expect(uow.snapshot(retired).members).toEqual({});
      const widget = all.objects.find((p) => p.id === data.products.widget) as MxObject;
      expect(Object.keys(uow.snapshot(widget).members)).not.toContain('Stock');
      expect(uow.snapshot(widget).readOnlyMembers).toContain('Name');
      const order = await system.instantiate('Sales.Order');
      order.setReference('Sales.Order_Customer', data.users.alice);
      await system.commit([order]);
      const [mine] = await uow.retrieveByIds([order.id]);
      expect(mine?.getReference('System.owner')).toBe(data.users.alice);
    });
  });
});

describe.each(BACKENDS)('entity access in the helpdesk example on %s', (backend) => {
  const suite = suiteDatabase(backend, 'access_helpdesk', () => exampleModel('helpdesk'));
  let model: CompiledModel;
  let ids: Record<string, string>;
  let users: { anonymous: string; ann: string; max: string };

  async function seed(db: RunplaneDatabase): Promise<void> {
    users = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const visitor = await uow.instantiate('System.User');
      visitor.set('Name', 'Anonymous_1');
      visitor.set('IsAnonymous', true);
      const ann = await uow.instantiate('Helpdesk.Agent');
      ann.set('Name', 'ann');
      const max = await uow.instantiate('Helpdesk.Agent');
      max.set('Name', 'max');
      await uow.commit([visitor, ann, max]);
      return { anonymous: visitor.id, ann: ann.id, max: max.id };
    });
    ids = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const made: Record<string, MxObject> = {};
      for (const [key, entity] of [
        ['ticket', 'Helpdesk.Ticket'],
        ['bug', 'Helpdesk.BugReport'],
        ['question', 'Helpdesk.Question'],
        ['feature', 'Helpdesk.FeatureRequest'],
      ] as const) {
        const t = await uow.instantiate(entity);
        t.set('Subject', key);
        t.set('ReporterEmail', 'someone@example.com');
        made[key] = t;
      }
      const tag = await uow.instantiate('Helpdesk.Tag');
      tag.set('Name', 'urgent');
      made.tag = tag;
      const attachment = await uow.instantiate('Helpdesk.Attachment');
      attachment.set('Name', 'screenshot.png');
      attachment.setReference('Helpdesk.Attachment_Ticket', made.bug?.id ?? null);
      made.attachment = attachment;
      made.ticket?.setReferenceSet('Helpdesk.Ticket_Tag', [tag.id]);
      await uow.commit(Object.values(made));
      return Object.fromEntries(Object.entries(made).map(([k, v]) => [k, v.id]));
    });
    for (const [author, key] of [
      [users.ann, 'annComment'],
      [users.max, 'maxComment'],
    ] as const) {
      ids[key] = await db.transaction(userContext(author, ['Agent']), async (uow) => {
        const comment = await uow.instantiate('Helpdesk.Comment');
        comment.set('Text', `by ${key}`);
        comment.setReference('Helpdesk.Comment_Ticket', ids.bug ?? null);
        await uow.commit([comment]);
        return comment.id;
      });
    }
  }

  beforeAll(async () => {
    model = await exampleModel('helpdesk');
    await seed(suite.db);
  });

  it('allows each role what its rules allow, and nothing else, for every entity and operation', async () => {
    const id = (key: string): string => ids[key] ?? '';
    const tickets = [id('ticket'), id('bug'), id('question'), id('feature')];
    const comments = [id('annComment'), id('maxComment')];
    const agents = [users.ann, users.max];
    const matrix: { user: UserContext; cells: AccessCell[] }[] = [
      {
        user: userContext(users.anonymous, ['Anonymous']),
        cells: [
          {
            role: 'Anonymous',
            entity: 'Helpdesk.Ticket',
            visible: [],
            readable: [],
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Anonymous',
            entity: 'Helpdesk.BugReport',
            visible: [],
            readable: [],
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Anonymous',
            entity: 'Helpdesk.Tag',
            visible: [id('tag')],
            readable: 'all',
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Anonymous',
            entity: 'Helpdesk.Comment',
            visible: [],
            readable: [],
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Anonymous',
            entity: 'Helpdesk.Agent',
            visible: [],
            readable: [],
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Anonymous',
            entity: 'Helpdesk.Attachment',
            visible: [],
            readable: [],
            writable: [],
            create: false,
            deletable: [],
          },
        ],
      },
      {
        user: userContext(users.ann, ['Agent']),
        cells: [
          {
            role: 'Agent',
            entity: 'Helpdesk.Ticket',
            visible: tickets,
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [],
            via: { from: id('tag'), association: 'Helpdesk.Ticket_Tag', reaches: [id('ticket')] },
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.BugReport',
            visible: [id('bug')],
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.Question',
            visible: [id('question')],
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.FeatureRequest',
            visible: [id('feature')],
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.Tag',
            visible: [id('tag')],
            readable: 'all',
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.Comment',
            visible: comments,
            readable: 'all',
            writable: ['Text', 'Internal', 'Helpdesk.Comment_Ticket'],
            create: true,
            deletable: [id('annComment')],
            via: { from: id('bug'), association: 'Helpdesk.Comment_Ticket', reaches: comments },
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.Agent',
            visible: agents,
            readable: except(['Password'], model, 'Helpdesk.Agent'),
            writable: [],
            create: false,
            deletable: [],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.Attachment',
            visible: [id('attachment')],
            readable: 'all',
            writable: 'all',
            create: true,
            deletable: [id('attachment')],
          },
          {
            role: 'Agent',
            entity: 'Helpdesk.SubmitForm',
            visible: [],
            readable: 'all',
            writable: 'all',
            create: true,
            deletable: [],
          },
        ],
      },
      {
        user: userContext(users.max, ['Manager']),
        cells: [
          // Tickets of the generalization may be deleted; the specialisations' own rules do not allow it.
          {
            role: 'Manager',
            entity: 'Helpdesk.Ticket',
            visible: tickets,
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [id('ticket')],
          },
          {
            role: 'Manager',
            entity: 'Helpdesk.BugReport',
            visible: [id('bug')],
            readable: 'all',
            writable: 'all',
            create: false,
            deletable: [],
          },
          {
            role: 'Manager',
            entity: 'Helpdesk.Tag',
            visible: [id('tag')],
            readable: 'all',
            writable: 'all',
            create: true,
            deletable: [id('tag')],
          },
          {
            role: 'Manager',
            entity: 'Helpdesk.Comment',
            visible: comments,
            readable: 'all',
            writable: ['Text', 'Internal', 'Helpdesk.Comment_Ticket'],
            create: true,
            deletable: [id('maxComment')],
          },
          {
            role: 'Manager',
            entity: 'Helpdesk.Agent',
            visible: agents,
            readable: 'all',
            writable: 'all',
            create: true,
            deletable: [],
          },
          {
            role: 'Manager',
            entity: 'Helpdesk.Attachment',
            visible: [id('attachment')],
            readable: 'all',
            writable: 'all',
            create: true,
            deletable: [id('attachment')],
          },
        ],
      },
    ];
    for (const { user, cells } of matrix) {
      for (const cell of cells) {
        if (!model.entities.get(cell.entity)?.persistable) {
          await asUser(suite.db, user, async (uow) => {
            const form = await uow.instantiate(cell.entity);
            expect(form.canWrite('Subject')).toBe(true);
          });
          continue;
        }
        await checkCell(suite.db, model, user, cell).catch((error: unknown) => {
          throw new Error(
            `${cell.role} × ${cell.entity}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        });
      }
    }
  });

  it('lets an anonymous visitor submit a ticket only through a system view (a microflow without entity access)', async () => {
    const visitor = userContext(users.anonymous, ['Anonymous']);
    await asUser(suite.db, visitor, async (uow) => {
      await expect(uow.instantiate('Helpdesk.Ticket')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      const form = await uow.instantiate('Helpdesk.SubmitForm');
      form.set('Subject', 'Broken link');
      const ticket = await uow.asSystem().instantiate('Helpdesk.Question');
      ticket.set('Subject', form.get('Subject'));
      ticket.set('ReporterEmail', 'visitor@example.com');
      await uow.asSystem().commit([ticket]);
      expect(ticket.state).toBe('stored');
      expect(uow.snapshot(ticket).members).toEqual({});
    });
  });
});
