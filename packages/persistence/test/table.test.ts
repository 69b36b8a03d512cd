/**
 * The lean read path (`retrieveTable`) against the general one (`retrieve` + `snapshot`): for
 * every attribute type, association kind and access rule set, the same rows in the same order,
 * the same paging and count, the same members per row, and cells that are the exact text of
 * the values the general path reads — on PostgreSQL and PGlite.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { Decimal, decimalToString, isDecimal } from '@runplane/expressions';
import type {
  MemberValue,
  ObjectTable,
  RunplaneDatabase,
  RunplaneUnitOfWork,
  TableQuery,
  UserContext,
} from '../src/index.js';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, type DatabaseLocation } from '../src/index.js';
import { BACKENDS, createTestDatabase } from './support/databases.js';
import { SYSTEM_CONTEXT, exampleModel, modelOf, suiteDatabase, userContext } from './support/fixtures.js';
import { membersOf } from './support/matrix.js';
import { seedOrders, type OrdersData } from './support/orders-data.js';

const LAB = `module: Lab
moduleRoles: [User, Reader, Partial]
enumerations:
  Colour: { values: { Red: Red, Green: Green, Blue: Blue } }
entities:
  Tag:
    attributes:
      Label: { type: String, length: 50 }
    access:
      - { roles: [User, Reader, Partial], create: true, defaultMemberAccess: readWrite }
  Sample:
    system: { owner: true, createdDate: true, changedDate: true }
    attributes:
      Short: { type: String, length: 10 }
      Memo: { type: String, length: unlimited }
      Count: Integer
      Big: Long
      Amount: Decimal
      Flag: Boolean
      When: DateTime
      Colour: { type: Enumeration, enumeration: Colour }
      Seq: { type: AutoNumber, start: 1000 }
      Secret: HashedString
      Data: Binary
    access:
      - roles: [User]
        create: true
        delete: true
        defaultMemberAccess: readWrite
      - roles: [Reader]
        xpath: '[Flag = true()]'
        members: { Short: read, Count: read, Amount: read, Secret: read, Lab.Sample_Tags: read, Data: read }
      - roles: [Reader]
        xpath: '[Count > 10]'
        members: { Memo: read, When: read, Colour: read, Big: read, Lab.Sample_Main: read, Seq: read }
      - roles: [Partial]
        defaultMemberAccess: read
        members: { Data: none, Big: none }
  Special:
    generalization: Sample
    attributes:
      Extra: { type: String, length: 20 }
    access:
      - { roles: [User], create: true, defaultMemberAccess: readWrite }
      - roles: [Reader]
        xpath: "[Extra = 'shown']"
        members: { Short: read, Extra: read, When: read }
associations:
  Sample_Tags: { type: ReferenceSet, owner: Sample, target: Tag }
  Sample_Main: { owner: Sample, target: Tag }
`;
const APP = `app: Lab
security:
  level: production
  userRoles:
    User: { moduleRoles: [Lab.User] }
    Reader: { moduleRoles: [Lab.Reader] }
    Partial: { moduleRoles: [Lab.Partial] }
    Both: { moduleRoles: [Lab.Reader, Lab.Partial] }
`;
const model = modelOf({ 'app.yaml': APP, 'Lab.yaml': LAB });

/** The text the general path's value stands for, by the cell rules of `TableRow`. */
function textOf(value: MemberValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isDecimal(value)) return decimalToString(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : String(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return (value as readonly string[]).join(',');
  throw new TypeError('a member value of an unknown kind');
}

async function inView<T>(
  db: RunplaneDatabase,
  user: UserContext,
  system: boolean,
  work: (view: RunplaneUnitOfWork, uow: RunplaneUnitOfWork) => Promise<T>,
): Promise<T> {
  const uow = db.unitOfWork(user);
  try {
    return await work(system ? uow.asSystem() : uow, uow);
  } finally {
    await uow.close();
  }
}

/** What the general path gives for a table query: retrieve, then a snapshot of each object. */
function viaObjects(
  db: RunplaneDatabase,
  user: UserContext,
  query: TableQuery,
  system = false,
): Promise<ObjectTable> {
  return inView(db, user, system, async (view, uow) => {
    const result = await view.retrieve(query);
    return {
      members: query.members,
      rows: result.objects.map((object) => {
        const { members } = uow.snapshot(object);
        return {
          id: object.id,
          entity: object.entity,
          values: query.members.map((m) => (m in members ? textOf(members[m] ?? null) : undefined)),
        };
      }),
      count: result.count,
    };
  });
}

function viaTable(
  db: RunplaneDatabase,
  user: UserContext,
  query: TableQuery,
  system = false,
): Promise<ObjectTable> {
  return inView(db, user, system, (view) => view.retrieveTable(query));
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const SAMPLE_MEMBERS = membersOf(model, 'Lab.Sample');

describe.each(BACKENDS)('the lean read path on %s', (backend) => {
  describe('with every attribute type', () => {
    const suite = suiteDatabase(backend, 'table_types', () => model);
    let tags: string[] = [];
    beforeAll(async () => {
      tags = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const made = [];
        for (const label of ['a', 'b', 'c']) {
          const tag = await uow.instantiate('Lab.Tag');
          tag.set('Label', label);
          made.push(tag);
        }
        // One sample with a HashedString (hashing is slow, so not in every generated sample).
        const secret = await uow.instantiate('Lab.Sample');
        secret.set('Secret', 's3cret!');
        secret.set('Flag', true);
        await uow.commit([...made, secret]);
        return made.map((t) => t.id);
      });
    });

    const sample = fc.record(
      {
        Short: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
        Memo: fc.option(fc.string({ maxLength: 40, unit: 'grapheme' }), { nil: null }),
        Count: fc.option(fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n - 1n }), { nil: null }),
        Big: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: null }),
        Amount: fc.option(
          fc
            .tuple(
              fc.bigInt({ min: -(10n ** 28n) + 1n, max: 10n ** 28n - 1n }),
              fc.integer({ min: 0, max: 8 }),
            )
            .map(([digits, scale]) =>
              new Decimal(digits.toString())
                .div(new Decimal(10).pow(8))
                .toDecimalPlaces(scale, Decimal.ROUND_DOWN),
            ),
          { nil: null },
        ),
        Flag: fc.boolean(),
        When: fc.option(
          fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }).map((ms) => new Date(ms)),
          { nil: null },
        ),
        Colour: fc.option(fc.constantFrom('Red', 'Green', 'Blue'), { nil: null }),
        Data: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
        tags: fc.subarray([0, 1, 2]),
        main: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
        special: fc.boolean(),
        Extra: fc.constantFrom('shown', 'hidden'),
      },
      { noNullPrototype: true },
    );

    it('reads back what the general path reads, cell for cell, for any stored values and any user', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(sample, { minLength: 1, maxLength: 6 }),
          fc.shuffledSubarray(SAMPLE_MEMBERS, { minLength: 1 }),
          fc.constantFrom(['User'], ['Reader'], ['Partial'], ['Both'], []),
          fc.boolean(),
          async (samples, members, roles, system) => {
            await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
              const made = [];
              for (const s of samples) {
                const object = await uow.instantiate(s.special ? 'Lab.Special' : 'Lab.Sample');
                const { tags: tagIndexes, main, special, Extra, ...values } = s;
                for (const [name, value] of Object.entries(values)) object.set(name, value);
                if (special) object.set('Extra', Extra);
                object.setReferenceSet(
                  'Lab.Sample_Tags',
                  tagIndexes.map((i) => tags[i] ?? ''),
                );
                object.setReference('Lab.Sample_Main', main === null ? null : (tags[main] ?? null));
                made.push(object);
              }
              await uow.commit(made);
            });
            const user = userContext('00000000-0000-4000-8000-000000000001', roles, 'Europe/Amsterdam');
            const query: TableQuery = { entity: 'Lab.Sample', members, count: true };
            const table = await viaTable(suite.db, user, query, system);
            expect(table).toEqual(await viaObjects(suite.db, user, query, system));
          },
        ),
        { numRuns: 15 },
      );
    });

    it('pages, sorts and counts as the general path does', async () => {
      const user = userContext('00000000-0000-4000-8000-000000000001', ['Reader']);
      for (const sort of [
        [],
        [{ attribute: 'Count', descending: true }],
        [{ attribute: 'Short', descending: false }],
      ]) {
        for (const [offset, amount] of [
          [0, 2],
          [1, 3],
          [5, 100],
        ] as const) {
          const query: TableQuery = {
            entity: 'Lab.Sample',
            members: ['Short', 'Count', 'When'],
            sort,
            offset,
            amount,
            count: true,
          };
          const table = await viaTable(suite.db, user, query);
          expect(table).toEqual(await viaObjects(suite.db, user, query));
        }
      }
    });

    it('refuses a filter or sort on a member the user may not read, and a member the entity lacks', async () => {
      const user = userContext('00000000-0000-4000-8000-000000000001', ['Partial']);
      const hidden: TableQuery = { entity: 'Lab.Sample', xpath: '[Big > 1]', members: ['Short'] };
      expect(await codeOf(viaTable(suite.db, user, hidden))).toBe('MEMBER_NOT_READABLE');
      expect(await codeOf(viaObjects(suite.db, user, hidden))).toBe('MEMBER_NOT_READABLE');
      const sorted: TableQuery = {
        entity: 'Lab.Sample',
        sort: [{ attribute: 'Big', descending: false }],
        members: ['Short'],
      };
      expect(await codeOf(viaTable(suite.db, user, sorted))).toBe('MEMBER_NOT_READABLE');
      expect(await codeOf(viaObjects(suite.db, user, sorted))).toBe('MEMBER_NOT_READABLE');
      expect(await codeOf(viaTable(suite.db, user, { entity: 'Lab.Sample', members: ['Nope'] }))).toBe(
        'UNKNOWN_MEMBER',
      );
    });

    it('creates no request-scope copies', async () => {
      await inView(suite.db, SYSTEM_CONTEXT, false, async (uow) => {
        const table = await uow.retrieveTable({ entity: 'Lab.Sample', members: ['Short'], amount: 1 });
        const [row] = table.rows;
        expect(row).toBeDefined();
        expect(uow.find(row?.id ?? '')).toBeUndefined();
      });
    });
  });

  it('reads values written behind the runtime’s back as the general path reads them', async () => {
    const test = await createTestDatabase(backend, 'table_raw');
    try {
      let db = await openDatabase(model, test.location);
      const values: [string, string][] = [
        ['when', '2024-05-01 10:00:00.123456+02'],
        ['when', '1969-12-31 23:59:59.9995+00'],
        ['when', '0001-01-01 00:00:00.001+00'],
        ['when', '2000-02-29 23:59:59.999999+00'],
        ['when', '275760-09-13 00:00:00.0005+00'],
        ['when', '275760-09-13 00:00:00.001+00'],
        ['when', '100000-01-01 00:00:00+00'],
        ['when', '4713-01-01 00:00:00+00 BC'],
        ['when', '0099-06-30 12:00:00+00'],
        ['when', 'infinity'],
        ['when', '-infinity'],
        ['amount', 'NaN'],
        ['amount', '-0.00000000'],
        ['amount', '12345678901234567890.12345600'],
        ['amount', '-0.00000001'],
        ['big', '-9223372036854775808'],
        ['big', '9223372036854775807'],
        ['count', '-2147483648'],
      ];
      const ids = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const made = [];
        for (const _ of values) made.push(await uow.instantiate('Lab.Sample'));
        await uow.commit(made);
        return made.map((o) => o.id);
      });
      await db.close();
      await rawSql(
        test.location,
        values.map(([column, value], i) => [
          `UPDATE "lab$sample" SET "${column}" = $1 WHERE id = $2`,
          [value, ids[i]],
        ]),
      );
      db = await openDatabase(model, test.location);
      try {
        const query: TableQuery = {
          entity: 'Lab.Sample',
          members: ['When', 'Amount', 'Big', 'Count', 'Flag'],
        };
        const table = await viaTable(db, SYSTEM_CONTEXT, query);
        expect(table.rows).toHaveLength(values.length);
        expect(table).toEqual(await viaObjects(db, SYSTEM_CONTEXT, query));
      } finally {
        await db.close();
      }
    } finally {
      await test.drop();
    }
  });

  describe('on the orders example', () => {
    const suite = suiteDatabase(backend, 'table_orders', () => exampleModel('orders'));
    let data: OrdersData;
    beforeAll(async () => {
      data = await seedOrders(suite.db);
    });

    it('shows each role the rows and members its rules allow, as the general path does', async () => {
      const orders = await exampleModel('orders');
      const users: [string, readonly string[]][] = [
        [data.users.alice, ['Customer']],
        [data.users.bob, ['Customer']],
        [data.users.sam, ['Sales']],
        [data.users.admin, ['Administrator']],
        [data.users.alice, ['Customer', 'Sales']],
      ];
      for (const entity of [
        'Sales.Order',
        'Sales.Customer',
        'System.User',
        'Sales.Invoice',
        'Sales.Product',
      ]) {
        const members = membersOf(orders, entity);
        for (const [id, roles] of users) {
          const user = userContext(id, roles);
          const query: TableQuery = { entity, members, count: true };
          const table = await viaTable(suite.db, user, query);
          expect(table, `${entity} as ${roles.join('+')}`).toEqual(await viaObjects(suite.db, user, query));
        }
      }
    });

    it('binds XPath variables as the general path does', async () => {
      const user = userContext(data.users.sam, ['Sales']);
      const query: TableQuery = {
        entity: 'Sales.Order',
        xpath: '[Status = $status][Total >= $min]',
        variables: new Map<string, string | Decimal>([
          ['status', 'Placed'],
          ['min', new Decimal('0')],
        ]),
        members: ['Number', 'Status', 'Total', 'Note'],
      };
      const table = await viaTable(suite.db, user, query);
      expect(table.rows.length).toBeGreaterThan(0);
      expect(table).toEqual(await viaObjects(suite.db, user, query));
    });
  });
});

/** Runs SQL straight on a closed database (values the runtime would never write). */
async function rawSql(location: DatabaseLocation, statements: readonly [string, unknown[]][]): Promise<void> {
  if (location.kind === 'postgres') {
    const client = new pg.Client({ connectionString: location.url });
    await client.connect();
    try {
      for (const [text, params] of statements) await client.query(text, params);
    } finally {
      await client.end();
    }
    return;
  }
  const db = await PGlite.create({ dataDir: location.dataDir });
  try {
    for (const [text, params] of statements) await db.query(text, params);
  } finally {
    await db.close();
  }
}
