import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, startDataStack, type DataStack } from '../testing/stack.js';

const ORDERS_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'orders');

interface WireObject {
  id: string;
  entity: string;
  state: string;
  members: Record<string, unknown>;
}

const basic = (user: string): string => `Basic ${Buffer.from(`${user}:Password1!`).toString('base64')}`;

describe('the data actions of POST /xas/ (orders, in process, on PostgreSQL)', () => {
  let stack: DataStack;
  let productId: string;
  let aliceId: string;

  async function count(table: string): Promise<number> {
    const { rows } = await stack.sql.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
    return Number(rows[0]?.n);
  }

  /** alice's draft order with one line of `quantity`, in her state; returns the order's id. */
  async function draftOrder(alice: Browser, quantity: number): Promise<string> {
    const order = await alice.call('instantiate', { entity: 'Sales.Order' }, { withState: true });
    expect(order.status).toBe(200);
    const orderId = (order.body.object as WireObject).id;
    const line = await alice.call('instantiate', { entity: 'Sales.OrderLine' }, { withState: true });
    const lineId = (line.body.object as WireObject).id;
    const changed = await alice.call(
      'change',
      {
        objects: [
          { id: orderId, members: { 'Sales.Order_Customer': aliceId, Note: 'Leave at the door' } },
          {
            id: lineId,
            members: {
              Quantity: quantity,
              'Sales.OrderLine_Product': productId,
              'Sales.OrderLine_Order': orderId,
            },
          },
        ],
      },
      { withState: true },
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    return orderId;
  }

  beforeAll(async () => {
    stack = await startDataStack(ORDERS_DIR);
    const res = await fetch(`${stack.url}/rest/orders/v1/products`, {
      method: 'POST',
      headers: { authorization: basic('sam'), 'content-type': 'application/json' },
      body: JSON.stringify({ Code: 'W-1', Name: 'Widget', Price: '12.50', Stock: 10 }),
    });
    expect(res.status).toBe(201);
    productId = ((await res.json()) as { id: string }).id;
    const alice = new Browser(stack.url);
    await alice.login('alice');
    aliceId = ((await alice.call('get_session_data')).body.user as { id: string }).id;
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('carries new objects in the client’s state until a microflow commits them', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const before = await count('sales$order');
    const orderId = await draftOrder(alice, 2);
    expect(alice.state.objects.map((o) => (o as WireObject).state)).toEqual(['new', 'new']);
    expect(await count('sales$order')).toBe(before);
    const placed = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { withState: true },
    );
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body).toMatchObject({ result: true, state: { objects: [] }, deleted: [] });
    expect(placed.body.committed).toEqual(expect.arrayContaining([orderId]));
    const shown = (placed.body.objects as WireObject[]).find((o) => o.id === orderId);
    expect(shown?.members).toMatchObject({
      Status: 'Placed',
      Subtotal: '25',
      Total: '30.25',
      Note: 'Leave at the door',
    });
    const { rows } = await stack.sql.query<{ status: string; total: string; owner: string }>(
      'SELECT status, total, "system$owner" AS owner FROM "sales$order" WHERE id = $1',
      [orderId],
    );
    expect(rows).toEqual([{ status: 'Placed', total: '30.25000000', owner: aliceId }]);
  });

  it('answers a commit that fails validation with 422 and the feedback to show, writing nothing', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const made = await alice.call('instantiate', { entity: 'Sales.Order' }, { withState: true });
    const orderId = (made.body.object as WireObject).id;
    const before = await count('sales$order');
    const res = await alice.call('commit', { ids: [orderId] }, { withState: true });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: {
        problems: [
          { objectId: orderId, member: 'Sales.Order_Customer', message: 'An order belongs to a customer.' },
        ],
        instructions: [
          {
            type: 'validationFeedback',
            objectId: orderId,
            entity: 'Sales.Order',
            member: 'Sales.Order_Customer',
            message: 'An order belongs to a customer.',
          },
        ],
      },
    });
    expect(await count('sales$order')).toBe(before);
    // The client keeps the state it sent: the order is still there, new.
    expect(alice.state.objects.map((o) => (o as WireObject).id)).toEqual([orderId]);
  });

  it('shows a microflow’s validation feedback with a 200 when the microflow handles it', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const orderId = await draftOrder(alice, 500);
    const res = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { withState: true },
    );
    expect(res.status).toBe(200);
    expect(res.body.result).toBe(false);
    expect(res.body.instructions).toEqual([
      expect.objectContaining({
        type: 'validationFeedback',
        member: 'Quantity',
        message: expect.stringMatching(/left in stock/) as unknown,
      }),
    ]);
    expect((res.body.state as { objects: WireObject[] }).objects.map((o) => o.state)).toEqual(['new', 'new']);
  });

  it('refuses a change of a member the user may not write, and the state stays as it was', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const made = await alice.call('instantiate', { entity: 'Sales.Order' }, { withState: true });
    const orderId = (made.body.object as WireObject).id;
    const sent = JSON.stringify(alice.state);
    const res = await alice.call(
      'change',
      { objects: [{ id: orderId, members: { Status: 'Approved' } }] },
      { withState: true },
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'MEMBER_NOT_WRITABLE' });
    expect(JSON.stringify(alice.state)).toBe(sent);
  });

  it('rolls back a new object: it leaves the state and is reported deleted', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const made = await alice.call('instantiate', { entity: 'Sales.Order' }, { withState: true });
    const orderId = (made.body.object as WireObject).id;
    const res = await alice.call('rollback', { ids: [orderId] }, { withState: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: { objects: [] }, deleted: [orderId], committed: [] });
  });

  it('keeps one customer’s orders from another, by XPath and by id, and refuses them her delete', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const own = await alice.call('retrieve_by_xpath', {
      xpath: "//Sales.Order[Status = 'Placed']",
      count: true,
    });
    expect(own.status).toBe(200);
    const ids = (own.body.objects as WireObject[]).map((o) => o.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(own.body.count).toBe(ids.length);
    const bob = new Browser(stack.url);
    await bob.login('bob');
    expect((await bob.call('retrieve_by_xpath', { xpath: '//Sales.Order', count: true })).body).toEqual({
      objects: [],
      count: 0,
    });
    expect((await bob.call('retrieve_by_ids', { ids })).body).toEqual({ objects: [] });
    const before = await count('sales$order');
    const del = await alice.call('delete', { ids: [ids[0]] }, { withState: true });
    expect(del.status).toBe(403);
    expect(del.body).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await count('sales$order')).toBe(before);
  });

  it('refuses an XPath on a member the user may not read, and one that does not compile', async () => {
    const bob = new Browser(stack.url);
    await bob.login('bob');
    const hidden = await bob.call('retrieve_by_xpath', { xpath: '//Sales.Product[Stock > 5]' });
    expect(hidden.status).toBe(403);
    expect(hidden.body).toMatchObject({ code: 'MEMBER_NOT_READABLE', details: { member: 'Stock' } });
    const path = await bob.call('retrieve_by_xpath', {
      xpath: '//Sales.OrderLine[Sales.OrderLine_Product/Sales.Product/Stock > 5]',
    });
    expect(path.status).toBe(403);
    const broken = await bob.call('retrieve_by_xpath', { xpath: '//Sales.Product[Price >' });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 'XPATH_INVALID' });
    expect((await bob.call('retrieve_by_xpath', { xpath: '//Sales.Nothing' })).status).toBe(400);
  });

  it('runs a microflow only for the roles it allows; sam approves a placed order', async () => {
    const bob = new Browser(stack.url);
    await bob.login('bob');
    const sam = new Browser(stack.url);
    await sam.login('sam');
    const placed = await sam.call('retrieve_by_xpath', {
      xpath: "//Sales.Order[Status = 'Placed']",
      sort: [['Number', 'asc']],
    });
    const order = (placed.body.objects as WireObject[])[0];
    expect(order).toBeDefined();
    const refused = await bob.call(
      'executeaction',
      { microflow: 'Sales.ApproveOrder', parameters: { Order: order?.id } },
      { withState: true },
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'MICROFLOW_FORBIDDEN' });
    const missing = await sam.call('executeaction', { microflow: 'Sales.Nope' }, { withState: true });
    expect(missing.status).toBe(404);
    const approved = await sam.call(
      'executeaction',
      { microflow: 'Sales.ApproveOrder', parameters: { Order: order?.id } },
      { withState: true },
    );
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const { rows } = await stack.sql.query<{ status: string }>(
      'SELECT status FROM "sales$order" WHERE id = $1',
      [order?.id],
    );
    expect(rows[0]?.status).toBe('Approved');
    expect(await count('sales$invoice')).toBe(1);
  });

  it('checks the state and the CSRF token before anything runs', async () => {
    const alice = new Browser(stack.url);
    await alice.login('alice');
    const before = await count('sales$order');
    const orderId = await draftOrder(alice, 1);
    const noToken = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { withState: true, csrf: null, keepState: false },
    );
    expect(noToken.status).toBe(403);
    expect(noToken.body).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    const wrongToken = await alice.call(
      'commit',
      { ids: [orderId] },
      { withState: true, csrf: 'x'.repeat(43) },
    );
    expect(wrongToken.status).toBe(403);
    expect(await count('sales$order')).toBe(before);
    const saved = alice.state;
    alice.state = {
      objects: [{ id: orderId, entity: 'Sales.Order', state: 'new', members: { Colour: 'red' } }],
    };
    const badState = await alice.call('commit', { ids: [orderId] }, { withState: true });
    expect(badState.status).toBe(400);
    expect(badState.body).toMatchObject({ code: 'INVALID_STATE', details: { member: 'Colour' } });
    alice.state = { objects: [{ id: orderId, entity: 'Sales.Order', state: 'committed', members: {} }] };
    expect((await alice.call('commit', { ids: [orderId] }, { withState: true })).body).toMatchObject({
      code: 'INVALID_STATE',
    });
    alice.state = saved;
    const stateless = await alice.call('retrieve_by_xpath', { xpath: '//Sales.Order' }, { withState: true });
    expect(stateless.status).toBe(400);
    expect(stateless.body).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await count('sales$order')).toBe(before);
  });

  it('documents every data action, with the state it takes, in the protocol schema', async () => {
    const doc = (await (await fetch(`${stack.url}/xas/schema`)).json()) as {
      actions: Record<
        string,
        { takesState: boolean; csrfTokenRequired: boolean; request: { properties: Record<string, unknown> } }
      >;
    };
    for (const name of [
      'retrieve_by_ids',
      'instantiate',
      'change',
      'commit',
      'delete',
      'rollback',
      'executeaction',
    ]) {
      expect(doc.actions[name]?.takesState, name).toBe(true);
      expect(doc.actions[name]?.request.properties.state, name).toBeDefined();
    }
    expect(doc.actions.retrieve_by_xpath).toMatchObject({ takesState: false, csrfTokenRequired: false });
    expect(doc.actions.commit).toMatchObject({ csrfTokenRequired: true });
  });
});
