import { describe, expect, it } from 'vitest';
import { Decimal } from '@runplane/expressions';
import { load, loadErrors, loadValid, where } from '../testing/helpers.js';

const SHOP = `module: Shop
moduleRoles: [User, Admin]
enumerations:
  Status: { values: { Open: Open, Done: Done } }
entities:
  Order:
    system: { owner: true, createdDate: true }
    attributes:
      Number: AutoNumber
      Total: { type: Decimal, default: '12.50' }
      Status: { type: Enumeration, enumeration: Status, default: Open }
      Note: { type: String, length: 500 }
      Big: { type: Long, default: 9223372036854775807 }
  Line:
    attributes: { Quantity: { type: Integer, default: 1 } }
associations:
  Line_Order: { owner: Line, target: Order, deleteBehavior: { target: deleteOwners } }
`;

describe('the domain model', () => {
  it('compiles entities with defaults, lengths, ids and system members', () => {
    const model = loadValid({ 'Shop.yaml': SHOP });
    const order = model.entities.get('Shop.Order');
    expect(order?.id).toBe('Shop.Order');
    expect(order?.persistable).toBe(true);
    const total = order?.attributes.get('Total');
    expect(total?.id).toBe('Shop.Order.Total');
    expect(total?.type).toEqual({ kind: 'Decimal' });
    expect(
      total?.default.kind === 'value' && (total.default.value as Decimal).equals(new Decimal('12.5')),
    ).toBe(true);
    expect(order?.attributes.get('Note')?.maxLength).toBe(500);
    expect(order?.attributes.get('Status')?.default).toEqual({ kind: 'value', value: 'Open' });
    expect(order?.attributes.get('Number')?.type).toEqual({ kind: 'Long' });
    expect(order?.attributes.get('Big')?.default).toEqual({ kind: 'value', value: 9223372036854775807n });
    expect(order?.attributes.get('createdDate')?.system).toBe(true);
    expect(model.entities.get('Shop.Line')?.attributes.get('Quantity')?.default).toEqual({
      kind: 'value',
      value: 1n,
    });
    const line = model.associations.get('Shop.Line_Order');
    expect(line).toMatchObject({
      type: 'Reference',
      owner: 'Shop.Line',
      target: 'Shop.Order',
      multiplicity: 'one-to-many',
    });
    expect(line?.onDeleteTarget).toEqual({ action: 'delete', message: undefined });
    expect(line?.onDeleteOwner.action).toBe('keep');
  });

  it('gives String attributes a length of 200 unless told otherwise, and numbers a default of 0', () => {
    const model = loadValid({
      'M.yaml': `module: M
entities:
  E:
    attributes: { S: String, U: { type: String, length: unlimited }, I: Integer, D: Decimal, B: Boolean, T: DateTime }
`,
    });
    const e = model.entities.get('M.E');
    expect(e?.attributes.get('S')?.maxLength).toBe(200);
    expect(e?.attributes.get('U')?.maxLength).toBeNull();
    expect(e?.attributes.get('I')?.default).toEqual({ kind: 'value', value: 0n });
    expect(e?.attributes.get('B')?.default).toEqual({ kind: 'value', value: false });
    expect(e?.attributes.get('T')?.default).toEqual({ kind: 'value', value: null });
  });

  it('keeps explicit ids, and derives the ids of attributes from their entity id so a rename keeps its data', () => {
    const model = loadValid({
      'M.yaml': `module: Shop2
id: Shop
entities:
  PurchaseOrder:
    id: Shop.Order
    attributes:
      Remark: { type: String, id: Shop.Order.Note }
      Total: Decimal
`,
    });
    const entity = model.entities.get('Shop2.PurchaseOrder');
    expect(entity?.id).toBe('Shop.Order');
    expect(entity?.attributes.get('Remark')?.id).toBe('Shop.Order.Note');
    expect(entity?.attributes.get('Total')?.id).toBe('Shop.Order.Total');
    expect(model.modules.get('Shop2')?.id).toBe('Shop');
  });

  it('reports an unknown generalization with file, position and path', () => {
    const text = `module: M
entities:
  Invoice:
    generalization: System.FileDocumnt
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_UNKNOWN_ENTITY',
      file: 'M.yaml',
      ...where(text, 'System.FileDocumnt'),
      path: 'M/entities/Invoice/generalization',
    });
    expect(error?.hint).toContain('System.FileDocument');
  });

  it('refuses to specialise System entities other than User, FileDocument and Image', () => {
    const text = `module: M
entities:
  MySession: { generalization: System.Session }
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_INVALID_DOMAIN',
      ...where(text, 'System.Session'),
      path: 'M/entities/MySession/generalization',
    });
  });

  it('reports a generalization cycle', () => {
    const text = `module: M
entities:
  A: { generalization: B }
  B: { generalization: A }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => e.code)).toEqual(['MODEL_INHERITANCE_CYCLE', 'MODEL_INHERITANCE_CYCLE']);
    expect(errors[0]).toMatchObject({ ...where(text, 'B }'), path: 'M/entities/A/generalization' });
  });

  it('reports an attribute that clashes with an inherited one, ignoring case', () => {
    const text = `module: M
entities:
  Base: { attributes: { Name: String } }
  Child:
    generalization: Base
    attributes: { name: String }
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_DUPLICATE_NAME',
      ...where(text, 'name: String'),
      path: 'M/entities/Child/attributes/name',
    });
  });

  it('reports an unknown enumeration of an attribute and a default that is not one of its values', () => {
    const text = `module: M
enumerations:
  Color: { values: { Red: Red } }
entities:
  E:
    attributes:
      A: { type: Enumeration, enumeration: Colour }
      B: { type: Enumeration, enumeration: Color, default: Blue }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors[0]).toMatchObject({
      code: 'MODEL_UNKNOWN_ENUMERATION',
      ...where(text, 'Colour'),
      path: 'M/entities/E/attributes/A/enumeration',
    });
    expect(errors[1]).toMatchObject({
      code: 'MODEL_INVALID_VALUE',
      ...where(text, 'Blue'),
      path: 'M/entities/E/attributes/B/default',
    });
  });

  it('rejects a Decimal default with more than 20 integer digits and an Integer beyond 32 bits', () => {
    const text = `module: M
entities:
  E:
    attributes:
      D: { type: Decimal, default: '123456789012345678901' }
      I: { type: Integer, default: 2147483648 }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_VALUE', 'M/entities/E/attributes/D/default'],
      ['MODEL_INVALID_VALUE', 'M/entities/E/attributes/I/default'],
    ]);
    expect(errors[1]).toMatchObject(where(text, '2147483648'));
  });

  it('reports both ends of an association that do not exist', () => {
    const text = `module: M
entities: { A: {} }
associations:
  A_B: { owner: A, target: B }
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({
      code: 'MODEL_UNKNOWN_ENTITY',
      ...where(text, 'B }'),
      path: 'M/associations/A_B/target',
    });
  });

  it('compiles one-to-one and many-to-many associations and prevent messages', () => {
    const model = loadValid({
      'M.yaml': `module: M
entities: { A: {}, B: {} }
associations:
  One: { owner: A, target: B, ownership: both }
  Many: { type: ReferenceSet, owner: A, target: B, deleteBehavior: { owner: prevent, ownerMessage: Still linked. } }
`,
    });
    expect(model.associations.get('M.One')?.multiplicity).toBe('one-to-one');
    expect(model.associations.get('M.Many')?.multiplicity).toBe('many-to-many');
    expect(model.associations.get('M.Many')?.onDeleteOwner).toEqual({
      action: 'prevent',
      message: 'Still linked.',
    });
  });

  it('reports duplicate names across files of one module and across entities and enumerations', () => {
    const a = `module: M
entities:
  Thing: {}
`;
    const b = `module: M
enumerations:
  Thing: { values: { X: X } }
`;
    const [error] = loadErrors({ 'a.yaml': a, 'b.yaml': b });
    expect(error).toMatchObject({
      code: 'MODEL_DUPLICATE_NAME',
      file: 'b.yaml',
      ...where(b, 'Thing'),
      path: 'M/enumerations/Thing',
    });
    expect(error?.message).toContain('a.yaml:3:3');
  });

  it('reports a duplicate key in one mapping as a duplicate name', () => {
    const text = `module: M
entities:
  A: {}
  A: {}
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({ code: 'MODEL_DUPLICATE_NAME', file: 'M.yaml', line: 4, column: 3 });
  });

  it('reports two elements with the same stable id', () => {
    const text = `module: M
entities:
  Old: { id: M.Thing }
  Thing: {}
`;
    const [error] = loadErrors({ 'M.yaml': text });
    expect(error).toMatchObject({ code: 'MODEL_DUPLICATE_ID', path: 'M/entities/Thing/id' });
  });

  it('checks validation rules against the attribute types', () => {
    const text = `module: M
entities:
  E:
    attributes: { Name: String, Age: Integer }
    validation:
      - { rule: range, attribute: Name, min: 1, message: x }
      - { rule: required, attribute: Nmae, message: x }
      - { rule: range, attribute: Age, min: 10, max: 1, message: x }
      - { rule: regex, attribute: Name, pattern: '(', message: x }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_TYPE_MISMATCH', 'M/entities/E/validation/0/attribute'],
      ['MODEL_UNKNOWN_ATTRIBUTE', 'M/entities/E/validation/1/attribute'],
      ['MODEL_INVALID_VALUE', 'M/entities/E/validation/2/max'],
      ['MODEL_INVALID_VALUE', 'M/entities/E/validation/3/pattern'],
    ]);
    expect(errors[1]).toMatchObject(where(text, 'Nmae'));
  });

  it('compiles validation rules with typed bounds', () => {
    const model = loadValid({
      'M.yaml': `module: M
entities:
  E:
    attributes: { Age: Integer, Code: String }
    validation:
      - { rule: range, attribute: Age, min: 0, max: 150, message: Age out of range. }
      - { rule: unique, attribute: Code, message: Taken. }
`,
    });
    expect(model.entities.get('M.E')?.validationRules).toEqual([
      { rule: 'range', attribute: 'Age', min: 0n, max: 150n, message: 'Age out of range.' },
      { rule: 'unique', attribute: 'Code', message: 'Taken.' },
    ]);
  });

  it('checks event handler microflows: before handlers return Boolean and take the object', () => {
    const text = `module: M
entities:
  E:
    events:
      - { moment: before, event: commit, microflow: Check }
      - { moment: after, event: delete, microflow: Missing }
microflows:
  Check:
    parameters: { Other: String }
    start: done
    nodes: { done: { kind: end } }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_TYPE_MISMATCH', 'M/entities/E/events/0/microflow'],
      ['MODEL_INVALID_ARGUMENTS', 'M/entities/E/events/0/microflow'],
      ['MODEL_UNKNOWN_MICROFLOW', 'M/entities/E/events/1/microflow'],
    ]);
    expect(errors[2]).toMatchObject(where(text, 'Missing'));
  });

  it('checks index attributes: own, stored, and not binary', () => {
    const text = `module: M
entities:
  Base: { attributes: { Code: String } }
  E:
    generalization: Base
    attributes: { Data: Binary, Name: String }
    indexes:
      - attributes: { Code: asc }
      - attributes: { Data: asc }
      - attributes: { Nope: asc }
      - attributes: { Name: desc }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_DOMAIN', 'M/entities/E/indexes/0/attributes/Code'],
      ['MODEL_INVALID_DOMAIN', 'M/entities/E/indexes/1/attributes/Data'],
      ['MODEL_UNKNOWN_ATTRIBUTE', 'M/entities/E/indexes/2/attributes/Nope'],
    ]);
  });

  describe('access rules', () => {
    it('expand to every member, resolve roles and compile the XPath constraint', () => {
      const model = loadValid({
        'Shop.yaml': SHOP.replace(
          '  Line:',
          `    access:
      - roles: [User]
        create: true
        xpath: "[System.owner = '[%CurrentUser%]']"
        defaultMemberAccess: read
        members: { Note: readWrite, Number: read }
  Line:`,
        ),
      });
      const [rule] = model.entities.get('Shop.Order')?.accessRules ?? [];
      expect(rule?.roles).toEqual(['Shop.User']);
      expect(rule?.create).toBe(true);
      expect(rule?.delete).toBe(false);
      expect(Object.fromEntries(rule?.members ?? [])).toEqual({
        Number: 'read',
        Total: 'read',
        Status: 'read',
        Note: 'readWrite',
        Big: 'read',
        createdDate: 'read',
        'System.owner': 'read',
      });
      expect(rule?.xpath?.source).toBe("[System.owner = '[%CurrentUser%]']");
      expect(rule?.xpath?.entity).toBe('Shop.Order');
      expect(rule?.xpath?.query).toBeDefined();
    });

    it('report an unknown module role, an unknown member and write access to an AutoNumber', () => {
      const text = SHOP.replace(
        '  Line:',
        `    access:
      - roles: [Usr]
        members: { Nte: read, Number: readWrite }
  Line:`,
      );
      const errors = loadErrors({ 'Shop.yaml': text });
      expect(errors.map((e) => [e.code, e.path])).toEqual([
        ['MODEL_UNKNOWN_MODULE_ROLE', 'Shop/entities/Order/access/0/roles/0'],
        ['MODEL_UNKNOWN_MEMBER', 'Shop/entities/Order/access/0/members/Nte'],
        ['MODEL_INVALID_ACCESS_RULE', 'Shop/entities/Order/access/0/members/Number'],
      ]);
      expect(errors[0]).toMatchObject(where(text, 'Usr'));
      expect(errors[0]?.hint).toContain('Shop.User');
    });

    it('report a bad XPath path at its position inside the constraint', () => {
      const text = SHOP.replace(
        '  Line:',
        `    access:
      - roles: [User]
        xpath: "[Shop.Line_Order/Shop.Line/Quantity > 1 and Shop.Nowhere/Shop.Line/Quantity = 2]"
  Line:`,
      );
      const errors = loadErrors({ 'Shop.yaml': text });
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) {
        expect(error.code).toMatch(/^XPATH_/);
        expect(error.path).toBe('Shop/entities/Order/access/0/xpath');
      }
      const nowhere = errors.find(
        (e) => e.line === where(text, 'Shop.Nowhere').line && e.column === where(text, 'Shop.Nowhere').column,
      );
      expect(nowhere, JSON.stringify(errors)).toBeDefined();
    });

    it('refuse an XPath constraint on a non-persistable entity', () => {
      const text = `module: M
moduleRoles: [R]
entities:
  Form:
    persistable: false
    access: [{ roles: [R], xpath: '[true()]' }]
`;
      const [error] = loadErrors({ 'M.yaml': text });
      expect(error).toMatchObject({
        code: 'MODEL_INVALID_ACCESS_RULE',
        path: 'M/entities/Form/access/0/xpath',
      });
    });
  });

  it('gives the domain schema inherited attributes and system associations', () => {
    const model = loadValid({
      'M.yaml': `module: M
entities:
  Doc:
    generalization: System.FileDocument
    attributes: { Title: String }
`,
    });
    const doc = model.schema.entity('M.Doc');
    expect(doc?.attribute('Name')?.type).toEqual({ kind: 'String' });
    expect(doc?.attribute('Contents')?.filterable).toBe(false);
    expect(doc?.association('System.owner')).toMatchObject({
      owner: 'System.FileDocument',
      target: 'System.User',
    });
    expect(doc?.isA('System.FileDocument')).toBe(true);
    expect(model.entities.get('System.FileDocument')?.specializations).toEqual(['System.Image', 'M.Doc']);
  });

  it('still loads when the model has nothing but the built-in System module', () => {
    const result = load({});
    expect(result.ok).toBe(true);
  });
});
