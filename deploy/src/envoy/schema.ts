import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { OperationalError } from '@runplane/errors';

/** One thing wrong in a configuration: where (a path like `static_resources.clusters[0].name`) and what. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

type Json = Readonly<Record<string, unknown>>;
type Rules = Readonly<Record<string, unknown>>;

const require = createRequire(import.meta.url);

/** Folders that hold Envoy's API protos and their imports, as `@grpc/grpc-js-xds` ships them. */
function protoRoots(): string[] {
  const xds = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const roots = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate', 'cel-spec'].map((d) =>
    join(xds, d),
  );
  // google/protobuf/descriptor.proto, imported by the annotation protos.
  roots.push(dirname(require.resolve('protobufjs/package.json')));
  return roots.filter((r) => existsSync(r));
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : `; did you mean \`${best}\`?`;
}

/** Merges every `(validate.rules)` option of a field into one object. */
function rulesOf(field: protobuf.Field): Rules | undefined {
  let merged: Record<string, unknown> | undefined;
  const parsed: unknown = field.parsedOptions;
  if (!Array.isArray(parsed)) return undefined;
  for (const option of parsed as unknown[]) {
    if (!isObject(option)) continue;
    const rules = option['(validate.rules)'];
    if (!isObject(rules)) continue;
    merged = deepMerge(merged ?? {}, rules);
  }
  return merged;
}

function deepMerge(a: Record<string, unknown>, b: Json): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const existing = out[k];
    out[k] = isObject(existing) && isObject(v) ? deepMerge({ ...existing }, v) : v;
  }
  return out;
}

function optionOf(object: protobuf.ReflectionObject, name: string): unknown {
  const options: unknown = object.options;
  return isObject(options) ? options[name] : undefined;
}

/** proto3 `optional` makes a one-member oneof named `_<field>`; it is not a real choice. */
function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.oneof.length === 1 && oneof.name.startsWith('_');
}

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A proto Duration in its JSON form ("1.5s") as nanoseconds. */
function durationNanos(text: string): bigint | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const nanos = BigInt(m[2] ?? '0') * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return m[1] === '-' ? -nanos : nanos;
}

/** A Duration as a validation rule writes it (`{ seconds, nanos }`) as nanoseconds. */
function ruleNanos(rule: unknown): bigint | undefined {
  if (!isObject(rule)) return undefined;
  const seconds = typeof rule.seconds === 'number' ? BigInt(Math.trunc(rule.seconds)) : 0n;
  const nanos = typeof rule.nanos === 'number' ? BigInt(Math.trunc(rule.nanos)) : 0n;
  return seconds * 1_000_000_000n + nanos;
}

const INTEGER_TYPES = new Set([
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  'int64',
  'uint64',
  'sint64',
  'fixed64',
  'sfixed64',
]);
const UNSIGNED_TYPES = new Set(['uint32', 'fixed32', 'uint64', 'fixed64']);
const SCALAR_TYPES = new Set([...INTEGER_TYPES, 'double', 'float', 'bool', 'string', 'bytes']);

/** The scalar inside each wrapper type, whose validation rules apply to the wrapped value. */
const WRAPPERS: Readonly<Record<string, string>> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** The rules key PGV uses for each scalar type. */
function ruleKey(scalar: string): string {
  return scalar;
}

/** Compares a number against PGV's const/lt/lte/gt/gte/in/not_in. */
function numericRuleProblems(value: number | bigint, rules: Rules): string[] {
  const n = typeof value === 'bigint' ? Number(value) : value;
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const out: string[] = [];
  const constant = num(rules.const);
  if (constant !== undefined && n !== constant) out.push(`must be ${constant}`);
  const lt = num(rules.lt);
  const lte = num(rules.lte);
  const gt = num(rules.gt);
  const gte = num(rules.gte);
  const upper = lt ?? lte;
  const lower = gt ?? gte;
  const belowUpper = lt !== undefined ? n < lt : lte !== undefined ? n <= lte : true;
  const aboveLower = gt !== undefined ? n > gt : gte !== undefined ? n >= gte : true;
  if (upper !== undefined && lower !== undefined && upper < lower) {
    // PGV: an upper bound below the lower bound means "outside the range".
    if (!belowUpper && !aboveLower) out.push(`must be outside (${upper}, ${lower})`);
  } else {
    if (!belowUpper) out.push(lt !== undefined ? `must be below ${lt}` : `must be at most ${String(lte)}`);
    if (!aboveLower) out.push(gt !== undefined ? `must be above ${gt}` : `must be at least ${String(gte)}`);
  }
  if (Array.isArray(rules.in) && !rules.in.includes(n)) out.push(`must be one of ${rules.in.join(', ')}`);
  if (Array.isArray(rules.not_in) && rules.not_in.includes(n)) out.push(`must not be ${n}`);
  return out;
}

function stringRuleProblems(value: string, rules: Rules): string[] {
  const out: string[] = [];
  // Code points, as protoc-gen-validate counts them.
  const chars = Array.from(value).length;
  const bytes = Buffer.byteLength(value, 'utf8');
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const minLen = num(rules.min_len);
  const maxLen = num(rules.max_len);
  const len = num(rules.len);
  const minBytes = num(rules.min_bytes);
  const maxBytes = num(rules.max_bytes);
  if (minLen !== undefined && chars < minLen)
    out.push(minLen === 1 ? 'must not be empty' : `must have at least ${minLen} characters`);
  if (maxLen !== undefined && chars > maxLen) out.push(`must have at most ${maxLen} characters`);
  if (len !== undefined && chars !== len) out.push(`must have exactly ${len} characters`);
  if (minBytes !== undefined && bytes < minBytes) out.push(`must have at least ${minBytes} bytes`);
  if (maxBytes !== undefined && bytes > maxBytes) out.push(`must have at most ${maxBytes} bytes`);
  if (typeof rules.const === 'string' && value !== rules.const) out.push(`must be "${rules.const}"`);
  if (typeof rules.prefix === 'string' && !value.startsWith(rules.prefix))
    out.push(`must start with "${rules.prefix}"`);
  if (typeof rules.suffix === 'string' && !value.endsWith(rules.suffix))
    out.push(`must end with "${rules.suffix}"`);
  if (typeof rules.contains === 'string' && !value.includes(rules.contains))
    out.push(`must contain "${rules.contains}"`);
  if (typeof rules.not_contains === 'string' && value.includes(rules.not_contains))
    out.push(`must not contain "${rules.not_contains}"`);
  if (Array.isArray(rules.in) && !rules.in.includes(value)) out.push(`must be one of ${rules.in.join(', ')}`);
  if (Array.isArray(rules.not_in) && rules.not_in.includes(value)) out.push(`must not be "${value}"`);
  if (typeof rules.pattern === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(rules.pattern, 'u');
    } catch {
      // An RE2 construct JavaScript does not know: Envoy checks it; we cannot.
      pattern = undefined;
    }
    if (pattern && !pattern.test(value)) out.push(`must match /${rules.pattern}/`);
  }
  return out;
}

function durationRuleProblems(nanos: bigint, rules: Rules): string[] {
  const out: string[] = [];
  const show = (n: bigint): string => `${Number(n) / 1e9}s`;
  const lt = ruleNanos(rules.lt);
  const lte = ruleNanos(rules.lte);
  const gt = ruleNanos(rules.gt);
  const gte = ruleNanos(rules.gte);
  const constant = ruleNanos(rules.const);
  if (constant !== undefined && nanos !== constant) out.push(`must be ${show(constant)}`);
  if (lt !== undefined && !(nanos < lt)) out.push(`must be shorter than ${show(lt)}`);
  if (lte !== undefined && !(nanos <= lte)) out.push(`must be at most ${show(lte)}`);
  if (gt !== undefined && !(nanos > gt)) out.push(`must be longer than ${show(gt)}`);
  if (gte !== undefined && !(nanos >= gte)) out.push(`must be at least ${show(gte)}`);
  return out;
}

/**
 * Envoy's v3 API, loaded from the protos that `@grpc/grpc-js-xds` ships, for checking a
 * configuration the way Envoy parses it — without an Envoy binary.
 *
 * {@link EnvoySchema.check} walks a configuration (as parsed from YAML) against the message
 * descriptors field by field: unknown fields at any depth (protobufjs itself would ignore
 * them), wrong value types, unknown enum names, two members of one oneof, deprecated fields,
 * `google.protobuf.Any` resolved through its `@type` URL and checked as that message, the
 * JSON forms of the well-known types (Duration "5s", wrappers, Struct), and the
 * protoc-gen-validate rules Envoy enforces at load time (required fields, string lengths,
 * numeric and duration bounds, list sizes, required oneofs) — including on fields left
 * unset, since Envoy validates their defaults too.
 *
 * Field names are accepted as the protos spell them (snake_case); Envoy would also take
 * the lowerCamelCase JSON names, which this check rejects to keep one spelling.
 */
export class EnvoySchema {
  private constructor(
    private readonly root: protobuf.Root,
    private readonly roots: readonly string[],
  ) {}

  /** Loads the bootstrap message and everything it imports (~1 s); extensions load on demand. */
  static load(): EnvoySchema {
    const roots = protoRoots();
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      if (isAbsolute(target)) return target;
      for (const r of roots) {
        const candidate = join(r, target);
        if (existsSync(candidate)) return candidate;
      }
      return target;
    };
    const schema = new EnvoySchema(root, roots);
    try {
      root.loadSync('envoy/config/bootstrap/v3/bootstrap.proto', { keepCase: true });
      root.resolveAll();
    } catch (err) {
      throw new OperationalError({
        code: 'ENVOY_PROTOS_UNAVAILABLE',
        message: `Cannot load Envoy's API protos from @grpc/grpc-js-xds: ${err instanceof Error ? err.message : String(err)}`,
        details: { roots },
        cause: err,
      });
    }
    return schema;
  }

  /** Checks an Envoy bootstrap configuration (the content of `envoy.yaml`). */
  checkBootstrap(config: unknown): SchemaProblem[] {
    return this.check('envoy.config.bootstrap.v3.Bootstrap', config);
  }

  /** Checks `value` as the message `typeName` (fully qualified, without a leading dot). */
  check(typeName: string, value: unknown): SchemaProblem[] {
    const type = this.findType(typeName);
    if (!type) return [{ path: '', message: `unknown message type ${typeName}` }];
    const problems: SchemaProblem[] = [];
    this.checkMessage(type, value, '', problems);
    return problems;
  }

  /**
   * Finds a message type, loading the proto file that declares it when it is not loaded
   * yet. Only that file is loaded: some files beside it import protos that are not shipped.
   */
  private findType(name: string): protobuf.Type | undefined {
    const found = this.lookup(name);
    if (found) return found;
    const file = this.fileDeclaring(name);
    if (file === undefined) return undefined;
    this.root.loadSync(file, { keepCase: true });
    this.root.resolveAll();
    return this.lookup(name);
  }

  /** The proto file (relative to a root) whose package and top-level message make up `name`. */
  private fileDeclaring(name: string): string | undefined {
    const parts = name.split('.');
    for (let end = parts.length - 1; end > 0; end--) {
      const pkg = parts.slice(0, end).join('.');
      const message = parts[end];
      const dir = parts.slice(0, end).join('/');
      for (const r of this.roots) {
        const full = join(r, dir);
        if (!existsSync(full)) continue;
        for (const f of readdirSync(full).filter((n) => n.endsWith('.proto'))) {
          const source = readFileSync(join(full, f), 'utf8');
          if (!new RegExp(`^package ${pkg.replace(/\./g, '\\.')};`, 'm').test(source)) continue;
          if (new RegExp(`^message ${message ?? ''} \\{`, 'm').test(source)) return `${dir}/${f}`;
        }
      }
    }
    return undefined;
  }

  private lookup(name: string): protobuf.Type | undefined {
    try {
      return this.root.lookupType(name);
    } catch {
      return undefined;
    }
  }

  private checkMessage(type: protobuf.Type, value: unknown, path: string, out: SchemaProblem[]): void {
    const fullName = type.fullName;
    if (fullName === '.google.protobuf.Any') {
      this.checkAny(value, path, out);
      return;
    }
    if (this.checkWellKnown(fullName, value, path, out)) return;
    if (!isObject(value)) {
      out.push({
        path,
        message:
          value === null
            ? `null is not a ${type.name}: write {} for an empty message, or leave the key out`
            : `expected a ${type.name} object, found ${describe(value)}`,
      });
      return;
    }
    const fieldNames = Object.keys(type.fields);
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = type.fields[key];
      const at = path === '' ? key : `${path}.${key}`;
      if (!field) {
        out.push({
          path: at,
          message: `unknown field \`${key}\` in ${type.name}${suggestion(key, fieldNames)}`,
        });
        continue;
      }
      if (optionOf(field, 'deprecated') === true)
        out.push({ path: at, message: `\`${key}\` is deprecated in ${type.name}; Envoy may reject it` });
      if (optionOf(field, '(envoy.annotations.disallowed_by_default)') === true)
        out.push({ path: at, message: `\`${key}\` is disallowed by default in ${type.name}` });
      this.checkField(field, fieldValue, at, out);
    }
    for (const oneof of type.oneofsArray) {
      if (isSyntheticOneof(oneof)) continue;
      const present = oneof.oneof.filter((n) => n in value);
      if (present.length > 1)
        out.push({
          path,
          message: `only one of ${present.map((p) => `\`${p}\``).join(', ')} may be set in ${type.name}`,
        });
      if (present.length === 0 && optionOf(oneof, '(validate.required)') === true)
        out.push({
          path,
          message: `one of ${oneof.oneof.map((p) => `\`${p}\``).join(', ')} is required in ${type.name}`,
        });
    }
    for (const field of type.fieldsArray) {
      if (field.name in value) continue;
      // Members of a oneof are validated only when chosen.
      if (field.partOf && !isSyntheticOneof(field.partOf)) continue;
      const rules = rulesOf(field);
      if (!rules) continue;
      const at = path === '' ? field.name : `${path}.${field.name}`;
      for (const message of this.unsetFieldProblems(field, rules))
        out.push({ path: at, message: `\`${field.name}\` ${message} (in ${type.name})` });
    }
  }

  /** What the validation rules say about a field left unset (Envoy checks its default). */
  private unsetFieldProblems(field: protobuf.Field, rules: Rules): string[] {
    for (const kind of ['message', 'duration', 'timestamp', 'any']) {
      const r = rules[kind];
      if (isObject(r) && r.required === true) return ['is required'];
    }
    if (field.repeated || field.map) {
      const r = rules[field.map ? 'map' : 'repeated'];
      if (isObject(r) && r.ignore_empty !== true) {
        const min = field.map ? r.min_pairs : r.min_items;
        if (typeof min === 'number' && min > 0) return ['is required (at least one entry)'];
      }
      return [];
    }
    if (field.resolvedType instanceof protobuf.Type) return [];
    if (field.partOf) return []; // proto3 optional: absent means "not set", not "default"
    const r = rules[field.resolvedType instanceof protobuf.Enum ? 'enum' : ruleKey(field.type)];
    if (!isObject(r) || r.ignore_empty === true) return [];
    if (field.type === 'string') return stringRuleProblems('', r).map((m) => `is unset but ${m}`);
    if (INTEGER_TYPES.has(field.type) || field.type === 'double' || field.type === 'float')
      return numericRuleProblems(0, r).map((m) => `is unset (0) but ${m}`);
    return [];
  }

  private checkField(field: protobuf.Field, value: unknown, path: string, out: SchemaProblem[]): void {
    const rules = rulesOf(field);
    if (field.map) {
      if (!isObject(value)) {
        out.push({ path, message: `expected a map, found ${describe(value)}` });
        return;
      }
      const keyType = field instanceof protobuf.MapField ? field.keyType : 'string';
      for (const [k, v] of Object.entries(value)) {
        if (INTEGER_TYPES.has(keyType) && !/^-?\d+$/.test(k))
          out.push({ path: `${path}.${k}`, message: `map key must be an integer` });
        if (keyType === 'bool' && k !== 'true' && k !== 'false')
          out.push({ path: `${path}.${k}`, message: `map key must be true or false` });
        this.checkSingle(field, v, `${path}.${k}`, undefined, out);
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        out.push({ path, message: `expected a list, found ${describe(value)}` });
        return;
      }
      const repeatedRules = isObject(rules?.repeated) ? rules.repeated : undefined;
      const min = repeatedRules?.min_items;
      const max = repeatedRules?.max_items;
      if (
        typeof min === 'number' &&
        value.length < min &&
        !(value.length === 0 && repeatedRules?.ignore_empty)
      )
        out.push({ path, message: `needs at least ${min} entries, has ${value.length}` });
      if (typeof max === 'number' && value.length > max)
        out.push({ path, message: `allows at most ${max} entries, has ${value.length}` });
      const itemRules = isObject(repeatedRules?.items) ? repeatedRules.items : undefined;
      value.forEach((item: unknown, i) => {
        this.checkSingle(field, item, `${path}[${i}]`, itemRules, out);
      });
      return;
    }
    this.checkSingle(field, value, path, rules, out);
  }

  /** One value of a field (one list item, one map value, or the field's value). */
  private checkSingle(
    field: protobuf.Field,
    value: unknown,
    path: string,
    rules: Rules | undefined,
    out: SchemaProblem[],
  ): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const wrapped = WRAPPERS[resolved.fullName];
      if (wrapped !== undefined) {
        this.checkScalar(wrapped, value, path, rules, out);
        return;
      }
      this.checkMessage(resolved, value, path, out);
      if (resolved.fullName === '.google.protobuf.Duration' && typeof value === 'string') {
        const nanos = durationNanos(value);
        const r = isObject(rules?.duration) ? rules.duration : undefined;
        if (nanos !== undefined && r)
          for (const m of durationRuleProblems(nanos, r)) out.push({ path, message: m });
      }
      return;
    }
    if (resolved instanceof protobuf.Enum) {
      this.checkEnum(resolved, value, path, isObject(rules?.enum) ? rules.enum : undefined, out);
      return;
    }
    if (SCALAR_TYPES.has(field.type)) {
      this.checkScalar(field.type, value, path, rules, out);
      return;
    }
    out.push({ path, message: `field type ${field.type} could not be resolved` });
  }

  private checkEnum(
    type: protobuf.Enum,
    value: unknown,
    path: string,
    rules: Rules | undefined,
    out: SchemaProblem[],
  ): void {
    const names = Object.keys(type.values);
    let numeric: number | undefined;
    if (typeof value === 'string') {
      numeric = type.values[value];
      if (numeric === undefined) {
        out.push({
          path,
          message: `"${value}" is not a ${type.name}: one of ${names.join(', ')}${suggestion(value, names)}`,
        });
        return;
      }
    } else if (typeof value === 'number' && Number.isInteger(value)) {
      numeric = value;
      if (rules?.defined_only === true && !Object.values(type.values).includes(value))
        out.push({ path, message: `${value} is not a defined ${type.name}` });
    } else {
      out.push({ path, message: `expected a ${type.name} name, found ${describe(value)}` });
      return;
    }
    if (rules) {
      if (Array.isArray(rules.in) && !rules.in.includes(numeric))
        out.push({ path, message: `${String(value)} is not allowed here` });
      if (Array.isArray(rules.not_in) && rules.not_in.includes(numeric))
        out.push({ path, message: `${String(value)} is not allowed here` });
    }
  }

  private checkScalar(
    scalar: string,
    value: unknown,
    path: string,
    rules: Rules | undefined,
    out: SchemaProblem[],
  ): void {
    const r = rules && isObject(rules[ruleKey(scalar)]) ? (rules[ruleKey(scalar)] as Rules) : undefined;
    if (scalar === 'string') {
      if (typeof value !== 'string') {
        out.push({ path, message: `expected a string, found ${describe(value)}` });
        return;
      }
      if (r) for (const m of stringRuleProblems(value, r)) out.push({ path, message: m });
      return;
    }
    if (scalar === 'bool') {
      if (typeof value !== 'boolean')
        out.push({ path, message: `expected true or false, found ${describe(value)}` });
      return;
    }
    if (scalar === 'bytes') {
      if (typeof value !== 'string' || !BASE64.test(value))
        out.push({ path, message: `expected base64 text, found ${describe(value)}` });
      return;
    }
    if (scalar === 'double' || scalar === 'float') {
      const ok =
        (typeof value === 'number' && Number.isFinite(value)) ||
        value === 'NaN' ||
        value === 'Infinity' ||
        value === '-Infinity';
      if (!ok) {
        out.push({ path, message: `expected a number, found ${describe(value)}` });
        return;
      }
      if (r && typeof value === 'number')
        for (const m of numericRuleProblems(value, r)) out.push({ path, message: m });
      return;
    }
    // Integers: a number, or (as proto3 JSON allows, and needs for 64-bit values) its digits as text.
    let n: bigint | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = BigInt(value);
    if (n === undefined) {
      out.push({ path, message: `expected an integer, found ${describe(value)}` });
      return;
    }
    const bits = scalar.endsWith('64') ? 64n : 32n;
    const unsigned = UNSIGNED_TYPES.has(scalar);
    const min = unsigned ? 0n : -(2n ** (bits - 1n));
    const max = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
    if (n < min || n > max) {
      out.push({ path, message: `${n} is out of range for ${scalar}` });
      return;
    }
    if (r) for (const m of numericRuleProblems(n, r)) out.push({ path, message: m });
  }

  /** The JSON forms of the well-known types; true when `fullName` is one of them. */
  private checkWellKnown(fullName: string, value: unknown, path: string, out: SchemaProblem[]): boolean {
    switch (fullName) {
      case '.google.protobuf.Duration':
        if (typeof value !== 'string' || durationNanos(value) === undefined)
          out.push({ path, message: `expected a duration like "5s" or "0.25s", found ${describe(value)}` });
        return true;
      case '.google.protobuf.Timestamp':
        if (typeof value !== 'string' || !TIMESTAMP.test(value))
          out.push({ path, message: `expected an RFC 3339 timestamp, found ${describe(value)}` });
        return true;
      case '.google.protobuf.Struct':
        if (!isObject(value)) out.push({ path, message: `expected an object, found ${describe(value)}` });
        return true;
      case '.google.protobuf.ListValue':
        if (!Array.isArray(value)) out.push({ path, message: `expected a list, found ${describe(value)}` });
        return true;
      case '.google.protobuf.Value':
        return true;
      case '.google.protobuf.Empty':
        if (!isObject(value) || Object.keys(value).length > 0)
          out.push({ path, message: `expected {}, found ${describe(value)}` });
        return true;
      case '.google.protobuf.FieldMask':
        if (typeof value !== 'string')
          out.push({ path, message: `expected a field mask, found ${describe(value)}` });
        return true;
      default: {
        const wrapped = WRAPPERS[fullName];
        if (wrapped === undefined) return false;
        this.checkScalar(wrapped, value, path, undefined, out);
        return true;
      }
    }
  }

  /** `google.protobuf.Any`: `@type` names the message, whose fields sit beside it. */
  private checkAny(value: unknown, path: string, out: SchemaProblem[]): void {
    if (!isObject(value)) {
      out.push({ path, message: `expected an object with "@type", found ${describe(value)}` });
      return;
    }
    const url = value['@type'];
    if (typeof url !== 'string') {
      out.push({ path, message: 'a typed config needs "@type": "type.googleapis.com/<message>"' });
      return;
    }
    const slash = url.lastIndexOf('/');
    const typeName = url.slice(slash + 1);
    if (slash < 0 || typeName === '') {
      out.push({ path: `${path}.@type`, message: `"${url}" is not a type URL` });
      return;
    }
    const type = this.findType(typeName);
    if (!type) {
      out.push({ path: `${path}.@type`, message: `unknown type ${typeName}` });
      return;
    }
    const { ['@type']: _type, ...rest } = value;
    const special =
      type.fullName in WRAPPERS ||
      [
        '.google.protobuf.Duration',
        '.google.protobuf.Timestamp',
        '.google.protobuf.Struct',
        '.google.protobuf.Value',
        '.google.protobuf.ListValue',
        '.google.protobuf.FieldMask',
      ].includes(type.fullName);
    if (special) {
      const extra = Object.keys(rest).filter((k) => k !== 'value');
      if (extra.length > 0) out.push({ path, message: `unknown field \`${extra[0] ?? ''}\` beside "@type"` });
      this.checkMessage(type, rest.value, `${path}.value`, out);
      return;
    }
    this.checkMessage(type, rest, path, out);
  }
}
