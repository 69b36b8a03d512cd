/**
 * Checks a parsed model file against the JSON Schema and turns Ajv's errors into
 * {@link ModelError}s that point at the offending key or value in the file.
 *
 * Ajv reports every failing branch of a union; we keep only the errors of the branch
 * the data was evidently meant for (the `kind`/`type`/`rule` discriminator, or the
 * branch whose shape fits best), so each mistake yields one precise error.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { ModelErrorCode, type ModelError } from '../errors.js';
import type { ParsedFile, PathSegment } from '../source/parsed-file.js';
import { closestName } from '../check/spelling.js';
import { buildModelSchema, MODEL_SCHEMA_ID, PATTERNS } from './model-schema.js';

/** Which root a file has. */
export type FileRole = 'app' | 'module';

interface Validators {
  readonly app: ValidateFunction;
  readonly module: ValidateFunction;
}

let validators: Validators | undefined;

function getValidators(): Validators {
  if (validators !== undefined) return validators;
  const ajv = new Ajv2020({
    allErrors: true,
    discriminator: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
  });
  ajv.addSchema(buildModelSchema());
  const get = (def: string): ValidateFunction => {
    const fn = ajv.getSchema(`${MODEL_SCHEMA_ID}#/$defs/${def}`);
    if (fn === undefined) throw new TypeError(`schema definition ${def} is missing`);
    return fn;
  };
  validators = { app: get('AppFile'), module: get('ModuleFile') };
  return validators;
}

/**
 * Validates the data of a file with the given role. `pathPrefix` is the first segment
 * of model paths in this file (the module name, or `app`).
 */
export function validateFile(file: ParsedFile, role: FileRole, pathPrefix: string): ModelError[] {
  const validate = getValidators()[role];
  if (validate(file.data)) return [];
  const errors = selectErrors(validate.errors ?? []);
  const result: ModelError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const described = describe(error);
    if (described === undefined) continue;
    const key = `${described.path.join('/')}|${described.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const position = file.position(described.path, described.at);
    result.push({
      code: ModelErrorCode.Schema,
      file: file.path,
      line: position.line,
      column: position.column,
      path: [pathPrefix, ...described.path].join('/'),
      message: described.message,
      hint: described.hint,
    });
  }
  return result;
}

function segmentsOf(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isUnion(e: ErrorObject): boolean {
  return (e.keyword === 'anyOf' || e.keyword === 'oneOf') && !isDiscriminated(e);
}

function isDiscriminated(e: ErrorObject): boolean {
  const parent = e.parentSchema as { discriminator?: unknown } | undefined;
  return parent?.discriminator !== undefined;
}

function belongsTo(e: ErrorObject, union: ErrorObject): boolean {
  return (
    e !== union &&
    e.schemaPath.startsWith(`${union.schemaPath}/`) &&
    (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`))
  );
}

function branchOf(e: ErrorObject, union: ErrorObject): number {
  const rest = e.schemaPath.slice(union.schemaPath.length + 1);
  return Number.parseInt(rest.split('/')[0] ?? '', 10);
}

/** Drops union noise and errors that restate others. */
function selectErrors(all: readonly ErrorObject[]): ErrorObject[] {
  let errors = all.filter((e) => e.keyword !== 'if');
  // Outer unions first: choosing their branch removes inner unions of other branches.
  const unions = errors.filter(isUnion).sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!errors.includes(union)) continue;
    const inside = errors.filter((e) => belongsTo(e, union));
    const branches = new Map<number, ErrorObject[]>();
    for (const e of inside) {
      const b = branchOf(e, union);
      branches.set(b, [...(branches.get(b) ?? []), e]);
    }
    let best: { branch: number; score: number } | undefined;
    for (const [branch, branchErrors] of branches) {
      const atRoot = branchErrors.filter((e) => e.instancePath === union.instancePath);
      if (atRoot.some((e) => e.keyword === 'type')) continue;
      const score =
        atRoot.filter((e) => e.keyword === 'additionalProperties').length * 10 +
        atRoot.filter((e) => e.keyword === 'required').length * 5 +
        branchErrors.length;
      if (best === undefined || score < best.score) best = { branch, score };
    }
    if (best === undefined) {
      // No branch fits the data's type: report the union itself.
      errors = errors.filter((e) => !inside.includes(e));
    } else {
      const keep = branches.get(best.branch) ?? [];
      errors = errors.filter((e) => e !== union && (!inside.includes(e) || keep.includes(e)));
    }
  }
  // A missing discriminator is already reported as a missing property.
  errors = errors.filter(
    (e) =>
      !(
        e.keyword === 'discriminator' &&
        (e.params as { error?: string }).error === 'tag' &&
        errors.some((o) => o.keyword === 'required' && o.instancePath === e.instancePath)
      ),
  );
  // propertyNames reports the inner pattern error too; keep the one that names the key.
  errors = errors.filter((e) => !(e.keyword === 'pattern' && e.propertyName !== undefined));
  // A misspelt property shows up as unknown and its proper name as missing: keep the first.
  const misspelt = errors.filter((e) => e.keyword === 'additionalProperties');
  errors = errors.filter((e) => {
    if (e.keyword !== 'required') return true;
    const missing = String((e.params as { missingProperty?: unknown }).missingProperty);
    return !misspelt.some(
      (m) =>
        m.instancePath === e.instancePath &&
        closestName(String((m.params as { additionalProperty?: unknown }).additionalProperty), [missing]) ===
          missing,
    );
  });
  return errors;
}

interface Described {
  readonly path: PathSegment[];
  readonly at: 'key' | 'value';
  readonly message: string;
  readonly hint: string;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a number';
    case 'boolean':
      return 'a Boolean';
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'nothing',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}

function suggestion(value: unknown, allowed: readonly string[]): string {
  const close = typeof value === 'string' ? closestName(value, allowed) : undefined;
  const list = allowed.length <= 12 ? `Allowed: ${allowed.join(', ')}.` : '';
  return [close === undefined ? '' : `Did you mean '${close}'?`, list].filter((s) => s !== '').join(' ');
}

function describe(e: ErrorObject): Described | undefined {
  const path: PathSegment[] = segmentsOf(e.instancePath);
  const parent = (e.parentSchema ?? {}) as {
    properties?: Record<string, { description?: string }>;
    description?: string;
    oneOf?: { properties?: Record<string, { const?: string }> }[];
  };
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const what = parent.properties?.[missing]?.description;
      return {
        path,
        at: 'key',
        message: `Missing '${missing}'.`,
        hint: what === undefined ? `Add '${missing}'.` : `Add '${missing}': ${lowerFirst(what)}`,
      };
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {}).filter((k) => k !== 'kind' && k !== '$schema');
      return {
        path: [...path, extra],
        at: 'key',
        message: `Unknown property '${extra}'.`,
        hint: suggestion(extra, allowed),
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const schema = e.schema as { pattern?: string } | undefined;
      const says = Object.values(PATTERNS).find((p) => p.pattern === schema?.pattern)?.says ?? 'a valid name';
      return { path: [...path, name], at: 'key', message: `'${name}' is not ${says}.`, hint: 'Rename it.' };
    }
    case 'type': {
      const quoteIt =
        params.type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean')
          ? `Quote it: '${String(e.data)}'. `
          : '';
      return {
        path,
        at: 'value',
        message: `Expected ${typeWords(params.type)}, found ${typeName(e.data)}.`,
        hint: `${quoteIt}${parent.description ?? ''}`.trim(),
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return {
        path,
        at: 'value',
        message: `${quote(e.data)} is not allowed here.`,
        hint: suggestion(e.data, allowed),
      };
    }
    case 'const':
      return { path, at: 'value', message: `Expected ${quote(params.allowedValue)}.`, hint: '' };
    case 'pattern': {
      const says =
        Object.values(PATTERNS).find((p) => p.pattern === params.pattern)?.says ??
        `text matching ${String(params.pattern)}`;
      return {
        path,
        at: 'value',
        message: `${quote(e.data)} is not ${says}.`,
        hint: parent.description ?? '',
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        at: 'value',
        message: `${quote(e.data)} is ${e.keyword.includes('inimum') ? 'below the minimum' : 'above the maximum'} of ${String(params.limit)}.`,
        hint: parent.description ?? '',
      };
    case 'minItems':
      return {
        path,
        at: 'value',
        message: `Give at least ${String(params.limit)} item(s).`,
        hint: parent.description ?? '',
      };
    case 'minLength':
      return { path, at: 'value', message: 'Must not be empty.', hint: parent.description ?? '' };
    case 'discriminator': {
      const tag = String(params.tag);
      const allowed = (parent.oneOf ?? [])
        .map((variant) => variant.properties?.[tag]?.const)
        .filter((v): v is string => typeof v === 'string');
      if (params.error === 'mapping') {
        return {
          path: [...path, tag],
          at: 'value',
          message: `Unknown ${tag} ${quote(params.tagValue)}.`,
          hint: suggestion(params.tagValue, allowed),
        };
      }
      return {
        path: [...path, tag],
        at: 'value',
        message: `'${tag}' must be a string.`,
        hint: suggestion(undefined, allowed),
      };
    }
    case 'anyOf':
    case 'oneOf':
      return {
        path,
        at: 'value',
        message: `${typeName(e.data).replace(/^./, (c) => c.toUpperCase())} is not allowed here.`,
        hint: parent.description ?? '',
      };
    default:
      return {
        path,
        at: 'value',
        message: `${e.message ?? 'Invalid value'}.`.replace(/^must/, 'Must'),
        hint: parent.description ?? '',
      };
  }
}

function lowerFirst(text: string): string {
  return text.slice(0, 1).toLowerCase() + text.slice(1);
}
