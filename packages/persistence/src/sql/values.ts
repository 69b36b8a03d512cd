/**
 * Values between the runtime and the database. Parameters go out as strings, booleans,
 * Dates and Buffers, which `pg` and PGlite both bind exactly (a bigint or a Decimal as its
 * digits, never as a float). Rows come back through one converter per column kind, chosen
 * once when a statement is compiled; they accept what either driver gives (int8 and numeric
 * as text, int4 as a number, bytea as a Buffer or Uint8Array).
 */
import { Decimal, isDecimal, type MxType, type MxValue } from '@runplane/expressions';
import type { AttributeKind } from '@runplane/model';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a well-formed UUID (the shape of every object id). */
export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID.test(value);
}

/** The text of a scalar a driver returned (numbers may come as text or as numbers). */
export function scalarText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return raw.toString();
  if (raw instanceof Date) return raw.toISOString();
  return JSON.stringify(raw);
}

/** A runtime value as a statement parameter. */
export function toParam(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (isDecimal(value)) return value.toFixed();
  if (value instanceof Date) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'object' && 'id' in value && typeof value.id === 'string') return value.id;
  return value;
}

/**
 * A parameter compared with values of `type`: an object or id that is not a UUID binds as
 * null (it matches nothing) instead of failing the cast.
 */
export function toTypedParam(value: MxValue, type: MxType): unknown {
  if (type.kind === 'Object' || type.kind === 'List') {
    const id = value !== null && typeof value === 'object' && 'id' in value ? value.id : value;
    return isUuid(id) ? id : null;
  }
  if (value === null) return null;
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      if (typeof value === 'bigint') return value.toString();
      if (isDecimal(value)) return value.isInteger() ? value.toFixed(0) : null;
      return typeof value === 'string' ? value : null;
    case 'Decimal':
      if (typeof value === 'bigint') return value.toString();
      if (isDecimal(value)) return value.toFixed();
      return null;
    case 'Boolean':
      return typeof value === 'boolean' ? value : null;
    case 'DateTime':
      return value instanceof Date ? value : null;
    case 'String':
    case 'Enumeration':
      return typeof value === 'string' ? value : null;
    default:
      return toParam(value);
  }
}

/** The SQL cast a parameter of `type` carries, so PostgreSQL never has to guess. */
export function sqlCastOf(type: MxType): string {
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      return 'bigint';
    case 'Decimal':
      return 'numeric';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'timestamptz';
    case 'Object':
    case 'List':
      return 'uuid';
    case 'Binary':
      return 'bytea';
    default:
      return 'text';
  }
}

/** Reads a column value of an attribute kind into a runtime value. */
export type ColumnReader = (raw: unknown) => MxValue;

const readBigint: ColumnReader = (raw) =>
  raw === null || raw === undefined
    ? null
    : BigInt(typeof raw === 'number' ? Math.trunc(raw) : scalarText(raw));
const readDecimal: ColumnReader = (raw) =>
  raw === null || raw === undefined ? null : new Decimal(scalarText(raw));
const readString: ColumnReader = (raw) => (raw === null || raw === undefined ? null : scalarText(raw));
const readBoolean: ColumnReader = (raw) =>
  raw === null || raw === undefined ? null : raw === true || raw === 't';
const readDate: ColumnReader = (raw) =>
  raw === null || raw === undefined ? null : raw instanceof Date ? raw : new Date(scalarText(raw));
const readBinary: ColumnReader = (raw) => {
  if (raw === null || raw === undefined) return null;
  if (raw instanceof Uint8Array)
    return new Uint8Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return null;
};

/** The reader for a column of an attribute of `kind`. */
export function readerOf(kind: AttributeKind): ColumnReader {
  switch (kind) {
    case 'Integer':
    case 'Long':
    case 'AutoNumber':
      return readBigint;
    case 'Decimal':
      return readDecimal;
    case 'Boolean':
      return readBoolean;
    case 'DateTime':
      return readDate;
    case 'Binary':
      return readBinary;
    default:
      return readString;
  }
}

/** Reads an aggregate or scalar of an MxType. */
export function readerOfType(type: MxType): ColumnReader {
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      return readBigint;
    case 'Decimal':
      return readDecimal;
    case 'Boolean':
      return readBoolean;
    case 'DateTime':
      return readDate;
    case 'Binary':
      return readBinary;
    default:
      return readString;
  }
}

/** Reads a uuid column (or null). */
export const readId: (raw: unknown) => string | null = (raw) =>
  raw === null || raw === undefined ? null : scalarText(raw);

/** Reads an array of ids (a join table's other side). */
export function readIds(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((id) => scalarText(id)).sort();
  if (typeof raw === 'string' && raw.startsWith('{')) {
    const inner = raw.slice(1, -1);
    return inner === '' ? [] : inner.split(',').sort();
  }
  return [];
}
