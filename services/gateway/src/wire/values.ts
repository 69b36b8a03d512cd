/**
 * Values between JSON and the proto `Value`, at the HTTP edge. JSON has no 64-bit integers, no
 * exact decimals and no dates, so each API fixes one rule (documented in its protocol
 * document and OpenAPI):
 *
 * - Integer, Long and AutoNumber: a JSON number when it is a safe integer (|n| ≤ 2^53 − 1),
 *   otherwise a string of digits; both are accepted on input.
 * - Decimal: a string in plain notation (`"1234.50"`), exact; numbers are accepted on input.
 * - DateTime: epoch milliseconds on the client API (as Mendix's client sends them), ISO 8601
 *   text (`2024-05-01T10:00:00.000Z`) in published REST.
 * - Enumeration: the value's key. Binary: base64. Empty: `null`.
 * - Objects by id (a string), lists by ids (an array of strings).
 */
import { ErrorStatus, UserError } from '@runplane/errors';
import type { Attribute, CompiledModel } from '@runplane/model';
import type { common } from '@runplane/proto';

/** A type of the app model, as attributes and parameters carry it. */
export type MxType = Attribute['type'];

/** A value as JSON carries it. */
export type JsonValue = string | number | boolean | null | string[];

/** How dates travel: epoch milliseconds (client API) or ISO 8601 text (published REST). */
export const DateStyle = {
  EpochMs: 'epoch-ms',
  Iso: 'iso',
} as const;
/** How dates travel. */
export type DateStyle = (typeof DateStyle)[keyof typeof DateStyle];

/** The empty value. */
export const EMPTY: common.Value = { kind: { $case: 'empty', value: true } };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^[+-]?\d{1,20}$/;
const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** ISO 8601 date-time with a zone (Z or ±hh:mm), or a date alone (midnight UTC). */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** JavaScript dates reach ±8.64e15 ms. */
const MAX_DATE_MS = 8_640_000_000_000_000;

/** A type's name for messages. */
export function typeName(type: MxType): string {
  switch (type.kind) {
    case 'Enumeration':
      return `Enumeration ${type.enumeration}`;
    case 'Object':
      return `an object of ${type.entity} (its id)`;
    case 'List':
      return `a list of ${type.entity} (their ids)`;
    default:
      return type.kind;
  }
}

/** A bad value in a request: 400 `code`, naming where it was given. */
export function badValue(code: string, where: string, expected: string, message?: string): UserError {
  return new UserError({
    code,
    status: ErrorStatus.InvalidArgument,
    message: message ?? `${where} takes ${expected}.`,
    details: { where, expected },
  });
}

/** Options of {@link valueFromJson}. */
export interface FromJsonOptions {
  readonly dates: DateStyle;
  /** Names the member or parameter in errors, e.g. `Sales.Order.Total`. */
  readonly where: string;
  /** The code of the 400 a bad value answers. */
  readonly code: string;
}

function int64(text: string, where: string, code: string, expected: string): bigint {
  if (!INTEGER_TEXT.test(text)) throw badValue(code, where, expected);
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX)
    throw badValue(code, where, expected, `${where}: ${text} is out of range.`);
  return value;
}

/** Milliseconds since the epoch of an ISO 8601 text, or undefined when it is not one. */
export function isoToEpochMs(text: string): number | undefined {
  if (!ISO_DATE_TIME.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The proto Value of a JSON value for a type of the model. Throws a 400 `options.code` naming
 * `options.where` when the value does not fit the type.
 */
export function valueFromJson(
  model: CompiledModel,
  type: MxType,
  json: unknown,
  options: FromJsonOptions,
): common.Value {
  const { where, code } = options;
  if (json === null || json === undefined) return EMPTY;
  switch (type.kind) {
    case 'String':
      if (typeof json === 'string') return { kind: { $case: 'string', value: json } };
      throw badValue(code, where, 'a string');
    case 'Integer':
    case 'Long': {
      const expected = 'an integer (a JSON number, or a string of digits beyond 2^53)';
      if (typeof json === 'number') {
        if (!Number.isSafeInteger(json)) throw badValue(code, where, expected);
        return { kind: { $case: 'integer', value: BigInt(json) } };
      }
      if (typeof json === 'string')
        return { kind: { $case: 'integer', value: int64(json.trim(), where, code, expected) } };
      throw badValue(code, where, expected);
    }
    case 'Decimal': {
      const expected = 'a decimal number as a string, e.g. "12.50"';
      const text = typeof json === 'number' && Number.isFinite(json) ? String(json) : json;
      if (typeof text === 'string' && DECIMAL_TEXT.test(text.trim()))
        return { kind: { $case: 'decimal', value: text.trim() } };
      throw badValue(code, where, expected);
    }
    case 'Boolean':
      if (typeof json === 'boolean') return { kind: { $case: 'boolean', value: json } };
      throw badValue(code, where, 'true or false');
    case 'DateTime': {
      if (options.dates === DateStyle.EpochMs) {
        if (typeof json === 'number' && Number.isSafeInteger(json) && Math.abs(json) <= MAX_DATE_MS)
          return { kind: { $case: 'dateTime', value: BigInt(json) } };
        throw badValue(code, where, 'a date as milliseconds since 1970-01-01T00:00:00Z (an integer)');
      }
      const ms = typeof json === 'string' ? isoToEpochMs(json) : undefined;
      if (ms === undefined) throw badValue(code, where, 'a date-time in ISO 8601, e.g. 2024-05-01T10:00:00Z');
      return { kind: { $case: 'dateTime', value: BigInt(ms) } };
    }
    case 'Enumeration': {
      const keys = model.enumerations.get(type.enumeration)?.values.map((v) => v.key) ?? [];
      if (typeof json === 'string' && keys.includes(json))
        return { kind: { $case: 'enumeration', value: json } };
      throw badValue(code, where, `one of ${keys.join(', ')}`);
    }
    case 'Binary':
      if (typeof json === 'string' && BASE64.test(json))
        return { kind: { $case: 'binary', value: Buffer.from(json, 'base64') } };
      throw badValue(code, where, 'base64 text');
    case 'Object':
      if (typeof json === 'string' && json !== '') return { kind: { $case: 'objectId', value: json } };
      throw badValue(code, where, typeName(type));
    case 'List':
      if (Array.isArray(json) && json.every((id) => typeof id === 'string' && id !== ''))
        return { kind: { $case: 'objectIds', value: { ids: json as string[] } } };
      throw badValue(code, where, typeName(type));
    case 'Empty':
    case 'Void':
      return EMPTY;
  }
}

/** The value of a query, path or header parameter (always text) for a primitive type. */
export function valueFromText(
  model: CompiledModel,
  type: MxType,
  text: string,
  options: FromJsonOptions,
): common.Value {
  switch (type.kind) {
    case 'String':
    case 'Enumeration':
    case 'Decimal':
      return valueFromJson(model, type, text, options);
    case 'Integer':
    case 'Long':
      return valueFromJson(model, type, text, options);
    case 'Boolean':
      if (text === 'true' || text === 'false') return { kind: { $case: 'boolean', value: text === 'true' } };
      throw badValue(options.code, options.where, 'true or false');
    case 'DateTime':
      return valueFromJson(model, type, text, { ...options, dates: DateStyle.Iso });
    default:
      throw badValue(options.code, options.where, typeName(type));
  }
}

/** A 64-bit integer as JSON: a number when safe, else its digits. */
export function int64ToJson(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

/** {@link int64ToJson} of an integer given as its decimal digits. */
export function int64TextToJson(digits: string): number | string {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : digits;
}

/** A DateTime (epoch milliseconds) as JSON in a date style. */
export function epochMsToJson(ms: number, dates: DateStyle): number | string {
  return dates === DateStyle.EpochMs ? ms : new Date(ms).toISOString();
}

/**
 * The JSON of a text cell of a projected retrieve (`runplane.executor.v1.ObjectTable`, whose
 * comment gives each type's text) for a member of `type`: the same JSON {@link valueToJson}
 * gives for the member's Value.
 */
export function cellToJson(type: MxType, text: string, dates: DateStyle): JsonValue {
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      return int64TextToJson(text);
    case 'Boolean':
      return text === 'true';
    case 'DateTime':
      return epochMsToJson(Number(text), dates);
    case 'List':
      return text === '' ? [] : text.split(',');
    default:
      // String, Enumeration (the key), Decimal (exact text), Binary (base64), Object (the id).
      return text;
  }
}

/** The JSON of a proto Value; the kind says what it is, so no type is needed. */
export function valueToJson(value: common.Value | undefined, dates: DateStyle): JsonValue {
  const kind = value?.kind;
  if (kind === undefined) return null;
  switch (kind.$case) {
    case 'empty':
      return null;
    case 'string':
    case 'enumeration':
    case 'decimal':
    case 'objectId':
      return kind.value;
    case 'boolean':
      return kind.value;
    case 'integer':
      return int64ToJson(kind.value);
    case 'dateTime':
      return epochMsToJson(Number(kind.value), dates);
    case 'binary':
      return Buffer.from(kind.value).toString('base64');
    case 'objectIds':
      return [...kind.value.ids];
  }
}
