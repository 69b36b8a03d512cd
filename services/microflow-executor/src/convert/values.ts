/**
 * `runplane.common.v1.Value` ↔ the runtime's values, at the gRPC edge. The proto says what
 * kind a value is; the model says what type it must have. Decimals travel as exact text,
 * Integers and Longs as 64-bit integers (bigint), DateTimes as epoch milliseconds.
 */
import {
  Decimal,
  decimalToString,
  isDecimal,
  isMxList,
  isMxObject,
  type MxType,
  type MxValue,
} from '@runplane/expressions';
import type { Attribute, CompiledModel } from '@runplane/model';
import type { MemberValue } from '@runplane/persistence';
import type { common } from '@runplane/proto';
import { invalidValue } from '../errors.js';

type Value = common.Value;
type Kind = NonNullable<Value['kind']>;

/** The empty value. */
export const EMPTY_VALUE: Value = { kind: { $case: 'empty', value: true } };

const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** JavaScript dates reach ±8.64e15 ms. */
const MAX_DATE_MS = 8_640_000_000_000_000n;

/** A primitive type's name for messages. */
function typeName(type: MxType): string {
  switch (type.kind) {
    case 'Enumeration':
      return `Enumeration ${type.enumeration}`;
    case 'Object':
    case 'List':
      return `${type.kind} of ${type.entity}`;
    default:
      return type.kind;
  }
}

function mismatch(kind: Kind['$case'], type: MxType, where: string): never {
  throw invalidValue(`${where} takes a ${typeName(type)}, not a ${kind} value.`, {
    where,
    expected: typeName(type),
    got: kind,
  });
}

/** The Decimal a text stands for, or an INVALID_VALUE error. */
export function parseDecimalText(text: string, where: string): Decimal {
  if (!DECIMAL_TEXT.test(text.trim())) {
    throw invalidValue(`${where}: '${text}' is not a decimal number.`, { where, value: text });
  }
  return new Decimal(text.trim());
}

/**
 * The runtime value of a proto Value for a primitive type (anything but Object and List,
 * which the caller resolves by id). Throws INVALID_VALUE when the kind does not fit.
 *
 * @param where Names the member or parameter, for messages.
 */
export function primitiveFromValue(
  value: Value | undefined,
  type: MxType,
  where: string,
  model?: CompiledModel,
): MxValue {
  const kind = value?.kind;
  if (kind === undefined || kind.$case === 'empty') return null;
  switch (type.kind) {
    case 'String':
      if (kind.$case === 'string') return kind.value;
      return mismatch(kind.$case, type, where);
    case 'Integer':
    case 'Long':
      if (kind.$case === 'integer') return kind.value;
      return mismatch(kind.$case, type, where);
    case 'Decimal':
      if (kind.$case === 'decimal') return parseDecimalText(kind.value, where);
      if (kind.$case === 'integer') return new Decimal(kind.value.toString());
      return mismatch(kind.$case, type, where);
    case 'Boolean':
      if (kind.$case === 'boolean') return kind.value;
      return mismatch(kind.$case, type, where);
    case 'DateTime': {
      if (kind.$case !== 'dateTime') return mismatch(kind.$case, type, where);
      if (kind.value > MAX_DATE_MS || kind.value < -MAX_DATE_MS) {
        throw invalidValue(`${where}: ${kind.value} ms is outside the range of dates.`, { where });
      }
      return new Date(Number(kind.value));
    }
    case 'Enumeration': {
      // JSON clients cannot tell an enumeration key from a string, so both are accepted.
      if (kind.$case !== 'enumeration' && kind.$case !== 'string') return mismatch(kind.$case, type, where);
      const values = model?.enumerations.get(type.enumeration)?.values;
      if (values !== undefined && !values.some((v) => v.key === kind.value)) {
        throw invalidValue(`${where}: '${kind.value}' is not a value of ${type.enumeration}.`, {
          where,
          enumeration: type.enumeration,
          value: kind.value,
        });
      }
      return kind.value;
    }
    case 'Binary':
      if (kind.$case === 'binary') return new Uint8Array(kind.value);
      return mismatch(kind.$case, type, where);
    default:
      return mismatch(kind.$case, type, where);
  }
}

/**
 * The runtime value of an XPath variable: a primitive Value by its kind (the XPath compiler
 * types the variable from it). Objects, lists and binary data are not XPath variables here:
 * INVALID_VALUE.
 *
 * @param where Names the variable, for messages.
 */
export function variableFromValue(value: Value | undefined, where: string): MxValue {
  const kind = value?.kind;
  if (kind === undefined) return null;
  switch (kind.$case) {
    case 'empty':
      return null;
    case 'string':
    case 'enumeration':
    case 'boolean':
    case 'integer':
      return kind.value;
    case 'decimal':
      return parseDecimalText(kind.value, where);
    case 'dateTime':
      return primitiveFromValue(value, { kind: 'DateTime' }, where);
    default:
      throw invalidValue(`${where} takes a primitive value, not a ${kind.$case} value.`, {
        where,
        got: kind.$case,
      });
  }
}

/**
 * The proto Value of a runtime value. `type` tells an Enumeration key from a String;
 * objects and lists become their ids.
 */
export function valueOf(value: MxValue, type?: MxType): Value {
  if (value === null) return EMPTY_VALUE;
  if (typeof value === 'string') {
    return type?.kind === 'Enumeration'
      ? { kind: { $case: 'enumeration', value } }
      : { kind: { $case: 'string', value } };
  }
  if (typeof value === 'bigint') return { kind: { $case: 'integer', value } };
  if (typeof value === 'boolean') return { kind: { $case: 'boolean', value } };
  if (isDecimal(value)) return { kind: { $case: 'decimal', value: decimalToString(value) } };
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? EMPTY_VALUE : { kind: { $case: 'dateTime', value: BigInt(ms) } };
  }
  if (value instanceof Uint8Array) return { kind: { $case: 'binary', value: Buffer.from(value) } };
  if (isMxList(value)) return { kind: { $case: 'objectIds', value: { ids: value.map((o) => o.id) } } };
  if (isMxObject(value)) return { kind: { $case: 'objectId', value: value.id } };
  return EMPTY_VALUE;
}

/** Where members of entities are found: attributes (inherited too) and association ends. */
export class MemberTypes {
  readonly #model: CompiledModel;

  constructor(model: CompiledModel) {
    this.#model = model;
  }

  /** The attribute of an entity, if `member` names one. */
  attribute(entity: string, member: string): Attribute | undefined {
    return this.#model.entities.get(entity)?.allAttributes.get(member);
  }

  /** True for a ReferenceSet association. */
  isReferenceSet(member: string): boolean {
    return this.#model.associations.get(member)?.type === 'ReferenceSet';
  }

  /** A member's value as a proto Value: attributes by their type, associations as ids. */
  toValue(entity: string, member: string, value: MemberValue): Value {
    if (Array.isArray(value))
      return { kind: { $case: 'objectIds', value: { ids: [...(value as readonly string[])] } } };
    const attribute = this.attribute(entity, member);
    if (attribute === undefined) {
      // An association end: a Reference's target id.
      return typeof value === 'string' ? { kind: { $case: 'objectId', value } } : EMPTY_VALUE;
    }
    return valueOf(value as MxValue, attribute.type);
  }

  /** A member's value from a proto Value, checked against the attribute's type. */
  fromValue(entity: string, member: string, value: Value | undefined): MemberValue {
    const where = `${entity}.${member}`;
    const attribute = this.attribute(entity, member);
    if (attribute !== undefined) return primitiveFromValue(value, attribute.type, where, this.#model);
    const kind = value?.kind;
    if (kind === undefined || kind.$case === 'empty') return this.isReferenceSet(member) ? [] : null;
    if (kind.$case === 'objectId') return kind.value;
    if (kind.$case === 'objectIds') return [...kind.value.ids];
    throw invalidValue(`${where} is an association: give an object id, or object ids.`, {
      where,
      got: kind.$case,
    });
  }
}
