import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadErrors, where } from '../testing/helpers.js';
import { buildModelSchema } from './model-schema.js';
import { modelSchemaText } from './schema-text.js';

const schemaFile = new URL('../../schema/runplane-model.schema.json', import.meta.url);

describe('the JSON Schema', () => {
  it('ships as schema/runplane-model.schema.json, equal to the built schema (run npm run schema after changing it)', async () => {
    // Compared as JSON: the repository's formatter may lay the file out differently.
    expect(JSON.parse(await readFile(schemaFile, 'utf8'))).toEqual(JSON.parse(modelSchemaText()));
  });

  it('is a valid draft 2020-12 schema in Ajv strict mode', () => {
    const ajv = new Ajv2020({
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
    });
    expect(() => ajv.compile(buildModelSchema())).not.toThrow();
  });

  it('accepts the example models', async () => {
    const ajv = new Ajv2020({
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
    });
    const validate = ajv.compile(JSON.parse(await readFile(schemaFile, 'utf8')) as object);
    const app = JSON.parse(
      await readFile(new URL('../../../../examples/helpdesk/app.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(validate(app), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('schema errors', () => {
  it('point at an unknown property, with a did-you-mean hint', () => {
    const text = `module: M
entities:
  Order:
    atributes: { A: String }
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_SCHEMA',
      file: 'M.yaml',
      ...where(text, 'atributes'),
      path: 'M/entities/Order/atributes',
    });
    expect(error?.message).toBe("Unknown property 'atributes'.");
    expect(error?.hint).toContain("Did you mean 'attributes'?");
  });

  it('point at the element missing a required property', () => {
    const text = `module: M
entities:
  E:
    attributes:
      Status: { type: Enumeration }
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_SCHEMA',
      ...where(text, 'Status'),
      path: 'M/entities/E/attributes/Status',
      message: "Missing 'enumeration'.",
    });
  });

  it('report the one error of the node kind chosen, not the noise of every other kind', () => {
    const text = `module: M
microflows:
  F:
    start: a
    nodes:
      a: { kind: retreive, output: X, next: b }
      b: { kind: end, value: 3 }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['M/microflows/F/nodes/a/kind', "Unknown kind 'retreive'."],
      ['M/microflows/F/nodes/b/value', 'Expected a string, found an integer.'],
    ]);
    expect(errors[0]).toMatchObject(where(text, 'retreive'));
    expect(errors[0]?.hint).toBe("Did you mean 'retrieve'?");
  });

  it('pick the branch of a union the value was meant for', () => {
    const text = `module: M
entities:
  E:
    attributes:
      A: Integr
      B: { type: String, lenght: 10 }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.path, e.message, e.hint.split('?')[0]])).toEqual([
      ['M/entities/E/attributes/A', "'Integr' is not allowed here.", "Did you mean 'Integer'"],
      ['M/entities/E/attributes/B/lenght', "Unknown property 'lenght'.", "Did you mean 'length'"],
    ]);
  });

  it('report names that are not names, at the key', () => {
    const text = `module: M
entities:
  My Entity: {}
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_SCHEMA',
      ...where(text, 'My Entity'),
      path: 'M/entities/My Entity',
    });
  });

  it('report every schema error of every file in one run', () => {
    const a = 'module: A\nentities: { X: { persistable: maybe } }\n';
    const b = 'module: B\nmicroflows: { F: { start: a } }\n';
    const c = '{ "app": "C", "settings": { "roundingMode": "Up" } }';
    const errors = loadErrors({ 'a.yaml': a, 'b.yaml': b, 'c.json': c });
    expect(errors.map((e) => [e.file, e.path, e.line, e.column])).toEqual([
      ['a.yaml', 'A/entities/X/persistable', ...Object.values(where(a, 'maybe'))],
      ['b.yaml', 'B/microflows/F', ...Object.values(where(b, 'F:'))],
      ['c.json', 'app/settings/roundingMode', ...Object.values(where(c, '"Up"'))],
    ]);
    expect(errors[1]?.message).toBe("Missing 'nodes'.");
  });

  it('report a file that is not a mapping, and YAML syntax errors with their position', () => {
    const errors = loadErrors({ 'list.yaml': '- a\n- b\n', 'broken.yaml': 'module: M\nentities: {\n' });
    expect(errors.map((e) => [e.code, e.file])).toEqual([
      ['MODEL_SYNTAX', 'broken.yaml'],
      ['MODEL_SCHEMA', 'list.yaml'],
    ]);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('report the System module as built in when a file defines it', () => {
    const [error] = loadErrors({ 'S.yaml': 'module: System\n' });
    expect(error).toMatchObject({ code: 'MODEL_DUPLICATE_NAME', path: 'System/module', line: 1, column: 9 });
  });
});
