/**
 * Values for `runplane eval --var name=json`: JSON read exactly (numbers keep every
 * digit) and turned into Mendix values with their types.
 *
 * - `"text"` → String; `true`/`false` → Boolean; `null` → empty
 * - `12` → Integer (Long beyond 32 bits); `12.50` → Decimal
 * - `{"$decimal": "1.5"}`, `{"$long": "12"}`, `{"$date": "2024-01-31T12:00:00Z"}`,
 *   `{"$enum": "Sales.OrderStatus.Placed"}`
 * - `{"$entity": "Sales.Order", "Total": "12.5", "Sales.Order_Customer": {...}}` → an
 *   object; attributes are read as their type in the model, associations as objects or lists
 * - `[{"$entity": ...}, ...]` → a list
 */
import {
  Decimal,
  type DomainSchema,
  type MxObjectValue,
  type MxType,
  type MxValue,
} from '@runplane/expressions';
import { UsageError } from './args.js';

type Json =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'array'; readonly items: readonly Json[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Json])[] };

/** Parses JSON, keeping the text of numbers. */
export function parseExactJson(text: string): Json {
  let i = 0;
  const fail = (what: string): never => {
    throw new UsageError(`Not valid JSON at position ${i + 1}: ${what}.`);
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, Json][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', entries };
      }
      for (;;) {
        ws();
        const key = value();
        if (key.kind !== 'string') fail('expected a string key');
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        entries.push([(key as { value: string }).value, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', entries };
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const items: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', items };
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') {
      // Find the closing quote, then let JSON.parse judge escapes and control characters.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return fail('an unterminated string');
      let parsed: string;
      try {
        parsed = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        return fail('a bad string');
      }
      i = j + 1;
      return { kind: 'string', value: parsed };
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number !== null) {
      i += number[0].length;
      return { kind: 'number', text: number[0] };
    }
    for (const [word, json] of [
      ['true', { kind: 'boolean', value: true }],
      ['false', { kind: 'boolean', value: false }],
      ['null', { kind: 'null' }],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return json;
      }
    }
    return fail('unexpected input');
  };
  const result = value();
  ws();
  if (i < text.length) fail('unexpected input after the value');
  return result;
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

/** A value with its type. */
export interface TypedValue {
  readonly type: MxType;
  readonly value: MxValue;
}

let nextId = 1;

function field(json: Json, name: string): Json | undefined {
  return json.kind === 'object' ? json.entries.find(([k]) => k === name)?.[1] : undefined;
}

function text(json: Json): string {
  if (json.kind === 'string') return json.value;
  if (json.kind === 'number') return json.text;
  throw new UsageError('Expected a string or a number.');
}

/** Reads a JSON value as a Mendix value, typing it from its form (see the module doc). */
export function toTypedValue(json: Json, schema: DomainSchema): TypedValue {
  switch (json.kind) {
    case 'string':
      return { type: { kind: 'String' }, value: json.value };
    case 'boolean':
      return { type: { kind: 'Boolean' }, value: json.value };
    case 'null':
      return { type: { kind: 'Empty' }, value: null };
    case 'number': {
      if (/^-?\d+$/.test(json.text)) {
        const n = BigInt(json.text);
        return { type: { kind: n >= INT_MIN && n <= INT_MAX ? 'Integer' : 'Long' }, value: n };
      }
      return { type: { kind: 'Decimal' }, value: new Decimal(json.text) };
    }
    case 'array': {
      const items = json.items.map((item) => toTypedValue(item, schema));
      const first = items[0]?.type;
      if (
        first === undefined ||
        first.kind !== 'Object' ||
        items.some((item) => item.type.kind !== 'Object')
      ) {
        throw new UsageError(
          'A list holds objects ({"$entity": ...}), and at least one, so its entity is known.',
        );
      }
      return {
        type: { kind: 'List', entity: first.entity },
        value: items.map((item) => item.value as MxObjectValue),
      };
    }
    case 'object': {
      const tagged = json.entries[0];
      if (json.entries.length === 1 && tagged !== undefined && tagged[0] !== '$entity') {
        const [tag, inner] = tagged;
        switch (tag) {
          case '$decimal':
            return { type: { kind: 'Decimal' }, value: new Decimal(text(inner)) };
          case '$long':
            return { type: { kind: 'Long' }, value: BigInt(text(inner)) };
          case '$date': {
            const date = new Date(inner.kind === 'number' ? Number(inner.text) : text(inner));
            if (Number.isNaN(date.getTime())) throw new UsageError(`'${text(inner)}' is not a date.`);
            return { type: { kind: 'DateTime' }, value: date };
          }
          case '$enum': {
            const full = text(inner);
            const dot = full.lastIndexOf('.');
            const enumeration = full.slice(0, dot);
            const key = full.slice(dot + 1);
            const info = schema.enumeration(enumeration);
            if (info === undefined || !info.values.some((v) => v.key === key)) {
              throw new UsageError(`'${full}' is not Module.Enumeration.Value of the model.`);
            }
            return { type: { kind: 'Enumeration', enumeration }, value: key };
          }
          default:
            break;
        }
      }
      return toObject(json, schema);
    }
  }
}

function toObject(json: Extract<Json, { kind: 'object' }>, schema: DomainSchema): TypedValue {
  const entityJson = field(json, '$entity');
  if (entityJson?.kind !== 'string') {
    throw new UsageError(
      'An object needs "$entity": "Module.Entity" (or use $decimal, $long, $date, $enum).',
    );
  }
  const entity = schema.entity(entityJson.value);
  if (entity === undefined)
    throw new UsageError(`Unknown entity '${entityJson.value}'; pass --model to use the app's entities.`);
  const idJson = field(json, '$id');
  const id = idJson === undefined ? String(nextId++) : text(idJson);
  const members = new Map<string, MxValue>();
  for (const [name, value] of json.entries) {
    if (name === '$entity' || name === '$id') continue;
    const attribute = entity.attribute(name);
    if (attribute !== undefined) {
      members.set(name, coerce(value, attribute.type, schema, `${entity.name}.${name}`));
      continue;
    }
    if (entity.association(name) !== undefined) {
      members.set(name, toTypedValue(value, schema).value);
      continue;
    }
    throw new UsageError(`Entity ${entity.name} has no attribute or association '${name}'.`);
  }
  const object: MxObjectValue = {
    id,
    entity: entity.name,
    get: (name) => members.get(name) ?? null,
  };
  return { type: { kind: 'Object', entity: entity.name }, value: object };
}

function coerce(json: Json, type: MxType, schema: DomainSchema, what: string): MxValue {
  if (json.kind === 'null') return null;
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      return BigInt(text(json));
    case 'Decimal':
      return new Decimal(text(json));
    case 'Boolean':
      if (json.kind !== 'boolean') throw new UsageError(`${what} is a Boolean.`);
      return json.value;
    case 'DateTime': {
      const date = new Date(json.kind === 'number' ? Number(json.text) : text(json));
      if (Number.isNaN(date.getTime()))
        throw new UsageError(`${what} is a date; give an ISO 8601 string or epoch milliseconds.`);
      return date;
    }
    case 'String':
    case 'Enumeration':
      return text(json);
    default:
      return toTypedValue(json, schema).value;
  }
}
