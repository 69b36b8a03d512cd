/**
 * Scenario (a): a CPU-only microflow — a loop over 100 items with a decision and Decimal
 * arithmetic in each iteration — run by the engine, against hand-written JavaScript of the same
 * logic on the same objects (the same Decimal library, the same Long-to-Decimal conversion).
 * Both run in alternating slices after a warm-up, so machine noise hits both alike.
 *
 * Figures: runs per second of each, and `ratio` = how many times slower the microflow is
 * (goal: at most 2). The items are non-persistable objects of a real unit of work; no SQL runs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Decimal, type MxValue } from '@runplane/expressions';
import { createMicroflowEngine } from '@runplane/microflows';
import { loadModelFromFiles } from '@runplane/model';
import { openDatabase, SYSTEM_CONTEXT, type MxObject } from '@runplane/persistence';
import { createLogger } from '@runplane/telemetry';

const ITEMS = 100;
const RUNS_PER_SLICE = Number(process.env['BENCH_RUNS_PER_SLICE'] ?? 2_000);
const SLICES = 10;
const WARMUP_RUNS = 3_000;
const ADMIN_URL = process.env['RUNPLANE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const MODEL = {
  'app.yaml': 'app: Bench\nversion: 1.0.0\n',
  'Bench/domain.yaml': `module: Bench
entities:
  Item:
    persistable: false
    attributes:
      Qty: Integer
      Price: Decimal
`,
  'Bench/flows.yaml': `module: Bench
microflows:
  Score:
    parameters: { Items: List<Item>, Discount: Decimal }
    returnType: Decimal
    start: init
    nodes:
      init: { kind: createVariable, type: Decimal, value: '0', output: Total, next: keep }
      keep: { kind: createVariable, type: Decimal, value: '1 - $Discount', output: Keep, next: each }
      each:
        kind: loop
        over: $Items
        iterator: It
        body:
          start: bulk
          nodes:
            bulk:
              kind: decision
              expression: $It/Qty > 2
              cases: { 'true': discounted, 'false': plain }
            discounted:
              { kind: changeVariable, variable: $Total, value: '$Total + $It/Price * $It/Qty * $Keep' }
            plain: { kind: changeVariable, variable: $Total, value: '$Total + $It/Price * $It/Qty' }
        next: done
      done: { kind: end, value: $Total }
`,
};

/** The same logic by hand: what a developer would write against the same objects. */
function scoreByHand(items: readonly MxObject[], discount: Decimal): Decimal {
  let total = new Decimal(0);
  const keep = new Decimal(1).minus(discount);
  for (const item of items) {
    const qty = item.get('Qty') as bigint;
    const price = item.get('Price') as Decimal;
    const amount = price.times(new Decimal(qty.toString()));
    total = total.plus(qty > 2n ? amount.times(keep) : amount);
  }
  return total;
}

async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function run(): Promise<Record<string, unknown>> {
  const loaded = loadModelFromFiles(Object.entries(MODEL).map(([path, text]) => ({ path, text })));
  if (!loaded.ok) throw new TypeError(loaded.errors.map((e) => e.message).join('\n'));
  const model = loaded.model;
  const name = `bench_microflow_cpu_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase(model, { kind: 'postgres', url: url.toString(), poolSize: 1 });
  try {
    const engine = createMicroflowEngine(model, {
      logger: createLogger({ service: 'bench', nodeId: 'bench', level: 'silent' }),
    });
    const uow = database.unitOfWork(SYSTEM_CONTEXT);
    const items: MxObject[] = [];
    for (let i = 0; i < ITEMS; i++) {
      const item = await uow.instantiate('Bench.Item');
      item.set('Qty', BigInt(i % 5));
      item.set('Price', new Decimal(`${(i % 17) + 1}.${i % 100}`));
      items.push(item);
    }
    const discount = new Decimal('0.1');
    const args = new Map<string, MxValue>([
      ['Items', items],
      ['Discount', discount],
    ]);
    const request = { microflow: 'Bench.Score', arguments: args, uow, fromClient: false };
    const expected = scoreByHand(items, discount);
    const actual = (await engine.run(request)).result as Decimal;
    if (!actual.eq(expected))
      throw new TypeError(`the microflow computed ${actual.toString()}, by hand ${expected.toString()}`);

    let sink = new Decimal(0);
    const microflowSlice = async (): Promise<number> => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < RUNS_PER_SLICE; i++) sink = (await engine.run(request)).result as Decimal;
      return Number(process.hrtime.bigint() - start);
    };
    const handSlice = (): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < RUNS_PER_SLICE; i++) sink = scoreByHand(items, discount);
      return Number(process.hrtime.bigint() - start);
    };
    for (let i = 0; i < WARMUP_RUNS; i++) {
      await engine.run(request);
      scoreByHand(items, discount);
    }
    let microflowNs = 0;
    let handNs = 0;
    for (let slice = 0; slice < SLICES; slice++) {
      microflowNs += await microflowSlice();
      handNs += handSlice();
    }
    if (!sink.eq(expected)) throw new TypeError('the results drifted');
    await uow.close();
    const runs = RUNS_PER_SLICE * SLICES;
    const microflowPerSec = Math.round(runs / (microflowNs / 1e9));
    const handwrittenPerSec = Math.round(runs / (handNs / 1e9));
    return {
      description: `loop over ${ITEMS} items with a decision and Decimal arithmetic`,
      runs,
      microflowPerSec,
      handwrittenPerSec,
      ratio: Number((handwrittenPerSec / microflowPerSec).toFixed(2)),
      goal: 2,
    };
  } finally {
    await database.close();
    await dropDatabase(name);
  }
}

export default { name: 'cpu-microflow', run };
