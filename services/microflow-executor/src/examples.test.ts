import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { common } from '@runplane/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLES_DIR,
  createTestSite,
  eventually,
  startTestExecutor,
  type TestExecutor,
  type TestSite,
} from './testing/harness.js';

const S = common.ObjectState;

const str = (value: string): common.Value => ({ kind: { $case: 'string', value } });
const int = (value: bigint): common.Value => ({ kind: { $case: 'integer', value } });
const dec = (value: string): common.Value => ({ kind: { $case: 'decimal', value } });
const ref = (value: string): common.Value => ({ kind: { $case: 'objectId', value } });
const enumKey = (value: string): common.Value => ({ kind: { $case: 'enumeration', value } });
const kindOf = (value: common.Value | undefined): unknown => value?.kind?.value;

function user(userId: string, userName: string, userRoles: string[]): common.UserContext {
  return {
    userId,
    userName,
    userRoles,
    sessionIdHash: '',
    anonymous: false,
    timeZone: 'Europe/Amsterdam',
    language: 'en-US',
    system: false,
  };
}
const SYSTEM: common.UserContext = { ...user('', '', []), system: true };

/** Sets members on the client's copy of an object in a state. */
function edit(
  state: common.ClientState | undefined,
  id: string,
  members: Record<string, common.Value>,
): common.ClientState {
  return {
    objects: (state?.objects ?? []).map((o) =>
      o.id === id ? { ...o, members: { ...o.members, ...members } } : o,
    ),
  };
}

/** Creates and commits an object as system through the service; returns its id. */
async function seed(
  exec: TestExecutor,
  entity: string,
  members: Record<string, common.Value>,
): Promise<string> {
  const made = await exec.call('instantiate', { user: SYSTEM, state: { objects: [] }, entity });
  const id = made.object!.id;
  await exec.call('commit', { user: SYSTEM, state: edit(made.update?.state, id, members), objectIds: [id] });
  return id;
}

describe('the orders example through the gRPC service', () => {
  let site: TestSite;
  let exec: TestExecutor;
  let mail: Server;
  const mails: unknown[] = [];

  beforeAll(async () => {
    mail = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        mails.push(JSON.parse(body));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => mail.listen(0, '127.0.0.1', resolve));
    const { port } = mail.address() as AddressInfo;
    site = await createTestSite('orders');
    exec = await startTestExecutor(site, join(EXAMPLES_DIR, 'orders'), {
      RUNPLANE_CONSTANTS: JSON.stringify({ 'Sales.MailServiceUrl': `http://127.0.0.1:${port}/messages` }),
    });
  });

  afterAll(async () => {
    await exec.stop();
    mail.close();
    await site.cleanup();
  });

  it('places an order built up in the client, mails the confirmation from the Mail queue, and approves it', async () => {
    const aliceId = await seed(exec, 'Sales.Customer', {
      Name: str('alice'),
      FullName: str('Alice A.'),
      Email: str('alice@example.com'),
    });
    const samId = await seed(exec, 'System.User', { Name: str('sam') });
    const appleId = await seed(exec, 'Sales.Product', {
      Code: str('APL'),
      Name: str('Apple'),
      Price: dec('1.25'),
      Stock: int(10n),
    });
    const alice = user(aliceId, 'alice', ['Customer']);
    const sam = user(samId, 'sam', ['Sales']);

    // NewOrder: a draft order for the current customer, opened in a page.
    const created = await exec.call('execute', {
      microflow: 'Sales.NewOrder',
      parameters: {},
      user: alice,
      state: { objects: [] },
      fromClient: true,
    });
    const open = created.instructions[0]?.kind;
    expect(open?.$case).toBe('openPage');
    const orderId = open?.$case === 'openPage' ? (kindOf(open.value.parameters.Order) as string) : '';
    const order = created.update?.objects.find((o) => o.id === orderId);
    expect(order).toMatchObject({ entity: 'Sales.Order', state: S.OBJECT_STATE_NEW });
    expect(order?.members['Sales.Order_Customer']).toEqual(ref(aliceId));
    expect(order?.members.Status).toEqual(enumKey('Draft'));

    // AddLine: a new line in the client's state; the client fills it in.
    const added = await exec.call('execute', {
      microflow: 'Sales.AddLine',
      parameters: { Order: ref(orderId) },
      user: alice,
      state: created.update?.state,
      fromClient: true,
    });
    const lineId = added.update!.state!.objects.find((o) => o.entity === 'Sales.OrderLine')!.id;
    const state = edit(added.update?.state, lineId, {
      Quantity: int(4n),
      'Sales.OrderLine_Product': ref(appleId),
    });

    const placed = await exec.call('execute', {
      microflow: 'Sales.PlaceOrder',
      parameters: { Order: ref(orderId) },
      user: alice,
      state,
      fromClient: true,
    });
    expect(placed.result).toEqual({ kind: { $case: 'boolean', value: true } });
    expect(placed.update?.state?.objects).toEqual([]);
    // The order and its line, and the product whose stock was reserved.
    expect(new Set(placed.update?.committedIds)).toEqual(new Set([orderId, lineId, appleId]));
    expect(placed.instructions.map((i) => i.kind?.$case)).toContain('refreshObject');
    const shownOrder = placed.update?.objects.find((o) => o.id === orderId);
    expect(shownOrder?.members).toMatchObject({
      Status: enumKey('Placed'),
      Subtotal: dec('5'),
      Vat: dec('1.05'),
      Total: dec('6.05'),
    });

    // The confirmation ran on the Mail task queue, once the order had committed.
    const sent = await eventually(() => Promise.resolve(mails.length > 0 ? mails : undefined));
    expect(sent).toEqual([
      {
        to: 'alice@example.com',
        subject: `Order ${kindOf(shownOrder?.members.Number) as bigint} placed`,
        text: 'Thank you for your order.',
      },
    ]);

    // Stock was reserved (read as system: customers may not see stock).
    const apple = await exec.call('retrieve', {
      user: SYSTEM,
      query: { $case: 'ids', value: { ids: [appleId], entity: '' } },
    });
    expect(apple.objects[0]?.members.Stock).toEqual(int(6n));

    // Customers cannot approve; sales staff can.
    await expect(
      exec.call('execute', {
        microflow: 'Sales.ApproveOrder',
        parameters: { Order: ref(orderId) },
        user: alice,
        state: { objects: [] },
        fromClient: true,
      }),
    ).rejects.toMatchObject({ code: 'MICROFLOW_FORBIDDEN' });
    const approved = await exec.call('execute', {
      microflow: 'Sales.ApproveOrder',
      parameters: { Order: ref(orderId) },
      user: sam,
      state: { objects: [] },
      fromClient: true,
    });
    expect(approved.update?.objects.find((o) => o.id === orderId)?.members.Status).toEqual(
      enumKey('Approved'),
    );
    const invoices = await exec.call('retrieve', {
      user: alice,
      query: {
        $case: 'xpath',
        value: {
          entity: 'Sales.Invoice',
          constraint: '',
          sort: [],
          offset: 0n,
          amount: 0n,
          includeCount: false,
        },
      },
    });
    expect(invoices.objects).toHaveLength(1);
    expect(invoices.objects[0]?.members.Amount).toEqual(dec('6.05'));
  });

  it('refuses to place an order without lines, with a message for the client', async () => {
    const bobId = await seed(exec, 'Sales.Customer', { Name: str('bob'), Email: str('bob@example.com') });
    const bob = user(bobId, 'bob', ['Customer']);
    const created = await exec.call('execute', {
      microflow: 'Sales.NewOrder',
      parameters: {},
      user: bob,
      state: { objects: [] },
      fromClient: true,
    });
    const orderId = created.update!.state!.objects[0]!.id;
    const refused = await exec.call('execute', {
      microflow: 'Sales.PlaceOrder',
      parameters: { Order: ref(orderId) },
      user: bob,
      state: created.update?.state,
      fromClient: true,
    });
    expect(refused.result).toEqual({ kind: { $case: 'boolean', value: false } });
    expect(refused.instructions).toEqual([
      {
        kind: {
          $case: 'showMessage',
          value: {
            type: 'error',
            text: 'Add at least one product before placing the order.',
            blocking: true,
          },
        },
      },
    ]);
    expect(refused.update?.state?.objects.map((o) => o.id)).toEqual([orderId]);
  });
});

describe('the helpdesk example through the gRPC service', () => {
  let site: TestSite;
  let exec: TestExecutor;

  beforeAll(async () => {
    site = await createTestSite('helpdesk');
    exec = await startTestExecutor(site, join(EXAMPLES_DIR, 'helpdesk'));
  });

  afterAll(async () => {
    await exec.stop();
    await site.cleanup();
  });

  it('takes an anonymous submission, then triages, assigns and tags it as an agent', async () => {
    const anonymous: common.UserContext = { ...user('', '', ['Anonymous']), anonymous: true };
    const form = await exec.call('execute', {
      microflow: 'Helpdesk.DS_NewSubmitForm',
      parameters: {},
      user: anonymous,
      state: { objects: [] },
      fromClient: true,
    });
    const formId = kindOf(form.result) as string;
    const filled = edit(form.update?.state, formId, {
      Kind: enumKey('Bug'),
      Name: str('Visitor'),
      Email: str('visitor@example.com'),
      Subject: str('It crashes'),
      Description: str('Every time.'),
    });
    const submitted = await exec.call('execute', {
      microflow: 'Helpdesk.ACT_SubmitTicket',
      parameters: { Form: ref(formId) },
      user: anonymous,
      state: filled,
      fromClient: true,
    });
    expect(submitted.result).toEqual({ kind: { $case: 'boolean', value: true } });
    expect(submitted.instructions.map((i) => i.kind?.$case)).toEqual(['showMessage', 'closePage']);

    const annId = await seed(exec, 'Helpdesk.Agent', { Name: str('ann'), DisplayName: str('Ann') });
    const ann = user(annId, 'ann', ['Agent']);
    const tickets = await exec.call('retrieve', {
      user: ann,
      query: {
        $case: 'xpath',
        value: {
          entity: 'Helpdesk.Ticket',
          constraint: "[Subject = 'It crashes']",
          sort: [],
          offset: 0n,
          amount: 0n,
          includeCount: false,
        },
      },
    });
    const ticket = tickets.objects[0];
    expect(ticket).toMatchObject({ entity: 'Helpdesk.BugReport' });
    expect(ticket?.members.Priority).toEqual(enumKey('High'));
    const ticketId = ticket!.id;

    // Severity 5: triage makes it urgent, opens it and tries to post to chat (no code: the
    // error is handled by the node's Continue).
    const severe = {
      id: ticketId,
      entity: 'Helpdesk.BugReport',
      state: S.OBJECT_STATE_CHANGED,
      members: { Severity: int(5n) },
      readOnlyMembers: [],
    };
    const triaged = await exec.call('execute', {
      microflow: 'Helpdesk.TriageTicket',
      parameters: { Ticket: ref(ticketId) },
      user: ann,
      state: { objects: [severe] },
      fromClient: true,
    });
    const after = triaged.update?.objects.find((o) => o.id === ticketId);
    expect(after?.members).toMatchObject({
      Priority: enumKey('Urgent'),
      State: enumKey('Open'),
      Severity: int(5n),
    });

    const assigned = await exec.call('execute', {
      microflow: 'Helpdesk.AssignToLeastBusyAgent',
      parameters: { Ticket: ref(ticketId) },
      user: ann,
      state: { objects: [] },
      fromClient: true,
    });
    expect(assigned.update?.objects.find((o) => o.id === ticketId)?.members['Helpdesk.Ticket_Agent']).toEqual(
      ref(annId),
    );

    const tagId = await seed(exec, 'Helpdesk.Tag', { Name: str('crash'), Color: str('#ff0000') });
    const tagged = await exec.call('execute', {
      microflow: 'Helpdesk.AddTag',
      parameters: { Ticket: ref(ticketId), Tag: ref(tagId) },
      user: ann,
      state: { objects: [] },
      fromClient: true,
    });
    expect(tagged.update?.objects.find((o) => o.id === ticketId)?.members['Helpdesk.Ticket_Tag']).toEqual({
      kind: { $case: 'objectIds', value: { ids: [tagId] } },
    });
    const byTag = await exec.call('retrieve', {
      user: ann,
      query: { $case: 'association', value: { objectId: ticketId, association: 'Helpdesk.Ticket_Tag' } },
    });
    expect(byTag.objects.map((o) => kindOf(o.members.Name))).toEqual(['crash']);
  });

  it('gives validation feedback for a submission without an email address', async () => {
    const anonymous: common.UserContext = { ...user('', '', ['Anonymous']), anonymous: true };
    const form = await exec.call('execute', {
      microflow: 'Helpdesk.DS_NewSubmitForm',
      parameters: {},
      user: anonymous,
      state: { objects: [] },
      fromClient: true,
    });
    const formId = kindOf(form.result) as string;
    const refused = await exec.call('execute', {
      microflow: 'Helpdesk.ACT_SubmitTicket',
      parameters: { Form: ref(formId) },
      user: anonymous,
      state: edit(form.update?.state, formId, { Email: str('  ') }),
      fromClient: true,
    });
    expect(refused.result).toEqual({ kind: { $case: 'boolean', value: false } });
    expect(refused.instructions).toEqual([
      {
        kind: {
          $case: 'validationFeedback',
          value: {
            objectId: formId,
            entity: 'Helpdesk.SubmitForm',
            member: 'Email',
            message: 'We need an email address to answer you.',
          },
        },
      },
    ]);
  });
});
