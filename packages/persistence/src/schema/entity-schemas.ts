/**
 * TypeORM EntitySchemas built from the schema the model needs: one per table, with every
 * column, key, foreign key, unique constraint, check and index under the names the planner
 * gives them. They describe the same schema twice over, and earn their place as a check:
 * after a migration, TypeORM's own schema builder must find nothing to change
 * ({@link typeOrmSchemaDrift}). The DataSource holding them also owns the connection pool.
 */
import { EntitySchema, EntitySchemaOptions, type DataSource, type EntitySchemaColumnOptions } from 'typeorm';
import type { ColumnObject, ConstraintObject, DesiredSchema, IndexObject, TableObject } from './physical.js';
import { quoteIdent, quoteLiteral } from './names.js';

type ColumnType = Pick<EntitySchemaColumnOptions, 'type' | 'length' | 'precision' | 'scale'>;

function columnType(sqlType: string): ColumnType {
  const varchar = /^varchar\((\d+)\)$/.exec(sqlType);
  if (varchar?.[1] !== undefined) return { type: 'varchar', length: Number(varchar[1]) };
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(sqlType);
  if (numeric?.[1] !== undefined && numeric[2] !== undefined) {
    return { type: 'numeric', precision: Number(numeric[1]), scale: Number(numeric[2]) };
  }
  switch (sqlType) {
    case 'uuid':
      return { type: 'uuid' };
    case 'integer':
      return { type: 'integer' };
    case 'bigint':
      return { type: 'bigint' };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamptz':
      return { type: 'timestamp with time zone' };
    case 'bytea':
      return { type: 'bytea' };
    default:
      return { type: 'text' };
  }
}

const ON_DELETE = { cascade: 'CASCADE', 'set null': 'SET NULL', 'no action': 'NO ACTION' } as const;

/** One EntitySchema per table of the schema. */
export function buildEntitySchemas(schema: DesiredSchema): EntitySchema[] {
  const tables = schema.objects.filter((o): o is TableObject => o.kind === 'table');
  const columnName = (key: string): string => schema.byKey.get(key)?.name ?? key;
  return tables.map((table) => {
    const columns = schema.objects.filter(
      (o): o is ColumnObject => o.kind === 'column' && o.table === table.key,
    );
    const constraints = schema.objects.filter(
      (o): o is ConstraintObject => o.kind === 'constraint' && o.table === table.key,
    );
    const indexes = schema.objects.filter(
      (o): o is IndexObject => o.kind === 'index' && o.table === table.key,
    );
    const primary = constraints.find((c) => c.constraint === 'primary');
    const primaryColumns = new Set(primary?.columns ?? []);
    const columnOptions: Record<string, EntitySchemaColumnOptions> = {};
    for (const column of columns) {
      columnOptions[column.name] = {
        ...columnType(column.sqlType),
        name: column.name,
        nullable: column.nullable,
        ...(primaryColumns.has(column.key)
          ? { primary: true, ...(primary === undefined ? {} : { primaryKeyConstraintName: primary.name }) }
          : {}),
      };
    }
    // TypeORM declares the options as a class; an instance keeps its type checks honest.
    const options = Object.assign(new EntitySchemaOptions<Record<string, unknown>>(), {
      name: table.name,
      tableName: table.name,
      columns: columnOptions,
      uniques: constraints
        .filter((c) => c.constraint === 'unique')
        .map((c) => ({ name: c.name, columns: c.columns.map(columnName) })),
      checks: constraints
        .filter((c) => c.constraint === 'check')
        .map((c) => ({
          name: c.name,
          expression: `${quoteIdent(columnName(c.columns[0] ?? ''))} IN (${(c.allowed ?? []).map(quoteLiteral).join(', ')})`,
        })),
      foreignKeys: constraints
        .filter((c) => c.constraint === 'foreign' && c.references !== undefined)
        .map((c) => ({
          name: c.name,
          target: schema.byKey.get(c.references?.table ?? '')?.name ?? '',
          columnNames: c.columns.map(columnName),
          referencedColumnNames: [columnName(c.references?.column ?? '')],
          onDelete: ON_DELETE[c.references?.onDelete ?? 'no action'],
        })),
      indices: indexes.map((index) => ({
        name: index.name,
        columns: index.columns.map((c) => columnName(c.column)),
      })),
    });
    return new EntitySchema(options);
  });
}

/**
 * The SQL TypeORM's schema builder would still run to match the EntitySchemas: empty when
 * the database and the model agree.
 */
export async function typeOrmSchemaDrift(dataSource: DataSource): Promise<string[]> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}
