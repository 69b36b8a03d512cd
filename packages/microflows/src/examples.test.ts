/**
 * The microflows of the example apps, end to end through the engine on a real database:
 * `examples/orders` (place, calculate, approve, confirm by mail, close stale orders) and
 * `examples/helpdesk` (submit, triage, escalate, assign, tag, close resolved tickets).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, type MxValue } from '@runplane/expressions';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { SYSTEM_CONTEXT, type MxObject, type UnitOfWork } from '@runplane/persistence';
import { MicroflowErrorCode, type MicroflowError } from './errors.js';
import type { TaskScheduler } from './types.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  userWith,
  type TestDatabase,
} from './testing/harness.js';

const examples = (name: string): string =>
  fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

async function byIds(database: TestDatabase, ids: readonly string[]): Promise<MxObject[]> {
  return database.db.transaction(SYSTEM_CONTEXT, (uow) => uow.retrieveByIds(ids));
}

async function byXPath(database: TestDatabase, entity: string, xpath?: string): Promise<MxObject[]> {
  return database.db.transaction(SYSTEM_CONTEXT, async (uow) => [
    ...(await uow.retrieve({ entity, ...(xpath === undefined ? {} : { xpath }) })).objects,
  ]);
}

describe('examples/orders', () => {
  let model: CompiledModel;
  let database: TestDatabase;
  let mail: Server;
  const mails: unknown[] = [];
  const scheduled: { queue: string; microflow: string; arguments: ReadonlyMap<string, MxValue> }[] = [];
  const tasks: TaskScheduler = {
    schedule(_uow, task) {
      scheduled.push(task);
      return Promise.resolve(String(scheduled.length));
    },
  };
  const customer = userWith(['Customer']);
  const sales = userWith(['Sales']);
  let ids: { customer: string; sam: string; keyboard: string; mouse: string };

  /** A draft order of the customer with lines (product id, quantity). */
  async function draftOrder(lines: readonly (readonly [string, bigint])[]): Promise<string> {
    return database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const order = await uow.instantiate('Sales.Order');
      order.setReference('Sales.Order_Customer', ids.customer);
      await uow.commit([order]);
      for (const [product, quantity] of lines) {
        const line = await uow.instantiate('Sales.OrderLine');
        line.set('Quantity', quantity);
        line.setReference('Sales.OrderLine_Order', order.id);
        line.setReference('Sales.OrderLine_Product', product);
        await uow.commit([line]);
      }
      return order.id;
    });
  }

  async function objectById(uow: UnitOfWork, id: string): Promise<MxObject> {
    // The caller hands over objects it may see; the test fetches them with system rights.
    const [object] = await uow.asSystem().retrieveByIds([id]);
    if (object === undefined) throw new TypeError(`no object ${id}`);
    return object;
  }

  beforeAll(async () => {
    model = await loadModelOrThrow(examples('orders'));
    database = await testDatabase(model, 'orders');
    mail = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        mails.push(JSON.parse(body) as unknown);
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => mail.listen(0, '127.0.0.1', resolve));
    ids = await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const ada = await uow.instantiate('Sales.Customer');
      ada.set('Name', 'ada');
      ada.set('FullName', 'Ada Lovelace');
      ada.set('Email', 'ada@example.com');
      const sam = await uow.instantiate('System.User');
      sam.set('Name', 'sam');
      const keyboard = await uow.instantiate('Sales.Product');
      keyboard.set('Code', 'KB-1');
      keyboard.set('Name', 'Keyboard');
      keyboard.set('Price', new Decimal('49.95'));
      keyboard.set('Stock', 10n);
      const mouse = await uow.instantiate('Sales.Product');
      mouse.set('Code', 'MS-1');
      mouse.set('Name', 'Mouse');
      mouse.set('Price', new Decimal('19.99'));
      mouse.set('Stock', 1n);
      await uow.commit([ada, sam, keyboard, mouse]);
      return { customer: ada.id, sam: sam.id, keyboard: keyboard.id, mouse: mouse.id };
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) =>
      mail.close(() => {
        resolve();
      }),
    );
    await database.drop();
  });

  function engineFor() {
    const port = (mail.address() as AddressInfo).port;
    return testEngine(model, {
      tasks,
      constants: new Map([['Sales.MailServiceUrl', `http://127.0.0.1:${port}/messages`]]),
    });
  }

  it('PlaceOrder reserves stock, calculates the totals with VAT, places the order and queues the confirmation', async () => {
    const { engine } = engineFor();
    const orderId = await draftOrder([
      [ids.keyboard, 2n],
      [ids.mouse, 1n],
    ]);
    scheduled.length = 0;
    const { result, instructions } = await resultOf(engine, database.db, {
      microflow: 'Sales.PlaceOrder',
      user: customer,
      fromClient: true,
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    });
    expect(result).toBe(true);
    const [order] = await byIds(database, [orderId]);
    expect(order?.get('Status')).toBe('Placed');
    // 2 × 49.95 + 19.99 = 119.89; VAT round(119.89 × 0.21, 2) = 25.18
    expect((order?.get('Subtotal') as Decimal).toString()).toBe('119.89');
    expect((order?.get('Vat') as Decimal).toString()).toBe('25.18');
    expect((order?.get('Total') as Decimal).toString()).toBe('145.07');
    expect(order?.get('PlacedOn')).toBeInstanceOf(Date);
    const stock = (await byXPath(database, 'Sales.Product')).map((p) => [p.get('Code'), p.get('Stock')]);
    expect(stock).toEqual(
      expect.arrayContaining([
        ['KB-1', 8n],
        ['MS-1', 0n],
      ]),
    );
    const lines = (await byXPath(database, 'Sales.OrderLine'))
      .filter((l) => l.getReference('Sales.OrderLine_Order') === orderId)
      .map((l) => [(l.get('UnitPrice') as Decimal).toString(), (l.get('Amount') as Decimal).toString()])
      .sort();
    expect(lines).toEqual([
      ['19.99', '19.99'],
      ['49.95', '99.9'],
    ]);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ queue: 'Sales.Mail', microflow: 'Sales.SendConfirmation' });
    expect(instructions).toEqual([{ kind: 'refreshObject', objectId: orderId, entity: 'Sales.Order' }]);
  });

  it('PlaceOrder refuses an order without enough stock, with feedback on the line and nothing changed', async () => {
    const { engine } = engineFor();
    const orderId = await draftOrder([[ids.mouse, 5n]]);
    const { result, instructions } = await resultOf(engine, database.db, {
      microflow: 'Sales.PlaceOrder',
      user: customer,
      fromClient: true,
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    });
    expect(result).toBe(false);
    expect(instructions).toEqual([
      expect.objectContaining({
        kind: 'validationFeedback',
        member: 'Quantity',
        message: 'Only 0 of Mouse left in stock.',
      }),
    ]);
    const [order] = await byIds(database, [orderId]);
    expect(order?.get('Status')).toBe('Draft');
  });

  it('CalculateTotal returns the total and sets the amounts of the lines', async () => {
    const { engine } = engineFor();
    const orderId = await draftOrder([[ids.keyboard, 3n]]);
    const { result } = await resultOf(engine, database.db, {
      microflow: 'Sales.CalculateTotal',
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    });
    // 149.85 + round(149.85 × 0.21, 2) = 149.85 + 31.47
    expect((result as Decimal).toString()).toBe('181.32');
  });

  it('ApproveOrder is refused to a customer and approves a placed order for sales, issuing the invoice', async () => {
    const { engine, logs } = engineFor();
    const orderId = await draftOrder([[ids.keyboard, 1n]]);
    await resultOf(engine, database.db, {
      microflow: 'Sales.PlaceOrder',
      user: customer,
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    });
    const refused = (await errorOf(engine, database.db, {
      microflow: 'Sales.ApproveOrder',
      user: customer,
      fromClient: true,
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    })) as MicroflowError;
    expect(refused.code).toBe(MicroflowErrorCode.Forbidden);
    await resultOf(engine, database.db, {
      microflow: 'Sales.ApproveOrder',
      user: sales,
      fromClient: true,
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
      userIn: async (uow) => ({ userName: 'sam', currentUser: await objectById(uow, ids.sam) }),
    });
    const [order] = await byIds(database, [orderId]);
    expect(order?.get('Status')).toBe('Approved');
    const invoices = (await byXPath(database, 'Sales.Invoice')).filter(
      (i) => i.getReference('Sales.Invoice_Order') === orderId,
    );
    expect(invoices).toHaveLength(1);
    const number = (order?.get('Number') as bigint).toString();
    expect(invoices[0]?.get('InvoiceNumber')).toBe(`INV-${new Date().getFullYear()}-${number}`);
    expect(logs.find(`Order ${number} approved by sam; invoice INV-`)).toHaveLength(1);
  });

  it('SendConfirmation posts the mail to the mail service', async () => {
    const { engine } = engineFor();
    const orderId = await draftOrder([[ids.keyboard, 1n]]);
    mails.length = 0;
    await resultOf(engine, database.db, {
      microflow: 'Sales.SendConfirmation',
      prepare: async (uow) => ({ Order: await objectById(uow, orderId) }),
    });
    expect(mails).toEqual([
      expect.objectContaining({ to: 'ada@example.com', text: 'Thank you for your order.' }),
    ]);
  });

  it('SE_CloseStaleOrders closes placed orders older than the cut-off', async () => {
    const { engine } = engineFor();
    const staleId = await draftOrder([]);
    const freshId = await draftOrder([]);
    await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const [stale, fresh] = await uow.retrieveByIds([staleId, freshId]);
      stale?.set('Status', 'Placed');
      stale?.set('PlacedOn', new Date(Date.now() - 40 * 24 * 3600 * 1000));
      fresh?.set('Status', 'Placed');
      fresh?.set('PlacedOn', new Date());
      await uow.commit([stale!, fresh!], { events: false });
    });
    await resultOf(engine, database.db, { microflow: 'Sales.SE_CloseStaleOrders' });
    const statuses = await byIds(database, [staleId, freshId]);
    expect(new Map(statuses.map((o) => [o.id, o.get('Status')]))).toEqual(
      new Map([
        [staleId, 'Closed'],
        [freshId, 'Placed'],
      ]),
    );
  });
});

describe('examples/helpdesk', () => {
  let model: CompiledModel;
  let database: TestDatabase;
  const anonymous = userWith(['Anonymous']);
  const agent = userWith(['Agent']);

  beforeAll(async () => {
    model = await loadModelOrThrow(examples('helpdesk'));
    database = await testDatabase(model, 'helpdesk');
  });
  afterAll(async () => {
    await database.drop();
  });

  async function submit(kind: string | null, email: string, subject: string) {
    const { engine, logs } = testEngine(model);
    const outcome = await resultOf(engine, database.db, {
      microflow: 'Helpdesk.ACT_SubmitTicket',
      user: anonymous,
      fromClient: true,
      prepare: async (uow) => {
        const form = (
          await engine.run({
            microflow: 'Helpdesk.DS_NewSubmitForm',
            arguments: new Map(),
            uow,
            fromClient: true,
          })
        ).result as MxObject;
        form.set('Kind', kind);
        form.set('Name', 'Visitor');
        form.set('Email', email);
        form.set('Subject', subject);
        return { Form: form };
      },
    });
    return { ...outcome, logs };
  }

  it('ACT_SubmitTicket turns a form into a ticket of the chosen kind, thanks the visitor and closes the page', async () => {
    const { result, instructions, logs } = await submit('Bug', 'v@example.com', 'It crashes');
    expect(result).toBe(true);
    const bugs = await byXPath(database, 'Helpdesk.BugReport', "[Subject = 'It crashes']");
    expect(bugs).toHaveLength(1);
    expect(bugs[0]?.get('Priority')).toBe('High');
    expect(instructions).toEqual([
      {
        kind: 'showMessage',
        type: 'information',
        message: 'Thank you, Visitor. We will get back to you at v@example.com.',
        blocking: false,
      },
      { kind: 'closePage', count: 1 },
    ]);
    expect(logs.find('New Something is broken ticket from v@example.com')).toHaveLength(1);
  });

  it('ACT_SubmitTicket gives feedback instead of a ticket when the email or kind is missing', async () => {
    const noEmail = await submit('Question', '  ', 'No mail');
    expect(noEmail.result).toBe(false);
    expect(noEmail.instructions).toEqual([
      expect.objectContaining({ kind: 'validationFeedback', member: 'Email' }),
    ]);
    const noKind = await submit(null, 'v@example.com', 'No kind');
    expect(noKind.instructions).toEqual([
      expect.objectContaining({ kind: 'validationFeedback', member: 'Kind' }),
    ]);
    expect(
      await byXPath(database, 'Helpdesk.Ticket', "[Subject = 'No mail' or Subject = 'No kind']"),
    ).toEqual([]);
  });

  it('TriageTicket sets the priority by the ticket’s specialization and goes on when the chat action is missing', async () => {
    const { engine } = testEngine(model);
    const ids = await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const bug = await uow.instantiate('Helpdesk.BugReport');
      bug.set('Subject', 'Data loss');
      bug.set('ReporterEmail', 'a@example.com');
      bug.set('Severity', 5n);
      const feature = await uow.instantiate('Helpdesk.FeatureRequest');
      feature.set('Subject', 'Dark mode');
      feature.set('ReporterEmail', 'b@example.com');
      feature.set('Votes', 20n);
      await uow.commit([bug, feature]);
      return [bug.id, feature.id] as const;
    });
    for (const id of ids) {
      await resultOf(engine, database.db, {
        microflow: 'Helpdesk.TriageTicket',
        user: agent,
        fromClient: true,
        prepare: async (uow) => ({ Ticket: (await uow.asSystem().retrieveByIds([id]))[0] ?? null }),
      });
    }
    const [bug, feature] = await byIds(database, ids);
    expect([bug?.get('Priority'), bug?.get('State')]).toEqual(['Urgent', 'Open']);
    expect([feature?.get('Priority'), feature?.get('State')]).toEqual(['Normal', 'Open']);
    expect(engine.missingActions()).toEqual(['Helpdesk.PostToChat']);
  });

  it('AssignToLeastBusyAgent assigns the agent on duty with the fewest open tickets', async () => {
    const { engine } = testEngine(model);
    const { ticket, idle } = await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const busy = await uow.instantiate('Helpdesk.Agent');
      busy.set('Name', 'busy');
      busy.set('DisplayName', 'A busy');
      const free = await uow.instantiate('Helpdesk.Agent');
      free.set('Name', 'free');
      free.set('DisplayName', 'B free');
      await uow.commit([busy, free]);
      const open = await uow.instantiate('Helpdesk.Question');
      open.set('Subject', 'Busy work');
      open.set('ReporterEmail', 'c@example.com');
      open.set('State', 'Open');
      open.setReference('Helpdesk.Ticket_Agent', busy.id);
      const fresh = await uow.instantiate('Helpdesk.Question');
      fresh.set('Subject', 'Unassigned');
      fresh.set('ReporterEmail', 'd@example.com');
      await uow.commit([open, fresh]);
      return { ticket: fresh.id, idle: free.id };
    });
    const { instructions } = await resultOf(engine, database.db, {
      microflow: 'Helpdesk.AssignToLeastBusyAgent',
      user: agent,
      fromClient: true,
      prepare: async (uow) => ({ Ticket: (await uow.asSystem().retrieveByIds([ticket]))[0] ?? null }),
    });
    const [assigned] = await byIds(database, [ticket]);
    expect(assigned?.getReference('Helpdesk.Ticket_Agent')).toBe(idle);
    expect(instructions).toEqual([{ kind: 'refreshObject', objectId: ticket, entity: 'Helpdesk.Question' }]);
  });

  it('AddTag and RemoveTag change the tags of a ticket', async () => {
    const { engine } = testEngine(model);
    const { ticket, tag } = await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const t = await uow.instantiate('Helpdesk.Question');
      t.set('Subject', 'Tagged');
      t.set('ReporterEmail', 'e@example.com');
      const g = await uow.instantiate('Helpdesk.Tag');
      g.set('Name', 'billing');
      await uow.commit([t, g]);
      return { ticket: t.id, tag: g.id };
    });
    const args = async (uow: UnitOfWork) => {
      const [t, g] = await uow.asSystem().retrieveByIds([ticket, tag]);
      return { Ticket: t ?? null, Tag: g ?? null };
    };
    await resultOf(engine, database.db, {
      microflow: 'Helpdesk.AddTag',
      user: agent,
      fromClient: true,
      prepare: args,
    });
    expect((await byIds(database, [ticket]))[0]?.getReferenceSet('Helpdesk.Ticket_Tag')).toEqual([tag]);
    await resultOf(engine, database.db, {
      microflow: 'Helpdesk.RemoveTag',
      user: agent,
      fromClient: true,
      prepare: args,
    });
    expect((await byIds(database, [ticket]))[0]?.getReferenceSet('Helpdesk.Ticket_Tag')).toEqual([]);
  });

  it('SE_CloseResolved closes resolved tickets in batches until none are left', async () => {
    const { engine } = testEngine(model);
    await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const tickets: MxObject[] = [];
      for (let i = 0; i < 130; i++) {
        const t = await uow.instantiate('Helpdesk.Question');
        t.set('Subject', `Old ${i}`);
        t.set('ReporterEmail', 'f@example.com');
        t.set('State', 'Resolved');
        t.set('ResolvedOn', new Date(Date.now() - 10 * 24 * 3600 * 1000));
        tickets.push(t);
      }
      await uow.commit(tickets);
    });
    await resultOf(engine, database.db, { microflow: 'Helpdesk.SE_CloseResolved' });
    expect(await byXPath(database, 'Helpdesk.Ticket', "[State = 'Resolved']")).toEqual([]);
    expect(
      await byXPath(database, 'Helpdesk.Ticket', "[State = 'Closed'][starts-with(Subject, 'Old ')]"),
    ).toHaveLength(130);
  });

  it('Api_Submit submits through the same microflow as the page', async () => {
    const { engine } = testEngine(model);
    const { result } = await resultOf(engine, database.db, {
      microflow: 'Helpdesk.Api_Submit',
      prepare: async (uow) => {
        const form = await uow.instantiate('Helpdesk.SubmitForm');
        form.set('Kind', 'Feature');
        form.set('Name', 'Api');
        form.set('Email', 'api@example.com');
        form.set('Subject', 'Via the API');
        return { Form: form };
      },
    });
    expect(result).toBe(true);
    expect(
      (await byXPath(database, 'Helpdesk.FeatureRequest', "[Subject = 'Via the API']"))[0]?.get('Priority'),
    ).toBe('Low');
  });
});
