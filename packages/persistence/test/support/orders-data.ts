/**
 * A small data set of the orders example: two customers with orders, a sales user, an
 * administrator, products, order lines and an invoice. Orders are created by their
 * customers, so `System.owner` is the customer.
 */
import { Decimal } from '@runplane/expressions';
import type { RunplaneDatabase, RunplaneUnitOfWork } from '../../src/index.js';
import { SYSTEM_CONTEXT, userContext } from './fixtures.js';

export interface OrdersData {
  readonly users: {
    readonly alice: string;
    readonly bob: string;
    readonly sam: string;
    readonly admin: string;
  };
  readonly products: { readonly widget: string; readonly gadget: string; readonly retired: string };
  readonly orders: { readonly aliceDraft: string; readonly alicePlaced: string; readonly bobPlaced: string };
  readonly lines: { readonly aliceDraft: string; readonly alicePlaced: string; readonly bobPlaced: string };
  readonly invoice: string;
}

async function customer(uow: RunplaneUnitOfWork, name: string): Promise<string> {
  const object = await uow.instantiate('Sales.Customer');
  object.set('Name', name);
  object.set('FullName', `${name[0]?.toUpperCase() ?? ''}${name.slice(1)}`);
  object.set('Email', `${name}@example.com`);
  await uow.commit([object]);
  return object.id;
}

async function user(uow: RunplaneUnitOfWork, name: string): Promise<string> {
  const object = await uow.instantiate('System.User');
  object.set('Name', name);
  await uow.commit([object]);
  return object.id;
}

async function product(
  uow: RunplaneUnitOfWork,
  code: string,
  name: string,
  price: string,
  active: boolean,
): Promise<string> {
  const object = await uow.instantiate('Sales.Product');
  object.set('Code', code);
  object.set('Name', name);
  object.set('Price', new Decimal(price));
  object.set('Stock', 100n);
  object.set('Active', active);
  await uow.commit([object]);
  return object.id;
}

/** An order of the signed-in customer with one line; returns the order's and the line's ids. */
async function order(
  uow: RunplaneUnitOfWork,
  customerId: string,
  productId: string,
  status: string,
  total: string,
): Promise<[string, string]> {
  const system = uow.asSystem();
  const object = await system.instantiate('Sales.Order');
  object.setReference('Sales.Order_Customer', customerId);
  object.set('Status', status);
  object.set('Total', new Decimal(total));
  object.set('PlacedOn', status === 'Draft' ? null : new Date('2024-05-01T10:00:00Z'));
  const line = await system.instantiate('Sales.OrderLine');
  line.setReference('Sales.OrderLine_Order', object.id);
  line.setReference('Sales.OrderLine_Product', productId);
  line.set('Quantity', 2n);
  await system.commit([object, line]);
  return [object.id, line.id];
}

/** Creates the data set. */
export async function seedOrders(db: RunplaneDatabase): Promise<OrdersData> {
  const setup = await db.transaction(SYSTEM_CONTEXT, async (uow) => ({
    alice: await customer(uow, 'alice'),
    bob: await customer(uow, 'bob'),
    sam: await user(uow, 'sam'),
    admin: await user(uow, 'admin'),
    widget: await product(uow, 'W-1', 'Widget', '10.00', true),
    gadget: await product(uow, 'G-1', 'Gadget', '25.50', true),
    retired: await product(uow, 'R-1', 'Retired thing', '5.00', false),
  }));
  const alice = await db.transaction(userContext(setup.alice, ['Customer']), async (uow) => ({
    draft: await order(uow, setup.alice, setup.widget, 'Draft', '20.00'),
    placed: await order(uow, setup.alice, setup.gadget, 'Placed', '51.00'),
  }));
  const bob = await db.transaction(userContext(setup.bob, ['Customer']), (uow) =>
    order(uow, setup.bob, setup.widget, 'Placed', '20.00'),
  );
  const invoice = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const object = await uow.instantiate('Sales.Invoice');
    object.set('InvoiceNumber', 'INV-1');
    object.set('Name', 'invoice.pdf');
    object.setReference('Sales.Invoice_Order', alice.placed[0]);
    await uow.commit([object]);
    return object.id;
  });
  return {
    users: { alice: setup.alice, bob: setup.bob, sam: setup.sam, admin: setup.admin },
    products: { widget: setup.widget, gadget: setup.gadget, retired: setup.retired },
    orders: { aliceDraft: alice.draft[0], alicePlaced: alice.placed[0], bobPlaced: bob[0] },
    lines: { aliceDraft: alice.draft[1], alicePlaced: alice.placed[1], bobPlaced: bob[1] },
    invoice,
  };
}
