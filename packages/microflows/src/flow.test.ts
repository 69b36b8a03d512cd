import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, type MxValue } from '@runplane/expressions';
import type { MxObject, UnitOfWork } from '@runplane/persistence';
import { resultOf, testDatabase, testEngine, testModel, type TestDatabase } from './testing/harness.js';

const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
enumerations:
  Kind: { values: { Small: Small, Large: Large } }
entities:
  Item:
    persistable: false
    attributes:
      Name: String
      Qty: Integer
      Price: Decimal
      Kind: { type: Enumeration, enumeration: Kind }
  Shape:
    persistable: false
    attributes: { Label: String }
  Circle:
    persistable: false
    generalization: Shape
    attributes: { Radius: Decimal }
  Square:
    persistable: false
    generalization: Shape
    attributes: { Side: Decimal }
`;

const FLOWS = `module: App
microflows:
  Classify:
    parameters: { n: Integer }
    returnType: String
    start: big
    nodes:
      big:
        kind: decision
        expression: $n > 10
        cases: { 'true': isBig, 'false': isSmall }
      isBig: { kind: createVariable, type: String, value: "'big'", output: Word, next: join }
      isSmall: { kind: createVariable, type: String, value: "'small'", output: Word2, next: join2 }
      join: { kind: merge, next: doneBig }
      join2: { kind: merge, next: doneSmall }
      doneBig: { kind: end, value: $Word }
      doneSmall: { kind: end, value: $Word2 }

  KindName:
    parameters: { k: Kind }
    returnType: String
    start: byKind
    nodes:
      byKind:
        kind: decision
        expression: $k
        cases: { Small: small, empty: none }
        default: other
      small: { kind: end, value: "'small one'" }
      none: { kind: end, value: "'nothing'" }
      other: { kind: end, value: "'something else'" }

  SumBelow:
    parameters: { n: Integer }
    returnType: Long
    start: total
    nodes:
      total: { kind: createVariable, type: Long, value: '0', output: Total, next: count }
      count:
        kind: while
        condition: $currentIndex < $n
        body:
          start: add
          nodes:
            add: { kind: changeVariable, variable: $Total, value: $Total + $currentIndex }
        next: done
      done: { kind: end, value: $Total }

  Worth:
    parameters: { Items: List<Item> }
    returnType: Decimal
    start: sum
    nodes:
      sum: { kind: createVariable, type: Decimal, value: '0', output: Sum, next: each }
      each:
        kind: loop
        over: $Items
        iterator: It
        body:
          start: stop
          nodes:
            stop:
              kind: decision
              expression: $It/Name = 'stop'
              cases: { 'true': leave, 'false': none }
            leave: { kind: break }
            none:
              kind: decision
              expression: $It/Qty = 0
              cases: { 'true': skip, 'false': add }
            skip: { kind: continue }
            add: { kind: changeVariable, variable: $Sum, value: '$Sum + $It/Price * $It/Qty' }
        next: done
      done: { kind: end, value: $Sum }

  Indexes:
    parameters: { Items: List<Item> }
    returnType: String
    start: text
    nodes:
      text: { kind: createVariable, type: String, value: "''", output: Text, next: outer }
      outer:
        kind: loop
        over: $Items
        iterator: A
        body:
          start: inner
          nodes:
            inner:
              kind: loop
              over: $Items
              iterator: B
              body:
                start: note
                nodes:
                  note: { kind: changeVariable, variable: $Text, value: "$Text + toString($currentIndex)" }
              next: after
            after: { kind: changeVariable, variable: $Text, value: "$Text + '|' + toString($currentIndex) + ' '" }
        next: done
      done: { kind: end, value: $Text }

  Outer:
    parameters: { n: Integer }
    returnType: String
    start: call
    nodes:
      call: { kind: callMicroflow, microflow: Classify, parameters: { n: '$n * 2' }, output: Word, next: done }
      done: { kind: end, value: "'twice ' + toString($n) + ' is ' + $Word" }

  MakeItems:
    returnType: List<Item>
    start: list
    nodes:
      list: { kind: createList, entity: Item, output: Items, next: a }
      a: { kind: create, entity: Item, members: { Name: "'a'", Qty: '2', Price: '1.5', Kind: App.Kind.Small }, output: A, next: b }
      b: { kind: create, entity: Item, members: { Name: "'b'", Qty: '0', Price: '10' }, output: B, next: c }
      c: { kind: create, entity: Item, members: { Name: "'c'", Qty: '3', Price: '2', Kind: App.Kind.Large }, output: C, next: addAll }
      addAll: { kind: changeList, list: $Items, operation: add, value: $A, next: addB }
      addB: { kind: changeList, list: $Items, operation: add, value: $B, next: addC }
      addC: { kind: changeList, list: $Items, operation: add, value: $C, next: done }
      done: { kind: end, value: $Items }

  Fill:
    parameters: { Items: List<Item> }
    start: extra
    nodes:
      extra: { kind: create, entity: Item, members: { Name: "'added by Fill'" }, output: X, next: add }
      add: { kind: changeList, list: $Items, operation: add, value: $X, next: done }
      done: { kind: end }

  ShareList:
    returnType: Integer
    start: make
    nodes:
      make: { kind: createList, entity: Item, output: L, next: fill }
      fill: { kind: callMicroflow, microflow: Fill, parameters: { Items: $L }, next: again }
      again: { kind: callMicroflow, microflow: Fill, parameters: { Items: $L }, next: count }
      count: { kind: aggregate, list: $L, function: count, output: N, next: done }
      done: { kind: end, value: $N }

  ChangeLists:
    parameters: { Items: List<Item> }
    returnType: String
    start: copy
    nodes:
      copy: { kind: createList, entity: Item, output: L, next: add }
      add: { kind: changeList, list: $L, operation: add, value: $Items, next: dup }
      dup: { kind: listOperation, operation: head, list: $Items, output: First, next: addDup }
      addDup: { kind: changeList, list: $L, operation: add, value: $First, next: n1 }
      n1: { kind: aggregate, list: $L, function: count, output: N1, next: remove }
      remove: { kind: changeList, list: $L, operation: remove, value: $First, next: n2 }
      n2: { kind: aggregate, list: $L, function: count, output: N2, next: replace }
      replace: { kind: changeList, list: $L, operation: replace, value: $First, next: n3 }
      n3: { kind: aggregate, list: $L, function: count, output: N3, next: clear }
      clear: { kind: changeList, list: $L, operation: clear, next: n4 }
      n4: { kind: aggregate, list: $L, function: count, output: N4, next: done }
      done: { kind: end, value: "toString($N1) + ',' + toString($N2) + ',' + toString($N3) + ',' + toString($N4)" }

  Operations:
    parameters: { Items: List<Item>, Others: List<Item> }
    returnType: String
    start: union
    nodes:
      union: { kind: listOperation, operation: union, list: $Items, other: $Others, output: U, next: inter }
      inter: { kind: listOperation, operation: intersect, list: $Items, other: $Others, output: I, next: sub }
      sub: { kind: listOperation, operation: subtract, list: $Items, other: $Others, output: S, next: head }
      head: { kind: listOperation, operation: head, list: $Others, output: H, next: has }
      has: { kind: listOperation, operation: contains, list: $Items, other: $H, output: Has, next: same }
      same: { kind: listOperation, operation: equals, list: $Items, other: $Items, output: Same, next: differ }
      differ: { kind: listOperation, operation: equals, list: $Items, other: $Others, output: Differ, next: sorted }
      sorted: { kind: listOperation, operation: sort, list: $U, sort: { Price: desc, Name: asc }, output: Sorted, next: first }
      first: { kind: listOperation, operation: head, list: $Sorted, output: Top, next: tail }
      tail: { kind: listOperation, operation: tail, list: $Sorted, output: Rest, next: range }
      range: { kind: listOperation, operation: range, list: $Sorted, offset: '1', amount: '2', output: Mid, next: small }
      small: { kind: listOperation, operation: filter, list: $U, attribute: Kind, value: App.Kind.Small, output: Smalls, next: findC }
      findC: { kind: listOperation, operation: find, list: $U, attribute: Name, value: "'c'", output: C, next: cheap }
      cheap: { kind: listOperation, operation: filterByExpression, list: $U, expression: '$currentObject/Price < 5', output: Cheap, next: firstBig }
      firstBig: { kind: listOperation, operation: findByExpression, list: $Sorted, expression: '$currentObject/Qty > 2', output: Big, next: nU }
      nU: { kind: aggregate, list: $U, function: count, output: NU, next: nI }
      nI: { kind: aggregate, list: $I, function: count, output: NI, next: nS }
      nS: { kind: aggregate, list: $S, function: count, output: NS, next: nRest }
      nRest: { kind: aggregate, list: $Rest, function: count, output: NRest, next: nMid }
      nMid: { kind: aggregate, list: $Mid, function: count, output: NMid, next: nSmall }
      nSmall: { kind: aggregate, list: $Smalls, function: count, output: NSmall, next: nCheap }
      nCheap: { kind: aggregate, list: $Cheap, function: count, output: NCheap, next: done }
      done:
        kind: end
        value: >-
          toString($NU) + ' ' + toString($NI) + ' ' + toString($NS) + ' ' + toString($Has) + ' ' +
          toString($Same) + ' ' + toString($Differ) + ' ' + $Top/Name + ' ' + toString($NRest) + ' ' +
          toString($NMid) + ' ' + toString($NSmall) + ' ' + $C/Name + ' ' + toString($NCheap) + ' ' + $Big/Name

  Aggregates:
    parameters: { Items: List<Item> }
    returnType: String
    start: count
    nodes:
      count: { kind: aggregate, list: $Items, function: count, output: Count, next: sumQ }
      sumQ: { kind: aggregate, list: $Items, function: sum, attribute: Qty, output: SumQ, next: sumP }
      sumP: { kind: aggregate, list: $Items, function: sum, attribute: Price, output: SumP, next: avg }
      avg: { kind: aggregate, list: $Items, function: average, attribute: Price, output: Avg, next: min }
      min: { kind: aggregate, list: $Items, function: minimum, attribute: Qty, output: Min, next: max }
      max: { kind: aggregate, list: $Items, function: maximum, attribute: Price, output: Max, next: done }
      done:
        kind: end
        value: >-
          toString($Count) + ' ' + toString($SumQ) + ' ' + toString($SumP) + ' ' + toString($Avg) + ' ' +
          toString($Min) + ' ' + toString($Max)

  EmptyAggregates:
    returnType: String
    start: list
    nodes:
      list: { kind: createList, entity: Item, output: None, next: sum }
      sum: { kind: aggregate, list: $None, function: sum, attribute: Price, output: Sum, next: avg }
      avg: { kind: aggregate, list: $None, function: average, attribute: Price, output: Avg, next: max }
      max: { kind: aggregate, list: $None, function: maximum, attribute: Qty, output: Max, next: done }
      done: { kind: end, value: "toString($Sum) + ' ' + toString($Avg) + ' ' + toString($Max = empty)" }

  Describe:
    parameters: { S: Shape }
    returnType: String
    start: split
    nodes:
      split:
        kind: inheritanceSplit
        object: $S
        cases: { Circle: asCircle }
        empty: nothing
        default: plain
      asCircle: { kind: cast, output: C, next: circle }
      circle: { kind: end, value: "'circle of radius ' + toString($C/Radius)" }
      nothing: { kind: end, value: "'no shape'" }
      plain: { kind: end, value: "'a shape called ' + $S/Label" }

  MakeShape:
    parameters: { kind: String }
    returnType: Shape
    start: which
    nodes:
      which:
        kind: decision
        expression: $kind = 'circle'
        cases: { 'true': circle, 'false': square }
      circle: { kind: create, entity: Circle, members: { Radius: '2.5', Label: "'c'" }, output: C, next: doneC }
      square: { kind: create, entity: Square, members: { Side: '1', Label: "'sq'" }, output: Q, next: doneQ }
      doneC: { kind: end, value: $C }
      doneQ: { kind: end, value: $Q }

  ChangeAndSee:
    returnType: String
    start: make
    nodes:
      make: { kind: create, entity: Item, members: { Name: "'x'", Qty: '1' }, output: It, next: change }
      change: { kind: change, object: $It, members: { Name: "$It/Name + 'y'", Qty: '$It/Qty + 1' }, next: done }
      done: { kind: end, value: "$It/Name + toString($It/Qty)" }
`;

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS });
const { engine } = testEngine(model);
let database: TestDatabase;

beforeAll(async () => {
  database = await testDatabase(model, 'flow');
});
afterAll(async () => {
  await database.drop();
});

async function run(microflow: string, args: Record<string, MxValue> = {}): Promise<MxValue> {
  return (await resultOf(engine, database.db, { microflow, arguments: args })).result;
}

async function items(uow: UnitOfWork, ...specs: [string, bigint, string, string?][]): Promise<MxObject[]> {
  const list: MxObject[] = [];
  for (const [name, qty, price, kind] of specs) {
    const item = await uow.instantiate('App.Item');
    item.set('Name', name);
    item.set('Qty', qty);
    item.set('Price', new Decimal(price));
    if (kind !== undefined) item.set('Kind', kind);
    list.push(item);
  }
  return list;
}

describe('decisions, merges and end events', () => {
  it('follows the true or false flow of a Boolean decision to the matching end value', async () => {
    expect(await run('App.Classify', { n: 11n })).toBe('big');
    expect(await run('App.Classify', { n: 10n })).toBe('small');
  });

  it('follows the case of an enumeration value, the empty case, and the default for the rest', async () => {
    expect(await run('App.KindName', { k: 'Small' })).toBe('small one');
    expect(await run('App.KindName', { k: null })).toBe('nothing');
    expect(await run('App.KindName', { k: 'Large' })).toBe('something else');
  });

  it('passes arguments to a sub-microflow and uses its return value', async () => {
    expect(await run('App.Outer', { n: 6n })).toBe('twice 6 is big');
  });
});

describe('loops', () => {
  it('runs a while loop until its condition fails, counting $currentIndex from 0', async () => {
    expect(await run('App.SumBelow', { n: 5n })).toBe(10n);
    expect(await run('App.SumBelow', { n: 0n })).toBe(0n);
  });

  it('skips an iteration on continue and leaves the loop on break', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Worth',
      prepare: async (uow) => ({
        Items: await items(
          uow,
          ['a', 2n, '1.25'],
          ['zero', 0n, '100'],
          ['b', 1n, '3'],
          ['stop', 5n, '7'],
          ['c', 1n, '1000'],
        ),
      }),
    });
    expect((result as Decimal).toString()).toBe('5.5');
  });

  it('gives each nested loop its own $currentIndex and restores the outer one', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Indexes',
      prepare: async (uow) => ({ Items: await items(uow, ['a', 1n, '1'], ['b', 1n, '1']) }),
    });
    expect(result).toBe('01|0 01|1 ');
  });
});

describe('lists', () => {
  it('creates a list of new objects and returns it', async () => {
    const result = (await run('App.MakeItems')) as MxObject[];
    expect(result.map((o) => o.get('Name'))).toEqual(['a', 'b', 'c']);
    expect(result.every((o) => o.entity === 'App.Item')).toBe(true);
  });

  it('passes lists by reference: a sub-microflow adding to its parameter changes the caller’s list', async () => {
    expect(await run('App.ShareList')).toBe(2n);
  });

  it('adds duplicates, removes one occurrence at a time, replaces and clears', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.ChangeLists',
      prepare: async (uow) => ({ Items: await items(uow, ['a', 1n, '1'], ['b', 1n, '1']) }),
    });
    expect(result).toBe('3,2,1,0');
  });

  it('computes union, intersect, subtract, contains, equals, sort, head, tail, range, filter and find', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Operations',
      prepare: async (uow) => {
        const [a, b, c, d] = await items(
          uow,
          ['a', 1n, '3', 'Small'],
          ['b', 2n, '9', 'Large'],
          ['c', 3n, '3', 'Small'],
          ['d', 4n, '1'],
        );
        return { Items: [a!, b!, c!], Others: [c!, d!, c!] };
      },
    });
    // union a b c d; intersect c; subtract a b; contains c; equals self; differs; sorted by price desc, name: b a c d
    expect(result).toBe('4 1 2 true true false b 3 2 2 c 3 c');
  });

  it('aggregates count, sum, average, minimum and maximum over the objects of a list', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Aggregates',
      prepare: async (uow) => ({
        Items: await items(uow, ['a', 2n, '1.5'], ['b', 5n, '2'], ['c', 1n, '0.25']),
      }),
    });
    expect(result).toBe('3 8 3.75 1.25 1 2');
  });

  it('aggregates an empty list to a sum and average of 0 and an empty maximum', async () => {
    expect(await run('App.EmptyAggregates')).toBe('0 0 true');
  });
});

describe('objects', () => {
  it('sends an object down the case of its most specific entity, casts it, and takes the default otherwise', async () => {
    const circle = await resultOf(engine, database.db, {
      microflow: 'App.Describe',
      prepare: async (uow) => ({ S: await resultOfIn(uow, 'circle') }),
    });
    expect(circle.result).toBe('circle of radius 2.5');
    const square = await resultOf(engine, database.db, {
      microflow: 'App.Describe',
      prepare: async (uow) => ({ S: await resultOfIn(uow, 'square') }),
    });
    expect(square.result).toBe('a shape called sq');
    expect(await run('App.Describe', { S: null })).toBe('no shape');
  });

  it('evaluates every member of a change before setting any, each seeing the object as it was', async () => {
    expect(await run('App.ChangeAndSee')).toBe('xy2');
  });
});

async function resultOfIn(uow: UnitOfWork, kind: string): Promise<MxValue> {
  const outcome = await engine.run({
    microflow: 'App.MakeShape',
    arguments: new Map([['kind', kind]]),
    uow,
    fromClient: false,
  });
  return outcome.result;
}
