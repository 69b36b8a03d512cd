import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ImmutableMap,
  ModelLoadError,
  formatModelError,
  loadModel,
  loadModelOrThrow,
  summarizeModel,
} from './index.js';
import { load, loadErrors, loadValid, where } from './testing/helpers.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

describe('the example apps', () => {
  it('orders loads without errors, with the demo users and roles the session service expects', async () => {
    const result = await loadModel(join(examples, 'orders'));
    if (!result.ok) throw new TypeError(result.errors.map(formatModelError).join('\n'));
    const model = result.model;
    expect(summarizeModel(model)).toMatchObject({
      modules: 1,
      entities: 5,
      microflows: 12,
      pages: 7,
      scheduledEvents: 1,
      restServices: 2,
    });
    const users = Object.fromEntries(model.security.demoUsers.map((u) => [u.name, u]));
    expect(users.alice).toMatchObject({
      name: 'alice',
      password: 'Password1!',
      userRoles: ['Customer'],
      entity: 'Sales.Customer',
    });
    expect(Object.fromEntries(users.alice?.attributes ?? [])).toEqual({
      FullName: 'Alice Adams',
      Email: 'alice@example.com',
    });
    expect(users.bob?.userRoles).toEqual(['Customer']);
    expect(users.sam).toMatchObject({
      name: 'sam',
      password: 'Password1!',
      userRoles: ['Sales'],
      entity: 'System.User',
    });
    expect(users.sam?.attributes.size).toBe(0);
    expect(model.security.userRoles.has('Administrator')).toBe(true);
    expect(model.entities.get('Sales.Invoice')?.generalizations).toEqual(['System.FileDocument']);
    expect(model.enumerations.get('Sales.OrderStatus')?.values.map((v) => v.key)).toContain('Placed');
    const customerRule = model.entities
      .get('Sales.Order')
      ?.accessRules.find((r) => r.roles.includes('Sales.Customer'));
    expect(customerRule?.xpath?.source).toBe("[System.owner = '[%CurrentUser%]']");
    expect(model.entities.get('Sales.Order')?.eventHandlers).toEqual([
      {
        moment: 'before',
        event: 'commit',
        microflow: 'Sales.BCo_Order',
        passEventObject: true,
        raiseErrorOnFalse: true,
      },
    ]);
    const placeOrder = model.microflows.get('Sales.PlaceOrder');
    expect(placeOrder?.nodes.get('checkStock')?.kind).toBe('loop');
    expect(placeOrder?.nodes.get('hasLines')?.kind).toBe('decision');
    expect(placeOrder?.nodes.get('markPlaced')).toMatchObject({ kind: 'change', commit: 'yes' });
    expect(model.scheduledEvents.get('Sales.CloseStaleOrders')?.microflow).toBe('Sales.SE_CloseStaleOrders');
    expect(model.restServices.get('Sales.OrdersApi')?.location).toBe('rest/orders/v1');
    expect(model.pages.get('Sales.OrderOverview')?.widgets[0]?.kind).toBe('dataGrid');
    expect(model.settings.sessionTimeoutMs).toBe(600000);
  });

  it('helpdesk loads without errors: JSON app file, a many-to-many association, an inheritance hierarchy and an anonymous page', async () => {
    const model = await loadModelOrThrow(join(examples, 'helpdesk'));
    expect(model.modules.get('Helpdesk')?.files).toEqual([
      'Helpdesk/api.yaml',
      'Helpdesk/domain.yaml',
      'Helpdesk/logic.yaml',
      'Helpdesk/pages.yaml',
    ]);
    expect(model.associations.get('Helpdesk.Ticket_Tag')?.multiplicity).toBe('many-to-many');
    expect(model.entities.get('Helpdesk.Ticket')?.specializations).toEqual([
      'Helpdesk.BugReport',
      'Helpdesk.Question',
      'Helpdesk.FeatureRequest',
    ]);
    expect(model.security.anonymous).toEqual({ enabled: true, userRole: 'Anonymous' });
    const anonymousRoles = model.security.userRoles.get('Anonymous')?.moduleRoles ?? [];
    expect(
      model.pages.get('Helpdesk.SubmitTicket')?.allowedRoles.some((r) => anonymousRoles.includes(r)),
    ).toBe(true);
    expect(model.settings.roundingMode).toBe('HalfEven');
  });
});

describe('loading', () => {
  it('accepts JSON module files as well as YAML', () => {
    const model = loadValid({
      'Shop.json': JSON.stringify({ module: 'Shop', entities: { Item: { attributes: { Name: 'String' } } } }),
      'app.yaml': 'app: Shop\n',
    });
    expect(model.entities.get('Shop.Item')?.attributes.get('Name')?.maxLength).toBe(200);
  });

  it('positions errors in JSON files', () => {
    const text = '{\n  "module": "Shop",\n  "entities": { "Item": { "generalization": "Nope" } }\n}\n';
    const [error] = loadErrors({ 'Shop.json': text });
    expect(error).toMatchObject({
      code: 'MODEL_UNKNOWN_ENTITY',
      file: 'Shop.json',
      ...where(text, '"Nope"'),
      path: 'Shop/entities/Item/generalization',
    });
  });

  it('reports errors of every kind from every file in one run, in file order', () => {
    const domain = `module: Shop
entities:
  Order:
    generalization: Base
    attributes: { Total: Decimal }
`;
    const flows = `module: Shop
microflows:
  F:
    parameters: { Order: Order }
    returnType: Boolean
    start: a
    nodes:
      a: { kind: callMicroflow, microflow: G, next: b }
      b: { kind: end, value: '$Order/Totl > 0' }
`;
    const errors = loadErrors({ 'Shop/domain.yaml': domain, 'Shop/flows.yaml': flows });
    expect(errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.code}`)).toEqual([
      `Shop/domain.yaml:${where(domain, 'Base').line}:${where(domain, 'Base').column} MODEL_UNKNOWN_ENTITY`,
      `Shop/flows.yaml:${where(flows, 'G,').line}:${where(flows, 'G,').column} MODEL_UNKNOWN_MICROFLOW`,
      `Shop/flows.yaml:${where(flows, 'Totl').line}:${where(flows, 'Totl').column} EXPR_UNKNOWN_MEMBER`,
    ]);
  });

  it('builds a deeply frozen model', () => {
    const model = loadValid({ 'M.yaml': 'module: M\nentities: { E: { attributes: { A: String } } }\n' });
    const entity = model.entities.get('M.E');
    expect(model.entities).toBeInstanceOf(ImmutableMap);
    expect(Object.isFrozen(entity)).toBe(true);
    expect(Object.isFrozen(entity?.attributes.get('A'))).toBe(true);
    expect(() => {
      (entity as { persistable: boolean }).persistable = false;
    }).toThrow(TypeError);
    expect('set' in model.entities).toBe(false);
  });

  it('gives the same version for the same content however it is formatted and split, and another for other content', () => {
    const one = loadValid({
      'M.yaml': 'module: M\nentities: { A: {}, B: { attributes: { X: Integer } } }\n',
    });
    const split = loadValid({
      'a.yaml': '# A first\nmodule: M\nentities:\n  A: {}\n',
      'b.yaml': 'module: M\nentities:\n  B:\n    attributes:\n      X: Integer\n',
    });
    const other = loadValid({ 'M.yaml': 'module: M\nentities: { A: {}, B: { attributes: { X: Long } } }\n' });
    expect(one.version).toMatch(/^[0-9a-f]{64}$/);
    expect(split.version).toBe(one.version);
    expect(other.version).not.toBe(one.version);
  });

  describe('from a directory', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'runplane-model-'));
      await mkdir(join(dir, 'Shop'));
      await mkdir(join(dir, '.hidden'));
      await writeFile(join(dir, 'app.yaml'), 'app: Shop\n');
      await writeFile(
        join(dir, 'Shop', 'domain.yml'),
        'module: Shop\nentities: { Item: { generalization: Nothing } }\n',
      );
      await writeFile(join(dir, '.hidden', 'ignored.yaml'), 'not: [valid\n');
      await writeFile(join(dir, 'notes.txt'), 'not a model file');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads .yaml, .yml and .json files in sub-folders and names them relative to the directory', async () => {
      const result = await loadModel(dir);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors.map((e) => [e.file, e.code])).toEqual([
        ['Shop/domain.yml', 'MODEL_UNKNOWN_ENTITY'],
      ]);
    });

    it('throws a ModelLoadError holding every error for services that must refuse to start', async () => {
      const error = await loadModelOrThrow(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).code).toBe('MODEL_INVALID');
      expect((error as ModelLoadError).errors).toHaveLength(1);
      expect((error as ModelLoadError).message).toContain('Shop/domain.yml:2:');
    });

    it('reports a directory that does not exist', async () => {
      const result = await loadModel(join(dir, 'missing'));
      expect(!result.ok && result.errors[0]?.code).toBe('MODEL_IO');
    });
  });

  it('loads an empty model (the System module only) when given no files', () => {
    const result = load({});
    expect(result.ok && result.model.entities.has('System.User')).toBe(true);
    expect(result.ok && summarizeModel(result.model).entities).toBe(0);
  });
});
