/**
 * Persistence against hand-written `pg`, side by side in one process on one PostgreSQL
 * database of the orders example, alternating operation by operation after a warm-up. Prints one JSON line
 * per scenario: `{"name", "persistencePerSecond", "rawPgPerSecond", "ratio", ...}` (ratio =
 * persistence / raw; the goal is ≥ 0.7).
 *
 * - `retrieve-20-by-xpath`: 20 products by an XPath with a parameter, sorted — a unit of
 *   work's retrieve (objects with typed values) against one SELECT of the same rows.
 * - `retrieve-20-by-xpath-with-access`: the same for a Customer, whose access rule adds its
 *   row constraint; the raw query has the constraint written in.
 * - `commit-one-object`: instantiate, set and commit one product in a unit of work (BEGIN,
 *   INSERT, COMMIT) against the same three statements by hand. `rawAutocommitPerSecond` is a
 *   lone INSERT without a transaction block, for reference.
 *
 * Run with `npm run bench:persistence [-- --database-url postgres://…/postgres]`; it creates
 * and drops its own database on that server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Decimal } from '@runplane/expressions';
import { loadModelOrThrow } from '@runplane/model';
import { SYSTEM_CONTEXT, openDatabase, type RunplaneDatabase, type UserContext } from '@runplane/persistence';

const WARMUP_OPS = 300;
const ROUND_OPS = 250;
const ROUNDS = 8;

function serverUrl(): string {
  const flag = process.argv.indexOf('--database-url');
  const given = flag >= 0 ? process.argv[flag + 1] : undefined;
  return (given ?? 'postgres://postgres@127.0.0.1:5432/postgres').replace(/\/[^/]*$/, '');
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${url}/postgres` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

type Op = (i: number) => Promise<unknown>;

/**
 * Runs both sides after a warm-up, alternating operation by operation (in ABBA order, so
 * neither side always follows the other): both meet the same machine, caches and database
 * state. Rates are operations per second of each side's own elapsed time.
 */
async function sideBySide(ours: Op, theirs: Op): Promise<{ ours: number; theirs: number }> {
  let counter = 0;
  for (let i = 0; i < WARMUP_OPS; i++) {
    await ours(counter++);
    await theirs(counter++);
  }
  const elapsed = { ours: 0n, theirs: 0n };
  const timed = async (side: 'ours' | 'theirs', op: Op): Promise<void> => {
    const start = process.hrtime.bigint();
    await op(counter++);
    elapsed[side] += process.hrtime.bigint() - start;
  };
  const total = ROUND_OPS * ROUNDS;
  for (let i = 0; i < total; i++) {
    if (i % 2 === 0) {
      await timed('ours', ours);
      await timed('theirs', theirs);
    } else {
      await timed('theirs', theirs);
      await timed('ours', ours);
    }
  }
  return { ours: total / (Number(elapsed.ours) / 1e9), theirs: total / (Number(elapsed.theirs) / 1e9) };
}

function line(
  name: string,
  rates: { ours: number; theirs: number },
  extra: Record<string, unknown> = {},
): void {
  console.log(
    JSON.stringify({
      name,
      persistencePerSecond: Math.round(rates.ours),
      rawPgPerSecond: Math.round(rates.theirs),
      ratio: Number((rates.ours / rates.theirs).toFixed(3)),
      ...extra,
    }),
  );
}

async function seed(db: RunplaneDatabase): Promise<{ customer: string }> {
  return db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const objects = [];
    for (let i = 0; i < 200; i++) {
      const p = await uow.instantiate('Sales.Product');
      p.set('Code', `B-${i}`);
      p.set('Name', `Product ${String(i).padStart(3, '0')}`);
      p.set('Price', new Decimal(i).div(4));
      p.set('Stock', BigInt(i));
      p.set('Active', i % 5 !== 0);
      objects.push(p);
    }
    const customer = await uow.instantiate('Sales.Customer');
    customer.set('Name', 'bench');
    customer.set('Email', 'bench@example.com');
    await uow.commit([...objects, customer]);
    return { customer: customer.id };
  });
}

const PRODUCT_COLUMNS = 'id, code, name, description, price, stock, active';

async function main(): Promise<void> {
  const server = serverUrl();
  const name = `rp_bench_${randomBytes(4).toString('hex')}`;
  const url = `${server}/${name}`;
  const model = await loadModelOrThrow(fileURLToPath(new URL('../../examples/orders', import.meta.url)));
  const db = await openDatabase(model, { kind: 'postgres', url, poolSize: 4 });
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    const { customer } = await seed(db);
    const min = new Decimal('10');
    const variables = new Map([['min', min]]);
    const sort = [{ attribute: 'Name', descending: false }];

    const retrieve = (user: UserContext) => async () => {
      const uow = db.unitOfWork(user);
      try {
        const result = await uow.retrieve({
          entity: 'Sales.Product',
          xpath: '[Price >= $min]',
          variables,
          sort,
          amount: 20,
        });
        await uow.complete();
        if (result.objects.length !== 20)
          throw new TypeError(`expected 20 rows, got ${result.objects.length}`);
        return result;
      } finally {
        await uow.close();
      }
    };
    const rawRetrieve = (constraint: string) => async () => {
      const result = await pool.query({
        name: `bench_retrieve${constraint === '' ? '' : '_access'}`,
        text: `SELECT ${PRODUCT_COLUMNS} FROM "sales$product" WHERE price >= $1${constraint} ORDER BY name ASC NULLS FIRST, id LIMIT 20`,
        values: [min.toFixed()],
      });
      // Typed values, as the objects on the other side carry them.
      return result.rows.map((row: Record<string, string | boolean | null>) => ({
        ...row,
        price: row.price === null ? null : new Decimal(String(row.price)),
        stock: row.stock === null ? null : BigInt(String(row.stock)),
      }));
    };
    line('retrieve-20-by-xpath', await sideBySide(retrieve(SYSTEM_CONTEXT), rawRetrieve('')));
    const customerUser: UserContext = {
      system: false,
      userId: customer,
      userRoles: ['Customer'],
      timeZone: 'UTC',
    };
    line(
      'retrieve-20-by-xpath-with-access',
      await sideBySide(retrieve(customerUser), rawRetrieve(' AND active = true')),
    );

    const commit = async (i: number) => {
      await db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const p = await uow.instantiate('Sales.Product');
        p.set('Code', `C-${i}`);
        p.set('Name', 'Committed');
        p.set('Price', new Decimal('1.50'));
        p.set('Stock', 3n);
        await uow.commit([p]);
      });
    };
    const insert = {
      name: 'bench_insert',
      text: 'INSERT INTO "sales$product" (id, code, name, description, price, stock, active) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    };
    const rawCommit = async (i: number) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query({
          ...insert,
          values: [randomUUID(), `R-${i}`, 'Committed', null, '1.50', '3', true],
        });
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    const rates = await sideBySide(commit, rawCommit);
    const autocommit = await sideBySide(rawCommit, async (i: number) =>
      pool.query({ ...insert, values: [randomUUID(), `A-${i}`, 'Committed', null, '1.50', '3', true] }),
    );
    line('commit-one-object', rates, { rawAutocommitPerSecond: Math.round(autocommit.theirs) });
  } finally {
    await pool.end();
    await db.close();
    await admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

await main();
