/**
 * Schema sync: compares the schema a model needs with what the registry and the catalog say
 * the database holds, and builds an ordered plan. Objects are matched on their keys (stable
 * element ids), so a renamed entity or attribute is renamed in place and keeps its data.
 *
 * Order: constraints and indexes that go or change are dropped first; then renames; new
 * sequences and tables; added and changed columns (with their values converted); new
 * constraints and indexes; and the drops that lose data last. Each step says whether it
 * loses data — counted in the database, so a dropped column that holds no values does not.
 */
import { UserError } from '@runplane/errors';
import type { CompiledModel } from '@runplane/model';
import { createHash } from 'node:crypto';
import { PersistenceErrorCode } from '../errors.js';
import type { SqlSession } from '../sql/backend.js';
import { readCatalog, readRegistry, type Catalog, type RegistryRow } from './catalog.js';
import { convertColumn } from './convert-column.js';
import { DISCRIMINATOR_COLUMN, VERSIONS_TABLE, quoteIdent, quoteLiteral } from './names.js';
import {
  definitionOf,
  desiredSchema,
  type ColumnObject,
  type ConstraintObject,
  type DesiredSchema,
  type IndexObject,
  type SchemaObject,
  type SequenceObject,
  type TableObject,
} from './physical.js';

/** The kinds of migration steps. */
export const MigrationStepKind = {
  DropConstraint: 'dropConstraint',
  DropIndex: 'dropIndex',
  RenameTable: 'renameTable',
  RenameColumn: 'renameColumn',
  RenameSequence: 'renameSequence',
  RenameConstraint: 'renameConstraint',
  RenameIndex: 'renameIndex',
  CreateSequence: 'createSequence',
  CreateTable: 'createTable',
  AddColumn: 'addColumn',
  AlterColumn: 'alterColumn',
  ClearValues: 'clearValues',
  AddConstraint: 'addConstraint',
  AddIndex: 'addIndex',
  RemapEntity: 'remapEntity',
  DropColumn: 'dropColumn',
  DropTable: 'dropTable',
  DropSequence: 'dropSequence',
} as const;
export type MigrationStepKind = (typeof MigrationStepKind)[keyof typeof MigrationStepKind];

/** One step of a migration. */
export interface MigrationStep {
  readonly kind: MigrationStepKind;
  /** What it does, in words, e.g. `rename column "sales$order"."note" to "remark" (attribute Sales.Order.Remark)`. */
  readonly description: string;
  /** The statements it runs, in order. */
  readonly sql: readonly string[];
  /** True when it destroys stored values (a dropped column with values, a lossy conversion, …). */
  readonly losesData: boolean;
}

/** What a migration will do (or did). */
export interface MigrationPlan {
  /** The model version the plan brings the database to. */
  readonly modelVersion: string;
  /** The model version recorded last, if any. */
  readonly appliedVersion: string | undefined;
  readonly steps: readonly MigrationStep[];
  /** True when any step loses data. */
  readonly losesData: boolean;
}

/** A plan with the registry rows to write once it is applied. */
export interface PlannedMigration {
  readonly plan: MigrationPlan;
  readonly registry: readonly RegistryRow[];
}

type Phase =
  | 'dropEarly'
  | 'rename'
  | 'createSequence'
  | 'createTable'
  | 'column'
  | 'values'
  | 'constraint'
  | 'remap'
  | 'dropColumn'
  | 'dropTable'
  | 'dropSequence';
const PHASES: readonly Phase[] = [
  'dropEarly',
  'rename',
  'createSequence',
  'createTable',
  'column',
  'values',
  'constraint',
  'remap',
  'dropColumn',
  'dropTable',
  'dropSequence',
];

function registryRowOf(object: SchemaObject): RegistryRow {
  const parent =
    object.kind === 'column' || object.kind === 'constraint' || object.kind === 'index' ? object.table : null;
  const info: Record<string, unknown> = { description: object.description };
  if (object.kind === 'column' && object.attributeKind !== undefined)
    info.attributeKind = object.attributeKind;
  if (object.kind === 'constraint' && object.allowed !== undefined) info.allowed = object.allowed;
  if (object.kind === 'table' && object.entity !== undefined) {
    info.entity = object.entity.name;
    info.entityId = object.entity.id;
    info.lineage = object.entity.lineage;
  }
  return {
    key: object.key,
    kind: object.kind,
    name: object.name,
    parent,
    definition: definitionOf(object),
    info,
  };
}

/** The registry rows whose objects really exist in the database. */
function existingRows(registry: readonly RegistryRow[], catalog: Catalog): Map<string, RegistryRow> {
  const existing = new Map<string, RegistryRow>();
  for (const row of registry) {
    if (row.kind === 'table' && catalog.relations.get(row.name) === 'r') existing.set(row.key, row);
    if (row.kind === 'sequence' && catalog.relations.get(row.name) === 'S') existing.set(row.key, row);
    if (row.kind === 'index' && catalog.relations.get(row.name) === 'i') existing.set(row.key, row);
  }
  for (const row of registry) {
    if (row.kind !== 'column' && row.kind !== 'constraint') continue;
    const table = row.parent === null ? undefined : existing.get(row.parent);
    if (table === undefined) continue;
    const names =
      row.kind === 'column' ? catalog.columns.get(table.name) : catalog.constraints.get(table.name);
    if (names?.has(row.name) === true) existing.set(row.key, row);
  }
  for (const row of registry) {
    // An index belongs to its table: if the table is gone, so is the index.
    if (row.kind === 'index' && (row.parent === null || !existing.has(row.parent))) existing.delete(row.key);
  }
  return existing;
}

function unsupported(message: string, details: Record<string, unknown>): UserError {
  return new UserError({ code: PersistenceErrorCode.MigrationUnsupported, message, details });
}

/** Reads the database and plans the migration to `model`. */
export async function planMigration(session: SqlSession, model: CompiledModel): Promise<PlannedMigration> {
  const catalog = await readCatalog(session);
  const registry = await readRegistry(session, catalog);
  let appliedVersion: string | undefined;
  if (catalog.relations.has(VERSIONS_TABLE)) {
    const last = await session.query(
      `SELECT version FROM ${quoteIdent(VERSIONS_TABLE)} ORDER BY applied_at DESC LIMIT 1`,
    );
    const version = last.rows[0]?.version;
    appliedVersion = typeof version === 'string' ? version : undefined;
  }
  const desired = desiredSchema(model);
  const planner = new Planner(session, model, desired, catalog, existingRows(registry, catalog));
  const steps = await planner.plan();
  return {
    plan: { modelVersion: model.version, appliedVersion, steps, losesData: steps.some((s) => s.losesData) },
    registry: desired.objects.map(registryRowOf),
  };
}

class Planner {
  readonly #steps = new Map<Phase, MigrationStep[]>(PHASES.map((p) => [p, []]));
  /** Current names of objects (keys → name) as the plan goes. */
  readonly #renamedTables = new Map<string, string>();
  /** Keys of removed objects dropped early (their names are needed). */
  readonly #droppedEarly = new Set<string>();

  constructor(
    private readonly session: SqlSession,
    private readonly model: CompiledModel,
    private readonly desired: DesiredSchema,
    private readonly catalog: Catalog,
    private readonly current: ReadonlyMap<string, RegistryRow>,
  ) {}

  #step(
    phase: Phase,
    kind: MigrationStepKind,
    description: string,
    sql: readonly string[],
    losesData = false,
  ): void {
    this.#steps.get(phase)?.push({ kind, description, sql, losesData });
  }

  /** The table name a table key has in the desired schema (or in the database, for dropped ones). */
  #tableName(key: string): string {
    const desired = this.desired.byKey.get(key);
    if (desired !== undefined) return desired.name;
    return this.current.get(key)?.name ?? key;
  }

  #columnName(key: string): string {
    return this.desired.byKey.get(key)?.name ?? this.current.get(key)?.name ?? key;
  }

  async #count(sqlText: string): Promise<number> {
    const result = await this.session.query(sqlText);
    return Number(result.rows[0]?.count ?? 0);
  }

  async plan(): Promise<MigrationStep[]> {
    const desired = this.desired.objects;
    const created = new Set<string>();
    const matched = new Map<string, RegistryRow>();
    for (const object of desired) {
      const row = this.current.get(object.key);
      const parent = registryRowOf(object).parent;
      if (row === undefined || row.kind !== object.kind || row.parent !== parent) created.add(object.key);
      else matched.set(object.key, row);
    }
    const removed = [...this.current.values()].filter((row) => !matched.has(row.key));
    const removedTables = new Set(removed.filter((r) => r.kind === 'table').map((r) => r.key));

    this.#checkHierarchies(matched);
    this.#checkConflicts(created);

    // Constraints and indexes that go or change: dropped first, so columns can change under them.
    for (const row of removed) {
      if (row.kind === 'constraint' && row.parent !== null && !removedTables.has(row.parent)) {
        const table = this.current.get(row.parent)?.name ?? '';
        this.#step(
          'dropEarly',
          MigrationStepKind.DropConstraint,
          `drop constraint ${quoteIdent(row.name)} on ${quoteIdent(table)}`,
          [`ALTER TABLE ${quoteIdent(table)} DROP CONSTRAINT ${quoteIdent(row.name)}`],
        );
      }
      if (row.kind === 'index' && row.parent !== null && !removedTables.has(row.parent)) {
        this.#step('dropEarly', MigrationStepKind.DropIndex, `drop index ${quoteIdent(row.name)}`, [
          `DROP INDEX ${quoteIdent(row.name)}`,
        ]);
      }
    }
    const changedConstraints: { object: ConstraintObject | IndexObject; row: RegistryRow }[] = [];
    for (const [key, row] of matched) {
      const object = this.desired.byKey.get(key);
      if (object === undefined || (object.kind !== 'constraint' && object.kind !== 'index')) continue;
      if (row.definition === definitionOf(object)) continue;
      changedConstraints.push({ object, row });
      const table = this.current.get(row.parent ?? '')?.name ?? '';
      this.#step(
        'dropEarly',
        object.kind === 'index' ? MigrationStepKind.DropIndex : MigrationStepKind.DropConstraint,
        `drop ${object.kind} ${quoteIdent(row.name)} to redefine it (${object.description})`,
        [
          object.kind === 'index'
            ? `DROP INDEX ${quoteIdent(row.name)}`
            : `ALTER TABLE ${quoteIdent(table)} DROP CONSTRAINT ${quoteIdent(row.name)}`,
        ],
      );
    }
    const redefined = new Set(changedConstraints.map((c) => c.object.key));

    await this.#earlyDrops(removed);
    this.#renames(matched, redefined);

    for (const object of desired) {
      if (object.kind === 'sequence' && created.has(object.key)) this.#createSequence(object);
    }
    for (const object of desired) {
      if (object.kind === 'table' && created.has(object.key)) this.#createTable(object);
    }
    for (const object of desired) {
      if (object.kind !== 'column' || this.#inNewTable(object, created)) continue;
      if (created.has(object.key)) this.#addColumn(object);
      else await this.#alterColumn(object, matched.get(object.key));
    }
    for (const { object, row } of changedConstraints) {
      if (object.kind === 'constraint' && object.constraint === 'check')
        await this.#clearDisallowed(object, row);
    }
    for (const object of desired) {
      if (
        (object.kind === 'constraint' || object.kind === 'index') &&
        (created.has(object.key) || redefined.has(object.key))
      ) {
        if (
          object.kind === 'constraint' &&
          object.constraint === 'primary' &&
          this.#inNewTable(object, created)
        )
          continue;
        this.#addConstraint(object);
      }
    }
    await this.#lateDrops(removed, removedTables);
    return PHASES.flatMap((phase) => this.#steps.get(phase) ?? []);
  }

  #inNewTable(object: ColumnObject | ConstraintObject, created: ReadonlySet<string>): boolean {
    return created.has(object.table);
  }

  #checkHierarchies(matched: ReadonlyMap<string, RegistryRow>): void {
    for (const [key, row] of matched) {
      const object = this.desired.byKey.get(key);
      if (object?.kind !== 'table' || object.entity === undefined) continue;
      const before = Array.isArray(row.info.lineage) ? (row.info.lineage as string[]) : [];
      const after = object.entity.lineage;
      if (before[0] !== after[0]) {
        throw unsupported(
          `Entity ${object.entity.name} changed its generalization (from ${before[0] ?? 'none'} to ${after[0] ?? 'none'}); the migration cannot move its objects.`,
          { entity: object.entity.name, from: before[0] ?? null, to: after[0] ?? null },
        );
      }
    }
  }

  /** Names the plan will create must be free, or held by objects it renames or drops. */
  #checkConflicts(created: ReadonlySet<string>): void {
    const known = new Set(
      [...this.current.values()].map((row) =>
        row.kind === 'column' ? `${row.parent}/${row.name}` : row.name,
      ),
    );
    const conflict = (name: string, what: string): UserError =>
      new UserError({
        code: PersistenceErrorCode.MigrationConflict,
        message: `The database already has ${what} named "${name}" that Runplane did not create; the migration would overwrite it. Rename or drop it, or use another database.`,
        details: { name },
      });
    for (const key of created) {
      const object = this.desired.byKey.get(key);
      if (object === undefined) continue;
      if (object.kind === 'column') {
        if (created.has(object.table)) continue;
        const table = this.current.get(object.table);
        const columns = table === undefined ? undefined : this.catalog.columns.get(table.name);
        if (columns?.has(object.name) === true && !known.has(`${object.table}/${object.name}`)) {
          throw conflict(object.name, `a column in table "${table?.name ?? ''}"`);
        }
        continue;
      }
      if (object.kind === 'constraint') continue;
      if (this.catalog.relations.has(object.name) && !known.has(object.name)) {
        throw conflict(object.name, `a ${object.kind === 'table' ? 'table' : 'relation'}`);
      }
    }
  }

  /** Objects that go and whose names a new or renamed object needs: dropped before the renames. */
  async #earlyDrops(removed: readonly RegistryRow[]): Promise<void> {
    const wanted = new Set<string>();
    for (const object of this.desired.objects) {
      if (object.kind === 'column') wanted.add(`${object.table}/${object.name}`);
      else if (object.kind !== 'constraint') wanted.add(object.name);
    }
    for (const row of removed) {
      const name = row.kind === 'column' ? `${row.parent}/${row.name}` : row.name;
      if (!wanted.has(name)) continue;
      if (row.kind === 'table') await this.#dropTable(row, 'dropEarly');
      if (row.kind === 'column') await this.#dropColumn(row, 'dropEarly');
      if (row.kind === 'sequence') this.#dropSequence(row, 'dropEarly');
      this.#droppedEarly.add(row.key);
    }
  }

  #renames(matched: ReadonlyMap<string, RegistryRow>, redefined: ReadonlySet<string>): void {
    const renames: { object: SchemaObject; row: RegistryRow }[] = [];
    for (const [key, row] of matched) {
      const object = this.desired.byKey.get(key);
      if (object === undefined || object.name === row.name || redefined.has(key)) continue;
      renames.push({ object, row });
    }
    if (renames.length === 0) return;
    // Names can swap (A→B while B→A): then every rename goes through a temporary name first.
    const from = new Set(
      renames.map((r) => (r.object.kind === 'column' ? `${r.row.parent}/${r.row.name}` : r.row.name)),
    );
    const swaps = renames.some((r) =>
      from.has(r.object.kind === 'column' ? `${r.row.parent}/${r.object.name}` : r.object.name),
    );
    const order: Record<string, number> = { table: 0, column: 1, sequence: 2, constraint: 3, index: 4 };
    renames.sort((a, b) => (order[a.object.kind] ?? 0) - (order[b.object.kind] ?? 0));
    const temporary = (name: string): string =>
      `rp_tmp_${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
    const passes: {
      fromName: (r: RegistryRow, o: SchemaObject) => string;
      toName: (r: RegistryRow, o: SchemaObject) => string;
    }[] = swaps
      ? [
          { fromName: (r) => r.name, toName: (r) => temporary(r.name) },
          { fromName: (r) => temporary(r.name), toName: (_r, o) => o.name },
        ]
      : [{ fromName: (r) => r.name, toName: (_r, o) => o.name }];
    for (const pass of passes) {
      for (const { object, row } of renames) {
        const fromName = pass.fromName(row, object);
        const toName = pass.toName(row, object);
        const what = object.description;
        switch (object.kind) {
          case 'table':
            this.#renamedTables.set(object.key, toName);
            this.#step(
              'rename',
              MigrationStepKind.RenameTable,
              `rename table ${quoteIdent(fromName)} to ${quoteIdent(toName)} (${what})`,
              [`ALTER TABLE ${quoteIdent(fromName)} RENAME TO ${quoteIdent(toName)}`],
            );
            break;
          case 'column': {
            const table = this.#renamedTables.get(object.table) ?? this.current.get(object.table)?.name ?? '';
            this.#step(
              'rename',
              MigrationStepKind.RenameColumn,
              `rename column ${quoteIdent(table)}.${quoteIdent(fromName)} to ${quoteIdent(toName)} (${what})`,
              [
                `ALTER TABLE ${quoteIdent(table)} RENAME COLUMN ${quoteIdent(fromName)} TO ${quoteIdent(toName)}`,
              ],
            );
            break;
          }
          case 'sequence':
            this.#step(
              'rename',
              MigrationStepKind.RenameSequence,
              `rename sequence ${quoteIdent(fromName)} to ${quoteIdent(toName)} (${what})`,
              [`ALTER SEQUENCE ${quoteIdent(fromName)} RENAME TO ${quoteIdent(toName)}`],
            );
            break;
          case 'constraint': {
            const table = this.#renamedTables.get(object.table) ?? this.current.get(object.table)?.name ?? '';
            this.#step(
              'rename',
              MigrationStepKind.RenameConstraint,
              `rename constraint ${quoteIdent(fromName)} to ${quoteIdent(toName)} (${what})`,
              [
                `ALTER TABLE ${quoteIdent(table)} RENAME CONSTRAINT ${quoteIdent(fromName)} TO ${quoteIdent(toName)}`,
              ],
            );
            break;
          }
          case 'index':
            this.#step(
              'rename',
              MigrationStepKind.RenameIndex,
              `rename index ${quoteIdent(fromName)} to ${quoteIdent(toName)} (${what})`,
              [`ALTER INDEX ${quoteIdent(fromName)} RENAME TO ${quoteIdent(toName)}`],
            );
            break;
        }
      }
    }
  }

  #createSequence(object: SequenceObject): void {
    this.#step(
      'createSequence',
      MigrationStepKind.CreateSequence,
      `create sequence ${quoteIdent(object.name)} (${object.description}, from ${object.start})`,
      [
        `CREATE SEQUENCE ${quoteIdent(object.name)} AS bigint START WITH ${object.start} MINVALUE ${object.start < 1n ? object.start : 1n}`,
      ],
    );
  }

  #createTable(object: TableObject): void {
    const columns = this.desired.objects.filter(
      (o): o is ColumnObject => o.kind === 'column' && o.table === object.key,
    );
    const primary = this.desired.objects.find(
      (o): o is ConstraintObject =>
        o.kind === 'constraint' && o.table === object.key && o.constraint === 'primary',
    );
    const lines = columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}${c.nullable ? '' : ' NOT NULL'}`);
    if (primary !== undefined) {
      lines.push(
        `CONSTRAINT ${quoteIdent(primary.name)} PRIMARY KEY (${primary.columns.map((k) => quoteIdent(this.#columnName(k))).join(', ')})`,
      );
    }
    this.#step(
      'createTable',
      MigrationStepKind.CreateTable,
      `create table ${quoteIdent(object.name)} (${object.description}) with ${columns.length} columns`,
      [`CREATE TABLE ${quoteIdent(object.name)} (\n  ${lines.join(',\n  ')}\n)`],
    );
  }

  #fillSql(object: ColumnObject, onlyEmpty: boolean): string | undefined {
    const table = quoteIdent(this.#tableName(object.table));
    const column = quoteIdent(object.name);
    const where = onlyEmpty ? ` WHERE ${column} IS NULL` : '';
    if (object.fill === undefined) return undefined;
    if (object.fill.kind === 'literal') return `UPDATE ${table} SET ${column} = ${object.fill.sql}${where}`;
    const sequence = this.desired.byKey.get(object.fill.sequence)?.name ?? '';
    return `UPDATE ${table} SET ${column} = nextval(${quoteLiteral(quoteIdent(sequence))})${where}`;
  }

  #addColumn(object: ColumnObject): void {
    const table = quoteIdent(this.#tableName(object.table));
    const column = quoteIdent(object.name);
    const sql = [`ALTER TABLE ${table} ADD COLUMN ${column} ${object.sqlType}`];
    const fill = this.#fillSql(object, false);
    if (fill !== undefined) sql.push(fill);
    if (!object.nullable) sql.push(`ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`);
    const filled =
      object.fill === undefined
        ? ''
        : object.fill.kind === 'sequence'
          ? ', numbered from its sequence'
          : `, existing rows get ${object.fill.sql}`;
    this.#step(
      'column',
      MigrationStepKind.AddColumn,
      `add column ${table}.${column} ${object.sqlType} (${object.description}${filled})`,
      sql,
    );
  }

  async #alterColumn(object: ColumnObject, row: RegistryRow | undefined): Promise<void> {
    if (row === undefined || row.definition === definitionOf(object)) return;
    const table = quoteIdent(this.#tableName(object.table));
    const column = quoteIdent(object.name);
    const [oldType = ''] = row.definition.split(' not null');
    const wasNullable = !row.definition.endsWith(' not null');
    const sql: string[] = [];
    let losesData = false;
    const parts: string[] = [];
    if (oldType !== object.sqlType) {
      const check = this.desired.objects.find(
        (o): o is ConstraintObject =>
          o.kind === 'constraint' && o.constraint === 'check' && o.columns.includes(object.key),
      );
      const conversion = convertColumn(
        object.name,
        {
          kind: typeof row.info.attributeKind === 'string' ? row.info.attributeKind : undefined,
          sqlType: oldType,
        },
        {
          kind: object.attributeKind,
          sqlType: object.sqlType,
          ...(check?.allowed === undefined ? {} : { allowed: check.allowed }),
        },
      );
      if (conversion.mayLoseValues) {
        // Counted now, before any step runs: under the names the database has today.
        const currentTable = quoteIdent(this.current.get(object.table)?.name ?? '');
        losesData =
          (await this.#count(
            `SELECT count(*) AS count FROM ${currentTable} WHERE ${quoteIdent(row.name)} IS NOT NULL`,
          )) > 0;
      }
      if (!object.nullable && wasNullable)
        sql.push(`ALTER TABLE ${table} ALTER COLUMN ${column} DROP NOT NULL`);
      sql.push(
        `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${object.sqlType} USING ${conversion.using}`,
      );
      parts.push(`change type of ${table}.${column} from ${oldType} to ${object.sqlType}`);
    }
    if (!object.nullable && (wasNullable || oldType !== object.sqlType)) {
      const fill = this.#fillSql(object, true);
      if (fill !== undefined) sql.push(fill);
      sql.push(`ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`);
      if (wasNullable) parts.push(`make ${table}.${column} required`);
    } else if (object.nullable && !wasNullable) {
      sql.push(`ALTER TABLE ${table} ALTER COLUMN ${column} DROP NOT NULL`);
      parts.push(`let ${table}.${column} be empty`);
    }
    if (sql.length === 0) return;
    this.#step(
      'column',
      MigrationStepKind.AlterColumn,
      `${parts.join(', ')} (${object.description}${losesData ? ', values that do not convert are lost' : ''})`,
      sql,
      losesData,
    );
  }

  /** Values an enumeration no longer has become empty before the new check is added. */
  async #clearDisallowed(object: ConstraintObject, row: RegistryRow): Promise<void> {
    const before = Array.isArray(row.info.allowed) ? (row.info.allowed as string[]) : [];
    const after = new Set(object.allowed ?? []);
    const gone = before.filter((key) => !after.has(key));
    const columnKey = object.columns[0];
    if (gone.length === 0 || columnKey === undefined) return;
    const column = this.desired.byKey.get(columnKey);
    if (column?.kind !== 'column' || column.attributeKind !== 'Enumeration') return;
    const table = quoteIdent(this.#tableName(object.table));
    const c = quoteIdent(column.name);
    const list = gone.map(quoteLiteral).join(', ');
    // Counted now, before any step runs: under the names the database has today.
    const currentColumn = this.current.get(columnKey);
    const count =
      currentColumn === undefined
        ? 0
        : await this.#count(
            `SELECT count(*) AS count FROM ${quoteIdent(this.current.get(object.table)?.name ?? '')} WHERE ${quoteIdent(currentColumn.name)} IN (${list})`,
          );
    this.#step(
      'values',
      MigrationStepKind.ClearValues,
      `clear ${table}.${c} where it holds the removed value${gone.length === 1 ? '' : 's'} ${gone.join(', ')} (${count} row${count === 1 ? '' : 's'})`,
      [`UPDATE ${table} SET ${c} = NULL WHERE ${c} IN (${list})`],
      count > 0,
    );
  }

  #addConstraint(object: ConstraintObject | IndexObject): void {
    const table = quoteIdent(this.#tableName(object.table));
    const columns = object.kind === 'index' ? object.columns.map((c) => c.column) : object.columns;
    const names = columns.map((k) => quoteIdent(this.#columnName(k)));
    if (object.kind === 'index') {
      const list = object.columns.map((c, i) => `${names[i] ?? ''}${c.descending ? ' DESC' : ''}`).join(', ');
      this.#step(
        'constraint',
        MigrationStepKind.AddIndex,
        `create index ${quoteIdent(object.name)} (${object.description})`,
        [`CREATE INDEX ${quoteIdent(object.name)} ON ${table} (${list})`],
      );
      return;
    }
    let body: string;
    switch (object.constraint) {
      case 'primary':
        body = `PRIMARY KEY (${names.join(', ')})`;
        break;
      case 'unique':
        body = `UNIQUE (${names.join(', ')})`;
        break;
      case 'check':
        body =
          (object.allowed ?? []).length === 0
            ? `CHECK (${names[0] ?? ''} IS NULL)`
            : `CHECK (${names[0] ?? ''} IN (${(object.allowed ?? []).map(quoteLiteral).join(', ')}))`;
        break;
      case 'foreign': {
        const ref = object.references;
        body = `FOREIGN KEY (${names.join(', ')}) REFERENCES ${quoteIdent(this.#tableName(ref?.table ?? ''))} (${quoteIdent(this.#columnName(ref?.column ?? ''))}) ON DELETE ${(ref?.onDelete ?? 'no action').toUpperCase()}`;
        break;
      }
    }
    this.#step(
      'constraint',
      MigrationStepKind.AddConstraint,
      `add constraint ${quoteIdent(object.name)} (${object.description})`,
      [`ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(object.name)} ${body}`],
    );
  }

  async #dropColumn(row: RegistryRow, phase: Phase): Promise<void> {
    const tableRow = this.current.get(row.parent ?? '');
    const table = quoteIdent(this.#renamedTables.get(row.parent ?? '') ?? tableRow?.name ?? '');
    const c = quoteIdent(row.name);
    const count = await this.#count(
      `SELECT count(*) AS count FROM ${quoteIdent(tableRow?.name ?? '')} WHERE ${c} IS NOT NULL`,
    );
    const what = typeof row.info.description === 'string' ? row.info.description : row.key;
    this.#step(
      phase,
      MigrationStepKind.DropColumn,
      `drop column ${table}.${c} (${what}; ${count} row${count === 1 ? '' : 's'} with a value)`,
      [`ALTER TABLE ${table} DROP COLUMN ${c}`],
      count > 0 && row.name !== DISCRIMINATOR_COLUMN,
    );
  }

  async #dropTable(row: RegistryRow, phase: Phase): Promise<void> {
    const count = await this.#count(`SELECT count(*) AS count FROM ${quoteIdent(row.name)}`);
    const what = typeof row.info.entity === 'string' ? `entity ${row.info.entity}` : row.key;
    this.#step(
      phase,
      MigrationStepKind.DropTable,
      `drop table ${quoteIdent(row.name)} (${what}; ${count} row${count === 1 ? '' : 's'})`,
      [`DROP TABLE ${quoteIdent(row.name)} CASCADE`],
      count > 0,
    );
  }

  #dropSequence(row: RegistryRow, phase: Phase): void {
    this.#step(phase, MigrationStepKind.DropSequence, `drop sequence ${quoteIdent(row.name)}`, [
      `DROP SEQUENCE IF EXISTS ${quoteIdent(row.name)}`,
    ]);
  }

  async #lateDrops(removed: readonly RegistryRow[], removedTables: ReadonlySet<string>): Promise<void> {
    const late = removed.filter((row) => !this.#droppedEarly.has(row.key));
    for (const row of late) {
      if (row.kind === 'column' && row.parent !== null && !removedTables.has(row.parent))
        await this.#dropColumn(row, 'dropColumn');
    }
    const tables = late.filter((row) => row.kind === 'table');
    // Join tables first, then specialisations before their generalizations.
    const depth = (row: RegistryRow): number =>
      Array.isArray(row.info.lineage) ? row.info.lineage.length : -1;
    tables.sort((a, b) => depth(b) - depth(a));
    for (const row of tables) {
      this.#remapEntity(row);
      await this.#dropTable(row, 'dropTable');
    }
    for (const row of late) if (row.kind === 'sequence') this.#dropSequence(row, 'dropSequence');
  }

  /** Objects of a removed specialisation stay as objects of the nearest remaining generalization. */
  #remapEntity(row: RegistryRow): void {
    const lineage = Array.isArray(row.info.lineage) ? (row.info.lineage as string[]) : [];
    const entityId = typeof row.info.entityId === 'string' ? row.info.entityId : undefined;
    const rootId = lineage[lineage.length - 1];
    if (entityId === undefined || rootId === undefined) return;
    const discriminator = this.desired.byKey.get(`entity:${rootId}:entity`);
    const root = this.desired.byKey.get(`entity:${rootId}`);
    if (discriminator === undefined || root === undefined) return;
    const survivor = lineage.find((id) => this.desired.byKey.has(`entity:${id}`));
    if (survivor === undefined) return;
    const table = quoteIdent(root.name);
    this.#step(
      'remap',
      MigrationStepKind.RemapEntity,
      `objects of the removed ${String(row.info.entity)} stay as ${survivor} objects in ${table}`,
      [
        `UPDATE ${table} SET ${quoteIdent(DISCRIMINATOR_COLUMN)} = ${quoteLiteral(survivor)} WHERE ${quoteIdent(DISCRIMINATOR_COLUMN)} = ${quoteLiteral(entityId)}`,
      ],
    );
  }
}

/**
 * The plan as text: a header, then one numbered line per step, data-losing steps marked
 * `[LOSES DATA]`. With `applied`, the header says the steps ran.
 */
export function formatPlan(plan: MigrationPlan, options: { readonly applied?: boolean } = {}): string {
  const version = (v: string): string => v.slice(0, 12);
  if (plan.steps.length === 0)
    return `The database is up to date with model version ${version(plan.modelVersion)}.`;
  const count = `${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}`;
  const from = plan.appliedVersion === undefined ? '' : `from model version ${version(plan.appliedVersion)} `;
  const header =
    options.applied === true
      ? `Applied ${count}, bringing the database ${from}to model version ${version(plan.modelVersion)}${plan.losesData ? ' (some steps lost data)' : ''}:`
      : `${count} to bring the database ${from}to model version ${version(plan.modelVersion)}${plan.losesData ? ' — some steps LOSE DATA' : ''}:`;
  const lines = plan.steps.map(
    (step, i) => `${String(i + 1).padStart(3)}. ${step.losesData ? '[LOSES DATA] ' : ''}${step.description}`,
  );
  return [header, ...lines].join('\n');
}
