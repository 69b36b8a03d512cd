import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '@runplane/expressions';
import type { CompiledModel } from '@runplane/model';
import { SYSTEM_CONTEXT, openDatabase, type DatabaseLocation, type RunplaneDatabase } from '../src/index.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from './support/databases.js';
import { modelOf } from './support/fixtures.js';

/** Version 1 of a small shop. */
const V1 = `module: Shop
enumerations:
  Size: { values: { S: Small, M: Medium, L: Large } }
entities:
  Item:
    attributes:
      Title: { type: String, length: 50 }
      Price: Decimal
      Size: { type: Enumeration, enumeration: Size }
      Code: Integer
      Legacy: { type: String, length: 20 }
      Named: { type: String, length: 20 }
  Note:
    attributes: { Text: String }
associations:
  Note_Item: { owner: Note, target: Item }
`;

/**
 * Version 2: Item renamed to Article and Title to Name (both keeping their ids), Name
 * longer, Code now a String, Legacy removed, Named renamed to Label without its id (so a new
 * column), a Stock attribute with a default, size L gone, a new Category entity, Note removed.
 */
const V2 = `module: Shop
enumerations:
  Size: { values: { S: Small, M: Medium } }
entities:
  Article:
    id: Shop.Item
    attributes:
      Name: { type: String, length: 100, id: Shop.Item.Title }
      Price: Decimal
      Size: { type: Enumeration, enumeration: Size }
      Code: { type: String, length: 12 }
      Label: { type: String, length: 20 }
      Stock: { type: Integer, default: 5 }
    indexes:
      - attributes: { Name: asc }
  Category:
    attributes: { Name: String }
associations:
  Article_Category: { owner: Article, target: Category }
`;

/** Version 3: two specialisations of Article appear. */
const V3 = V2.replace(
  '  Category:',
  `  Book:
    generalization: Article
    attributes: { Isbn: { type: String, length: 13 } }
  Magazine:
    generalization: Article
    attributes: { Issue: Integer }
  Category:`,
);

/** Version 4: Book is gone again, Magazine stays. */
const V4 = V3.replace(
  `  Book:
    generalization: Article
    attributes: { Isbn: { type: String, length: 13 } }
`,
  '',
);

const model = (module: string): CompiledModel => modelOf({ 'Shop.yaml': module });

async function open(location: DatabaseLocation, m: CompiledModel): Promise<RunplaneDatabase> {
  return openDatabase(m, location, { migrate: 'none' });
}

describe.each(BACKENDS)('schema sync on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend, 'sync');
  });
  afterAll(async () => {
    await test.drop();
  });

  it('creates the schema of a model, and TypeORM finds nothing left to change', async () => {
    const db = await open(test.location, model(V1));
    try {
      const plan = await db.planMigration();
      expect(plan.appliedVersion).toBeUndefined();
      expect(plan.losesData).toBe(false);
      const shopTables = plan.steps.filter(
        (s) => s.kind === 'createTable' && s.description.includes('"shop$'),
      );
      expect(shopTables.map((s) => s.description)).toEqual([
        'create table "shop$item" (entity Shop.Item) with 7 columns',
        'create table "shop$note" (entity Shop.Note) with 3 columns',
      ]);
      const applied = await db.migrate();
      expect(applied.plan.steps.map((s) => s.sql)).toEqual(plan.steps.map((s) => s.sql));
      expect(applied.recorded).toBe(true);
      expect(await db.schemaDrift()).toEqual([]);
      expect((await db.planMigration()).steps).toEqual([]);
      await db.transaction(SYSTEM_CONTEXT, async (uow) => {
        for (const [title, size, code] of [
          ['Lamp', 'L', 7n],
          ['Mug', 'S', 12n],
        ] as const) {
          const item = await uow.instantiate('Shop.Item');
          item.set('Title', title);
          item.set('Price', new Decimal('9.95'));
          item.set('Size', size);
          item.set('Code', code);
          item.set('Legacy', 'old');
          item.set('Named', 'n');
          const note = await uow.instantiate('Shop.Note');
          note.set('Text', `about ${title}`);
          note.setReference('Shop.Note_Item', item.id);
          await uow.commit([item, note]);
        }
      });
    } finally {
      await db.close();
    }
  });

  it('renames, adds, converts and removes, keeping what the ids say to keep, and the dry run is what runs', async () => {
    const db = await open(test.location, model(V2));
    try {
      const dryRun = await db.planMigration();
      const text = dryRun.steps.map((s) => `${s.losesData ? '[LOSES DATA] ' : ''}${s.description}`);
      expect(text).toEqual(
        expect.arrayContaining([
          'rename table "shop$item" to "shop$article" (entity Shop.Article)',
          'rename column "shop$article"."title" to "name" (attribute Shop.Article.Name)',
          expect.stringMatching(
            /^\[LOSES DATA\] drop column "shop\$article"\."legacy" \(attribute Shop\.Item\.Legacy; 2 rows with a value\)$/,
          ),
          expect.stringMatching(/^\[LOSES DATA\] drop column "shop\$article"\."named"/),
          expect.stringMatching(/^\[LOSES DATA\] drop table "shop\$note" \(entity Shop\.Note; 2 rows\)$/),
          expect.stringMatching(
            /^\[LOSES DATA\] clear "shop\$article"\."size" where it holds the removed value L \(1 row\)$/,
          ),
          expect.stringMatching(/^add column "shop\$article"\."stock" integer .*existing rows get 5/),
          expect.stringMatching(/^change type of "shop\$article"\."code" from integer to varchar\(12\)/),
          expect.stringMatching(
            /^change type of "shop\$article"\."name" from varchar\(50\) to varchar\(100\)/,
          ),
          'create table "shop$category" (entity Shop.Category) with 2 columns',
        ]),
      );
      expect(dryRun.losesData).toBe(true);
      const codeStep = dryRun.steps.find((s) => s.description.includes('"code" from integer'));
      expect(codeStep?.losesData).toBe(false);
      const applied = await db.migrate();
      expect(applied.plan.steps).toEqual(dryRun.steps);
      expect(await db.schemaDrift()).toEqual([]);

      const articles = await db.transaction(SYSTEM_CONTEXT, (uow) =>
        uow.retrieve({ entity: 'Shop.Article', sort: [{ attribute: 'Name', descending: false }] }),
      );
      expect(
        articles.objects.map((a) => [
          a.get('Name'),
          (a.get('Price') as Decimal).toFixed(),
          a.get('Size'),
          a.get('Code'),
          a.get('Stock'),
          a.get('Label'),
        ]),
      ).toEqual([
        ['Lamp', '9.95', null, '7', 5n, null],
        ['Mug', '9.95', 'S', '12', 5n, null],
      ]);
      await db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const category = await uow.instantiate('Shop.Category');
        category.set('Name', 'Kitchen');
        const [mug] = (await uow.retrieve({ entity: 'Shop.Article', xpath: "[Name = 'Mug']" })).objects;
        mug?.setReference('Shop.Article_Category', category.id);
        await uow.commit(mug === undefined ? [category] : [category, mug]);
      });
    } finally {
      await db.close();
    }
  });

  it('adds a specialisation to an entity with objects, and drops it again keeping them as objects of the generalization', async () => {
    const v3 = await open(test.location, model(V3));
    try {
      const plan = await v3.migrate();
      expect(plan.plan.steps.map((s) => s.description)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^add column "shop\$article"\."runplane\$entity" text \(.*existing rows get 'Shop\.Item'\)$/,
          ),
        ]),
      );
      expect(await v3.schemaDrift()).toEqual([]);
      await v3.transaction(SYSTEM_CONTEXT, async (uow) => {
        const book = await uow.instantiate('Shop.Book');
        book.set('Name', 'Dune');
        book.set('Isbn', '9780441013593');
        await uow.commit([book]);
      });
      const all = await v3.transaction(SYSTEM_CONTEXT, (uow) =>
        uow.retrieve({ entity: 'Shop.Article', sort: [{ attribute: 'Name', descending: false }] }),
      );
      expect(all.objects.map((o) => [o.entity, o.get('Name')])).toEqual([
        ['Shop.Book', 'Dune'],
        ['Shop.Article', 'Lamp'],
        ['Shop.Article', 'Mug'],
      ]);
    } finally {
      await v3.close();
    }
    const v4 = await open(test.location, model(V4));
    try {
      const plan = await v4.migrate();
      expect(plan.plan.steps.map((s) => `${s.losesData ? '! ' : ''}${s.description}`)).toEqual([
        'objects of the removed Shop.Book stay as Shop.Item objects in "shop$article"',
        '! drop table "shop$book" (entity Shop.Book; 1 row)',
      ]);
      expect(await v4.schemaDrift()).toEqual([]);
      const all = await v4.transaction(SYSTEM_CONTEXT, (uow) => uow.retrieve({ entity: 'Shop.Article' }));
      expect(all.objects.map((o) => o.entity)).toEqual(['Shop.Article', 'Shop.Article', 'Shop.Article']);
      expect(all.objects.map((o) => o.get('Name')).sort()).toEqual(['Dune', 'Lamp', 'Mug']);
    } finally {
      await v4.close();
    }
    const v2 = await open(test.location, model(V2));
    try {
      const plan = await v2.migrate();
      expect(plan.plan.steps.map((s) => `${s.losesData ? '! ' : ''}${s.description}`)).toEqual([
        'drop column "shop$article"."runplane$entity" (actual entity of each Shop.Article object; 3 rows with a value)',
        'drop table "shop$magazine" (entity Shop.Magazine; 0 rows)',
      ]);
      expect(await v2.schemaDrift()).toEqual([]);
    } finally {
      await v2.close();
    }
  });

  it('migrates once when two migrators start together, and records the model version once', async () => {
    const target = model(V3);
    const first = await open(test.location, target);
    // PGlite has one process per data folder: both migrators share it, and its one connection.
    const second = backend === 'postgres' ? await open(test.location, target) : first;
    try {
      const [a, b] = await Promise.all([first.migrate(), second.migrate()]);
      const counts = [a.plan.steps.length, b.plan.steps.length].sort((x, y) => x - y);
      expect(counts[0]).toBe(0);
      expect(counts[1]).toBeGreaterThan(0);
      expect([a.recorded, b.recorded].filter(Boolean)).toHaveLength(1);
      expect(await first.schemaDrift()).toEqual([]);
      expect((await first.planMigration()).steps).toEqual([]);
      expect((await first.planMigration()).appliedVersion).toBe(target.version);
    } finally {
      await first.close();
      if (second !== first) await second.close();
    }
  });

  it('refuses to change an entity’s generalization, and changes nothing', async () => {
    const moved = V3.replace('    generalization: Article\n', '    generalization: Category\n');
    const db = await open(test.location, model(moved));
    try {
      await expect(db.migrate()).rejects.toMatchObject({ code: 'MIGRATION_UNSUPPORTED' });
      expect(
        await db.transaction(SYSTEM_CONTEXT, (uow) =>
          uow.aggregate({ entity: 'Shop.Category', function: 'count' }),
        ),
      ).toBe(1n);
    } finally {
      await db.close();
    }
  });
});

describe('schema sync against a table it did not create', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'conflict');
  });
  afterAll(async () => {
    await test.drop();
  });

  it('refuses to overwrite it, naming it', async () => {
    const db = await open(test.location, model(V1));
    try {
      // Opening created the (empty) database; someone else's table is in it before Runplane migrates.
      const { default: pg } = await import('pg');
      if (test.location.kind !== 'postgres') throw new TypeError('expected PostgreSQL');
      const client = new pg.Client({ connectionString: test.location.url });
      await client.connect();
      try {
        await client.query('CREATE TABLE "shop$note" (id integer)');
      } finally {
        await client.end();
      }
      await expect(db.migrate()).rejects.toMatchObject({
        code: 'MIGRATION_CONFLICT',
        details: { name: 'shop$note' },
      });
    } finally {
      await db.close();
    }
  });
});

describe('schema sync against a database changed behind its back', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', 'drift');
  });
  afterAll(async () => {
    await test.drop();
  });

  it('is told by TypeORM what differs, and puts back what is missing', async () => {
    const db = await open(test.location, model(V2));
    try {
      await db.migrate();
      const { default: pg } = await import('pg');
      if (test.location.kind !== 'postgres') throw new TypeError('expected PostgreSQL');
      const client = new pg.Client({ connectionString: test.location.url });
      await client.connect();
      try {
        await client.query('DROP INDEX "ix_shop$article_name"');
        await client.query('ALTER TABLE "shop$article" DROP CONSTRAINT "ck_shop$article_size"');
      } finally {
        await client.end();
      }
      const drift = await db.schemaDrift();
      expect(drift.join('\n')).toMatch(/CREATE INDEX "ix_shop\$article_name"/);
      expect(drift.join('\n')).toMatch(/ADD CONSTRAINT "ck_shop\$article_size" CHECK/);
      const repair = await db.migrate();
      expect(repair.plan.steps.map((s) => s.description)).toEqual([
        'add constraint "ck_shop$article_size" (values of Shop.Article.Size (Shop.Size))',
        'create index "ix_shop$article_name" (index on Shop.Article(Name))',
      ]);
      expect(await db.schemaDrift()).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
