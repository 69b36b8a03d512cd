/**
 * Column values as the text cells of the lean read path (see {@link ObjectTable}): the exact
 * text of the value the general path would read, without building it. Each reader accepts what
 * either driver gives (`pg` and PGlite: int8 and numeric as text, int4 as a number, bytea as a
 * Buffer or Uint8Array); a null column never reaches a reader.
 */
import type { AttributeKind } from '@runplane/model';

/** Reads a non-null column value as a cell's text; null when the general path reads it as empty. */
export type TextReader = (raw: unknown) => string | null;

function text(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return raw.toString();
  return JSON.stringify(raw);
}

/**
 * A numeric column's text without the trailing zeros of its scale: what `decimalToString`
 * prints for the Decimal the general path builds from it (`0` for zero, never `-0`). Texts that
 * are not plain numbers (`NaN`, `Infinity`) pass unchanged, as Decimal prints them so too.
 */
export function canonicalDecimalText(raw: string): string {
  let end = raw.length;
  if (raw.includes('.')) {
    while (end > 0 && raw.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (end > 0 && raw.charCodeAt(end - 1) === 46 /* . */) end--;
  }
  let start = 0;
  const negative = raw.charCodeAt(0) === 45; /* - */
  if (negative || raw.charCodeAt(0) === 43 /* + */) start = 1;
  // Leading zeros of the integer part (never sent by PostgreSQL, but Decimal would drop them).
  while (start < end - 1 && raw.charCodeAt(start) === 48 && raw.charCodeAt(start + 1) !== 46) start++;
  const digits = raw.slice(start, end);
  if (digits === '0' || digits === '') return '0';
  return negative ? `-${digits}` : digits;
}

// int8 comes as PostgreSQL's text, which is canonical (no sign for positives, no leading zeros).
const readInteger: TextReader = (raw) => (typeof raw === 'number' ? String(Math.trunc(raw)) : text(raw));
const readDecimal: TextReader = (raw) => canonicalDecimalText(text(raw));
const readBoolean: TextReader = (raw) => (raw === true || raw === 't' ? 'true' : 'false');
const readBinary: TextReader = (raw) =>
  raw instanceof Uint8Array
    ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
    : null;

/** The reader of a column of an attribute of `kind` (DateTime: a column of epoch milliseconds). */
export function textReaderOf(kind: AttributeKind): TextReader {
  switch (kind) {
    case 'Integer':
    case 'Long':
    case 'AutoNumber':
    case 'DateTime':
      return readInteger;
    case 'Decimal':
      return readDecimal;
    case 'Boolean':
      return readBoolean;
    case 'Binary':
      return readBinary;
    default:
      return text;
  }
}

/** A ReferenceSet's ids (an array, or PostgreSQL's array text): sorted, joined with `,`. */
export const idListText = (raw: unknown): string => {
  if (Array.isArray(raw))
    return raw
      .map((id) => text(id))
      .sort()
      .join(',');
  if (typeof raw === 'string' && raw.startsWith('{')) {
    const inner = raw.slice(1, -1);
    return inner === '' ? '' : inner.split(',').sort().join(',');
  }
  return '';
};
