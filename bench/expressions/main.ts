/**
 * Compiled Mendix expressions against hand-written JavaScript of the same logic (the same
 * Decimal library, the same empty checks), each evaluated 1,000,000 times in the same run.
 * Both are warmed up and run in alternating slices so machine noise hits both alike.
 *
 * Prints one JSON line per scenario — name, iterations, compiledPerSec, handwrittenPerSec and
 * ratio (how many times slower the compiled expression is; the goal is at most 2) — and an
 * overall line. Run with `npm run bench:expressions`.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import {
  AssociationDirection,
  Decimal,
  compileExpression,
  toJsonValue,
  type EvaluationContext,
  type MxObjectValue,
  type MxValue,
  type VariableSource,
} from '@runplane/expressions';
import { createWorld, schema } from './domain.js';

type Evaluate = (variables: VariableSource, context: EvaluationContext) => MxValue;

interface Scenario {
  readonly name: string;
  readonly expression: string;
  readonly handwritten: Evaluate;
}

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000_000);
const WARMUP = Math.min(200_000, ITERATIONS);
const SLICES = 50;

/** What a hand-written version does when a value it needs is empty, like the compiled one. */
function empty(what: string): never {
  throw new TypeError(`${what} is empty`);
}

function objectOf(variables: VariableSource, name: string): MxObjectValue {
  const value = variables.get(name);
  if (value === null || value === undefined || typeof value !== 'object' || !('get' in value))
    return empty(name);
  return value;
}

const RATE = new Decimal('1.21');
const ONE = new Decimal(1);
const DAY_MS = new Decimal(86_400_000);
const THIRTY = new Decimal(30);
// Division as Mendix does it: 34 significant digits, half to even.
const Decimal128 = DecimalJs.clone({ precision: 34, rounding: DecimalJs.ROUND_HALF_EVEN });

const scenarios: readonly Scenario[] = [
  {
    name: 'decimal-arithmetic',
    expression: '$Order/Total * 1.21',
    handwritten: (v) => {
      const total = objectOf(v, 'Order').get('Total');
      if (!(total instanceof Decimal)) return empty('Total');
      return total.times(RATE);
    },
  },
  {
    name: 'decision',
    expression: "if $x > 10 then 'big' else 'small'",
    handwritten: (v) => {
      const x = v.get('x');
      if (typeof x !== 'bigint') return empty('x');
      return x > 10n ? 'big' : 'small';
    },
  },
  {
    name: 'string-functions',
    expression: "toUpperCase(substring($Line/Product, 0, 3)) + '-' + length($Line/Product)",
    handwritten: (v) => {
      const raw = objectOf(v, 'Line').get('Product');
      const product = typeof raw === 'string' ? raw : '';
      if (product.length < 3) throw new RangeError('substring out of range');
      return `${product.slice(0, 3).toUpperCase()}-${product.length}`;
    },
  },
  {
    name: 'enumeration-comparison',
    expression: '$Order/Status = Sales.OrderStatus.Approved or $Order/Status = Sales.OrderStatus.Closed',
    handwritten: (v) => {
      const order = objectOf(v, 'Order');
      const status = order.get('Status');
      return status === 'Approved' || order.get('Status') === 'Closed';
    },
  },
  {
    name: 'date-functions',
    expression:
      'daysBetween($Order/OrderDate, [%CurrentDateTime%]) > 30 and addDaysUTC($Order/OrderDate, 30) < [%CurrentDateTime%]',
    handwritten: (v, c) => {
      const date = objectOf(v, 'Order').get('OrderDate');
      if (!(date instanceof Date)) return empty('OrderDate');
      const days = new Decimal(new Decimal128(Math.abs(date.getTime() - c.now.getTime())).div(DAY_MS));
      if (!days.gt(THIRTY)) return false;
      const shifted = new Date(date.getTime());
      shifted.setUTCDate(shifted.getUTCDate() + 30);
      return shifted.getTime() < c.now.getTime();
    },
  },
  {
    name: 'association-path',
    expression: '$Order/Sales.Order_Customer/Email',
    handwritten: (v, c) => {
      const customer = c.follow(
        objectOf(v, 'Order'),
        'Sales.Order_Customer',
        AssociationDirection.OwnerToTarget,
      );
      if (customer === null || Array.isArray(customer)) return empty('Customer');
      return (customer as MxObjectValue).get('Email');
    },
  },
  {
    name: 'line-total',
    expression: 'round($Line/Quantity * $Line/Price * (1 - $Discount), 2)',
    handwritten: (v) => {
      const line = objectOf(v, 'Line');
      const quantity = line.get('Quantity');
      const price = line.get('Price');
      const discount = v.get('Discount');
      if (typeof quantity !== 'bigint') return empty('Quantity');
      if (!(price instanceof Decimal)) return empty('Price');
      if (!(discount instanceof Decimal)) return empty('Discount');
      return new Decimal(quantity)
        .times(price)
        .times(ONE.minus(discount))
        .toDecimalPlaces(2, DecimalJs.ROUND_HALF_UP);
    },
  },
];

let sink = 0;

function run(
  evaluate: Evaluate,
  variables: VariableSource,
  context: EvaluationContext,
  iterations: number,
): bigint {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const value = evaluate(variables, context);
    if (value === null) sink++;
  }
  return process.hrtime.bigint() - start;
}

function same(a: MxValue, b: MxValue): boolean {
  if (a instanceof Decimal && b instanceof Decimal) return a.eq(b);
  return a === b;
}

function perSecond(iterations: number, nanoseconds: bigint): number {
  return Math.round((iterations * 1e9) / Number(nanoseconds));
}

const world = createWorld();
let compiledTotalNs = 0n;
let handwrittenTotalNs = 0n;
let worstRatio = 0;

for (const scenario of scenarios) {
  const result = compileExpression(scenario.expression, { schema, variables: world.types });
  if (!result.ok) {
    throw new TypeError(
      `${scenario.name} does not compile: ${result.errors.map((e) => e.message).join('; ')}`,
    );
  }
  const compiled: Evaluate = result.expression.evaluate;
  const expected = scenario.handwritten(world.variables, world.context);
  const actual = compiled(world.variables, world.context);
  if (!same(actual, expected)) {
    throw new TypeError(
      `${scenario.name}: compiled gives ${JSON.stringify(toJsonValue(actual))}, hand-written ${JSON.stringify(toJsonValue(expected))}`,
    );
  }
  run(compiled, world.variables, world.context, WARMUP);
  run(scenario.handwritten, world.variables, world.context, WARMUP);
  let compiledNs = 0n;
  let handwrittenNs = 0n;
  const slice = Math.ceil(ITERATIONS / SLICES);
  for (let i = 0; i < SLICES; i++) {
    // Alternate who goes first, so neither always runs on a warmer or cooler machine.
    if (i % 2 === 0) {
      compiledNs += run(compiled, world.variables, world.context, slice);
      handwrittenNs += run(scenario.handwritten, world.variables, world.context, slice);
    } else {
      handwrittenNs += run(scenario.handwritten, world.variables, world.context, slice);
      compiledNs += run(compiled, world.variables, world.context, slice);
    }
  }
  const iterations = slice * SLICES;
  const compiledPerSec = perSecond(iterations, compiledNs);
  const handwrittenPerSec = perSecond(iterations, handwrittenNs);
  const ratio = Number((handwrittenPerSec / compiledPerSec).toFixed(3));
  worstRatio = Math.max(worstRatio, ratio);
  compiledTotalNs += compiledNs;
  handwrittenTotalNs += handwrittenNs;
  console.log(
    JSON.stringify({
      name: scenario.name,
      expression: scenario.expression,
      iterations,
      compiledPerSec,
      handwrittenPerSec,
      ratio,
    }),
  );
}

const totalIterations = Math.ceil(ITERATIONS / SLICES) * SLICES * scenarios.length;
const compiledPerSec = perSecond(totalIterations, compiledTotalNs);
const handwrittenPerSec = perSecond(totalIterations, handwrittenTotalNs);
console.log(
  JSON.stringify({
    name: 'overall',
    scenarios: scenarios.length,
    iterations: totalIterations,
    compiledPerSec,
    handwrittenPerSec,
    ratio: Number((handwrittenPerSec / compiledPerSec).toFixed(3)),
    worstRatio,
    goal: 2,
    sink,
  }),
);
