import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Decimal, type MxValue } from '@runplane/expressions';
import { SYSTEM_CONTEXT, type MxObject, type UnitOfWork } from '@runplane/persistence';
import { MicroflowErrorCode, type MicroflowError } from './errors.js';
import type { TaskScheduler } from './types.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  type TestDatabase,
} from './testing/harness.js';

const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Customer:
    attributes:
      Name: String
  Order:
    attributes:
      Number: Integer
      Total: Decimal
      Note: String
  Tag:
    attributes:
      Label: String
associations:
  Order_Customer: { owner: Order, target: Customer }
  Order_Tag: { type: ReferenceSet, owner: Order, target: Tag }
`;

const FLOWS = `module: App
taskQueues:
  Background: { threads: 1 }
microflows:
  Seed:
    start: customer
    nodes:
      customer: { kind: create, entity: Customer, members: { Name: "'Ada'" }, commit: yes, output: C, next: o1 }
      o1: { kind: create, entity: Order, members: { Number: '1', Total: '10', App.Order_Customer: $C }, commit: yes, output: O1, next: o2 }
      o2: { kind: create, entity: Order, members: { Number: '2', Total: '30', App.Order_Customer: $C }, commit: yes, output: O2, next: o3 }
      o3: { kind: create, entity: Order, members: { Number: '3', Total: '20', App.Order_Customer: $C }, commit: yes, output: O3, next: o4 }
      o4: { kind: create, entity: Order, members: { Number: '4', Total: '40' }, commit: yes, output: O4, next: done }
      done: { kind: end }

  Page:
    parameters: { MinTotal: Decimal, Offset: Integer, Amount: Integer }
    returnType: String
    start: page
    nodes:
      page:
        kind: retrieve
        entity: Order
        xpath: '[Total >= $MinTotal]'
        sort: { Total: desc }
        range: { offset: $Offset, amount: $Amount }
        output: Orders
        next: first
      first: { kind: retrieve, entity: Order, xpath: '[Total >= $MinTotal]', sort: { Total: asc }, range: first, output: Lowest, next: done }
      done:
        kind: end
        value: "toString($Lowest/Number) + ':' + toString(length($Orders))"

  Numbers:
    parameters: { Orders: List<Order> }
    returnType: String
    start: text
    nodes:
      text: { kind: createVariable, type: String, value: "''", output: T, next: each }
      each:
        kind: loop
        over: $Orders
        iterator: O
        body:
          start: add
          nodes:
            add: { kind: changeVariable, variable: $T, value: "$T + toString($O/Number)" }
        next: done
      done: { kind: end, value: $T }

  CustomerOf:
    parameters: { Number: Integer }
    returnType: String
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: done }
      done: { kind: end, value: $O/App.Order_Customer/Name }

  Uncommitted:
    returnType: String
    start: newCustomer
    nodes:
      newCustomer: { kind: create, entity: Customer, members: { Name: "'Bea'" }, output: B, next: order }
      order: { kind: retrieve, entity: Order, xpath: '[Number = 4]', range: first, output: O, next: link }
      link: { kind: change, object: $O, members: { App.Order_Customer: $B }, next: overAssoc }
      overAssoc: { kind: retrieve, association: Order_Customer, object: $O, output: ViaAssoc, next: fromDb }
      fromDb: { kind: retrieve, entity: Order, xpath: "[App.Order_Customer/App.Customer/Name = 'Bea']", output: ViaDb, next: back }
      back: { kind: retrieve, association: Order_Customer, object: $B, output: OrdersOfBea, next: done }
      done:
        kind: end
        value: "$ViaAssoc/Name + ' ' + toString(length($ViaDb)) + ' ' + toString(length($OrdersOfBea)) + ' ' + $O/App.Order_Customer/Name"

  Edit:
    parameters: { Number: Integer, Note: String }
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: change }
      change: { kind: change, object: $O, members: { Note: $Note }, commit: yes, refreshInClient: true, next: done }
      done: { kind: end }

  EditNoCommit:
    parameters: { Number: Integer, Note: String }
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: change }
      change: { kind: change, object: $O, members: { Note: $Note }, next: done }
      done: { kind: end }

  ChangeThenRollback:
    parameters: { Number: Integer }
    returnType: String
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: change }
      change: { kind: change, object: $O, members: { Note: "'temporary'" }, next: undo }
      undo: { kind: rollback, object: $O, refreshInClient: true, next: done }
      done: { kind: end, value: "if $O/Note = empty then 'reverted' else $O/Note" }

  Remove:
    parameters: { Number: Integer }
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: remove }
      remove: { kind: delete, object: $O, next: done }
      done: { kind: end }

  Tagging:
    returnType: String
    start: order
    nodes:
      order: { kind: retrieve, entity: Order, xpath: '[Number = 1]', range: first, output: O, next: red }
      red: { kind: create, entity: Tag, members: { Label: "'red'" }, commit: yes, output: Red, next: blue }
      blue: { kind: create, entity: Tag, members: { Label: "'blue'" }, commit: yes, output: Blue, next: addBoth }
      addBoth: { kind: createList, entity: Tag, output: Both, next: fill }
      fill: { kind: changeList, list: $Both, operation: add, value: $Red, next: fill2 }
      fill2: { kind: changeList, list: $Both, operation: add, value: $Blue, next: setTags }
      setTags: { kind: change, object: $O, members: { App.Order_Tag: { add: $Both } }, commit: yes, next: dropRed }
      dropRed: { kind: change, object: $O, members: { App.Order_Tag: { remove: $Red } }, commit: yes, next: tags }
      tags: { kind: retrieve, association: Order_Tag, object: $O, output: Tags, next: first }
      first: { kind: listOperation, operation: head, list: $Tags, output: Left, next: done }
      done: { kind: end, value: "toString(length($Tags)) + ' ' + $Left/Label" }

  Talk:
    parameters: { Number: Integer }
    start: find
    nodes:
      find: { kind: retrieve, entity: Order, xpath: '[Number = $Number]', range: first, output: O, next: feedback }
      feedback: { kind: validationFeedback, object: $O, member: Note, template: 'Note of order {1} is required', parameters: ['toString($O/Number)'], next: message }
      message: { kind: showMessage, type: warning, template: 'Careful with {1}', parameters: ["'this'"], blocking: false, next: open }
      open: { kind: openPage, page: OrderPage, parameters: { Order: $O }, title: 'Order page', next: close }
      close: { kind: closePage, count: 2, next: log }
      log: { kind: logMessage, level: warning, logNode: Shop.Orders, template: 'Order {1} talked about', parameters: ['toString($O/Number)'], next: done }
      done: { kind: end }

  Later:
    parameters: { Number: Integer }
    start: queue
    nodes:
      queue: { kind: callMicroflow, microflow: Remove, parameters: { Number: $Number }, taskQueue: Background, next: done }
      done: { kind: end }

  Empty:
    start: nothing
    nodes:
      nothing: { kind: retrieve, entity: Order, xpath: '[Number = 999]', range: first, output: O, next: change }
      change: { kind: change, object: $O, members: { Note: "'x'" }, next: done }
      done: { kind: end }
`;

const PAGES = `module: App
pages:
  OrderPage:
    title: Order
    parameters: { Order: Order }
    widgets:
      - kind: dataView
        parameter: Order
        widgets:
          - { kind: textBox, attribute: Note }
`;

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS, 'App/pages.yaml': PAGES });
const scheduled: { queue: string; microflow: string; arguments: ReadonlyMap<string, MxValue> }[] = [];
const tasks: TaskScheduler = {
  schedule(_uow, task) {
    scheduled.push(task);
    return Promise.resolve(`task-${scheduled.length}`);
  },
};
const { engine, logs } = testEngine(model, { tasks });
let database: TestDatabase;

async function orders(uow: UnitOfWork): Promise<MxObject[]> {
  return [
    ...(await uow.retrieve({ entity: 'App.Order', sort: [{ attribute: 'Number', descending: false }] }))
      .objects,
  ];
}

async function noteOf(number: number): Promise<MxValue> {
  return database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const found = await uow.retrieve({ entity: 'App.Order', xpath: `[Number = ${number}]` });
    const order = found.objects[0];
    return order === undefined ? 'missing' : order.get('Note');
  });
}

beforeAll(async () => {
  database = await testDatabase(model, 'objects');
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
    for (const entity of ['App.Order', 'App.Customer', 'App.Tag']) {
      await uow.delete((await uow.retrieve({ entity })).objects);
    }
  });
  await resultOf(engine, database.db, { microflow: 'App.Seed' });
  logs.lines.length = 0;
});

describe('retrieve', () => {
  it('retrieves from the database by XPath with variables, sort, a custom range and the first object', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Page',
      arguments: { MinTotal: new Decimal(15), Offset: 1n, Amount: 2n },
    });
    // Totals >= 15: 40, 30, 20 → offset 1, two of them; the lowest is order 3 (20).
    expect(result).toBe('3:2');
  });

  it('passes a retrieved list to a sub-microflow in the retrieve order', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Numbers',
      prepare: async (uow) => ({ Orders: await orders(uow) }),
    });
    expect(result).toBe('1234');
  });

  it('walks associations in expressions', async () => {
    expect(
      (await resultOf(engine, database.db, { microflow: 'App.CustomerOf', arguments: { Number: 2n } }))
        .result,
    ).toBe('Ada');
  });

  it('sees uncommitted changes over an association but not by XPath', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.Uncommitted' });
    expect(result).toBe('Bea 0 1 Bea');
  });
});

describe('change, commit, rollback and delete', () => {
  it('commits a change when asked and asks the client to refresh the object', async () => {
    const { instructions } = await resultOf(engine, database.db, {
      microflow: 'App.Edit',
      arguments: { Number: 2n, Note: 'rush' },
    });
    expect(await noteOf(2)).toBe('rush');
    expect(instructions).toEqual([
      { kind: 'refreshObject', objectId: expect.any(String) as string, entity: 'App.Order' },
    ]);
  });

  it('leaves an uncommitted change out of the database', async () => {
    await resultOf(engine, database.db, {
      microflow: 'App.EditNoCommit',
      arguments: { Number: 2n, Note: 'lost' },
    });
    expect(await noteOf(2)).toBeNull();
  });

  it('rolls an object back to its stored values', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.ChangeThenRollback',
      arguments: { Number: 1n },
    });
    expect(result).toBe('reverted');
  });

  it('deletes an object', async () => {
    await resultOf(engine, database.db, { microflow: 'App.Remove', arguments: { Number: 3n } });
    expect(await noteOf(3)).toBe('missing');
  });

  it('adds to and removes from a reference set', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.Tagging' });
    expect(result).toBe('1 blue');
  });

  it('fails naming the variable when an activity gets an empty object', async () => {
    const error = (await errorOf(engine, database.db, { microflow: 'App.Empty' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.ObjectEmpty);
    expect(error.message).toContain('$O');
  });
});

describe('client activities, logging and task queues', () => {
  it('gives validation feedback, messages and page instructions in order, and logs on the log node', async () => {
    const { instructions } = await resultOf(engine, database.db, {
      microflow: 'App.Talk',
      arguments: { Number: 1n },
    });
    expect(instructions).toHaveLength(4);
    expect(instructions[0]).toMatchObject({
      kind: 'validationFeedback',
      entity: 'App.Order',
      member: 'Note',
      message: 'Note of order 1 is required',
    });
    expect(instructions[1]).toEqual({
      kind: 'showMessage',
      type: 'warning',
      message: 'Careful with this',
      blocking: false,
    });
    expect(instructions[2]).toMatchObject({ kind: 'openPage', page: 'App.OrderPage', title: 'Order page' });
    const open = instructions[2];
    expect(
      open?.kind === 'openPage' ? (open.arguments.get('Order') as MxObject).get('Number') : undefined,
    ).toBe(1n);
    expect(instructions[3]).toEqual({ kind: 'closePage', count: 2 });
    const line = logs.find('Order 1 talked about')[0];
    expect(line).toMatchObject({
      level: 'warn',
      log_node: 'Shop.Orders',
      microflow: 'App.Talk',
      node: 'log',
    });
  });

  it('hands a call on a task queue to the task scheduler instead of running it', async () => {
    scheduled.length = 0;
    await resultOf(engine, database.db, { microflow: 'App.Later', arguments: { Number: 4n } });
    expect(scheduled).toEqual([
      { queue: 'App.Background', microflow: 'App.Remove', arguments: new Map([['Number', 4n]]) },
    ]);
    expect(await noteOf(4)).toBeNull();
  });

  it('fails a call on a task queue when the engine has no task scheduler', async () => {
    const { engine: bare } = testEngine(model);
    const error = (await errorOf(bare, database.db, {
      microflow: 'App.Later',
      arguments: { Number: 4n },
    })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.TaskQueueUnavailable);
  });
});
