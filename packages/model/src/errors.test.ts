/**
 * One case per kind of model error: each asserts the code, the file, the line and column
 * of the offending text, and the model path — and that nothing else is reported.
 */
import { describe, expect, it } from 'vitest';
import { ModelErrorCode, ModelLoadError, formatModelError } from './errors.js';
import { load, where } from './testing/helpers.js';

const BASE = `module: Shop
moduleRoles: [User]
enumerations:
  Status: { values: { Open: Open, Done: Done } }
constants:
  Rate: { type: Decimal, value: '0.2' }
entities:
  Order:
    attributes: { Total: Decimal, Status: { type: Enumeration, enumeration: Status } }
  Line: { attributes: { Quantity: Integer } }
associations:
  Line_Order: { owner: Line, target: Order }
taskQueues:
  Queue: {}
customActions:
  Notify: { parameters: { Text: String } }
pages:
  Home: { widgets: [] }
`;

interface Case {
  readonly name: string;
  /** The second file of the model, next to BASE in Shop/base.yaml. */
  readonly file: string;
  readonly text: string;
  /** The text the error must point at (its first character), and which occurrence. */
  readonly at: string;
  readonly occurrence?: number;
  readonly path: string;
  readonly code: string;
  /** The parser may report a syntax error more than once. */
  readonly more?: boolean;
}

const flow = (nodes: string, extra = ''): string => `module: Shop
microflows:
  F:
    parameters: { Order: Order }
${extra}    start: a
    nodes:
${nodes}`;

const CASES: readonly Case[] = [
  {
    name: 'a schema violation',
    file: 'Shop/bad.yaml',
    text: 'module: Shop\nentities:\n  E: { persistable: sometimes }\n',
    at: 'sometimes',
    path: 'Shop/entities/E/persistable',
    code: ModelErrorCode.Schema,
  },
  {
    name: 'a YAML syntax error',
    file: 'Shop/bad.yaml',
    text: 'module: Shop\nentities: { E: [ }\n',
    at: '}',
    path: '',
    code: ModelErrorCode.Syntax,
    more: true,
  },
  {
    name: 'a duplicate name',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Order: {}\n',
    at: 'Order',
    path: 'Shop/entities/Order',
    code: ModelErrorCode.DuplicateName,
  },
  {
    name: 'a duplicate stable id',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Renamed: { id: Shop.Order }\n',
    at: 'Shop.Order',
    path: 'Shop/entities/Renamed/id',
    code: ModelErrorCode.DuplicateId,
  },
  {
    name: 'an unknown entity',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Special: { generalization: Ordre }\n',
    at: 'Ordre',
    path: 'Shop/entities/Special/generalization',
    code: ModelErrorCode.UnknownEntity,
  },
  {
    name: 'an unknown attribute',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Item:\n    attributes: { Name: String }\n    validation: [{ rule: required, attribute: Nmae, message: x }]\n',
    at: 'Nmae',
    path: 'Shop/entities/Item/validation/0/attribute',
    code: ModelErrorCode.UnknownAttribute,
  },
  {
    name: 'an unknown association',
    file: 'Shop/flows.yaml',
    text: flow(
      '      a: { kind: retrieve, association: Line_Ordr, object: $Order, output: L, next: b }\n      b: { kind: end }\n',
    ),
    at: 'Line_Ordr',
    path: 'Shop/microflows/F/nodes/a/association',
    code: ModelErrorCode.UnknownAssociation,
  },
  {
    name: 'an unknown enumeration',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Item: { attributes: { S: { type: Enumeration, enumeration: Stat } } }\n',
    at: 'Stat }',
    path: 'Shop/entities/Item/attributes/S/enumeration',
    code: ModelErrorCode.UnknownEnumeration,
  },
  {
    name: 'an unknown enumeration value in a decision case',
    file: 'Shop/flows.yaml',
    text: flow(
      '      a: { kind: decision, expression: $Order/Status, cases: { Open: b, Closed: b }, default: b }\n      b: { kind: end }\n',
    ),
    at: 'Closed',
    path: 'Shop/microflows/F/nodes/a/cases/Closed',
    code: ModelErrorCode.UnknownEnumerationValue,
  },
  {
    name: 'an unknown constant in an expression',
    file: 'Shop/flows.yaml',
    text: flow("      a: { kind: end, value: '$Order/Total * @Shop.Rte' }\n", '    returnType: Decimal\n'),
    at: '@Shop.Rte',
    path: 'Shop/microflows/F/nodes/a/value',
    code: 'EXPR_UNKNOWN_CONSTANT',
  },
  {
    name: 'an unknown microflow',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: callMicroflow, microflow: G, next: b }\n      b: { kind: end }\n'),
    at: 'G,',
    path: 'Shop/microflows/F/nodes/a/microflow',
    code: ModelErrorCode.UnknownMicroflow,
  },
  {
    name: 'an unknown custom action',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: callAction, action: Notfy, next: b }\n      b: { kind: end }\n'),
    at: 'Notfy',
    path: 'Shop/microflows/F/nodes/a/action',
    code: ModelErrorCode.UnknownAction,
  },
  {
    name: 'an unknown page',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: openPage, page: Hom, next: b }\n      b: { kind: end }\n'),
    at: 'Hom,',
    path: 'Shop/microflows/F/nodes/a/page',
    code: ModelErrorCode.UnknownPage,
  },
  {
    name: 'an unknown module role',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: end }\n', '    allowedRoles: [Usr]\n'),
    at: 'Usr',
    path: 'Shop/microflows/F/allowedRoles/0',
    code: ModelErrorCode.UnknownModuleRole,
  },
  {
    name: 'an unknown user role',
    file: 'app.yaml',
    text: 'app: Shop\nsecurity:\n  userRoles: { Member: { moduleRoles: [Shop.User] } }\n  anonymous: { enabled: true, userRole: Membr }\n',
    at: 'Membr',
    path: 'app/security/anonymous/userRole',
    code: ModelErrorCode.UnknownUserRole,
  },
  {
    name: 'an unknown task queue',
    file: 'Shop/flows.yaml',
    text: flow(
      "      a: { kind: callMicroflow, microflow: G, parameters: { X: '1' }, taskQueue: Que, next: b }\n      b: { kind: end }\n  G:\n    parameters: { X: Integer }\n    start: e\n    nodes: { e: { kind: end } }\n",
    ),
    at: 'Que,',
    path: 'Shop/microflows/F/nodes/a/taskQueue',
    code: ModelErrorCode.UnknownTaskQueue,
  },
  {
    name: 'an unknown variable in a node field',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: commit, object: $Ordr, next: b }\n      b: { kind: end }\n'),
    at: '$Ordr',
    path: 'Shop/microflows/F/nodes/a/object',
    code: ModelErrorCode.UnknownVariable,
  },
  {
    name: 'an unknown variable in an expression',
    file: 'Shop/flows.yaml',
    text: flow("      a: { kind: end, value: '$Ordr/Total' }\n", '    returnType: Decimal\n'),
    at: '$Ordr',
    path: 'Shop/microflows/F/nodes/a/value',
    code: 'EXPR_UNKNOWN_VARIABLE',
  },
  {
    name: 'an unknown node',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: merge, next: nowhere }\n      b: { kind: end }\n'),
    at: 'nowhere',
    path: 'Shop/microflows/F/nodes/a/next',
    code: ModelErrorCode.UnknownNode,
  },
  {
    name: 'an unknown parameter',
    file: 'Shop/flows.yaml',
    text: flow(
      '      a: { kind: callAction, action: Notify, parameters: { Text: "\'hi\'", Txt: "\'x\'" }, next: b }\n      b: { kind: end }\n',
    ),
    at: 'Txt',
    path: 'Shop/microflows/F/nodes/a/parameters/Txt',
    code: ModelErrorCode.UnknownParameter,
  },
  {
    name: 'an unknown widget',
    file: 'Shop/pages.yaml',
    text: 'module: Shop\npages:\n  P: { widgets: [{ kind: dataView, listenTo: grid }] }\n',
    at: 'grid',
    path: 'Shop/pages/P/widgets/0/listenTo',
    code: ModelErrorCode.UnknownWidget,
  },
  {
    name: 'an unknown type',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: end }\n', '    returnType: Lst<Shop.Order>\n'),
    at: 'Lst',
    path: 'Shop/microflows/F/returnType',
    code: ModelErrorCode.UnknownType,
  },
  {
    name: 'an unknown member',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Item:\n    access: [{ roles: [User], members: { Colour: read } }]\n',
    at: 'Colour',
    path: 'Shop/entities/Item/access/0/members/Colour',
    code: ModelErrorCode.UnknownMember,
  },
  {
    name: 'an expression of the wrong type',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: end, value: "\'a lot\'" }\n', '    returnType: Decimal\n'),
    at: "'a lot'",
    path: 'Shop/microflows/F/nodes/a/value',
    code: 'EXPR_TYPE_MISMATCH',
  },
  {
    name: 'an unknown function',
    file: 'Shop/flows.yaml',
    text: flow("      a: { kind: end, value: 'rnd($Order/Total)' }\n", '    returnType: Decimal\n'),
    at: 'rnd',
    path: 'Shop/microflows/F/nodes/a/value',
    code: 'EXPR_UNKNOWN_FUNCTION',
  },
  {
    name: 'a bad XPath path',
    file: 'Shop/flows.yaml',
    text: flow(
      "      a: { kind: retrieve, entity: Line, xpath: '[Shop.Line_Order/Shop.Line/Quantity > 1]', output: L, next: b }\n      b: { kind: end }\n",
    ),
    at: 'Shop.Line/Quantity',
    path: 'Shop/microflows/F/nodes/a/xpath',
    code: 'XPATH_BAD_PATH',
  },
  {
    name: 'a value that does not fit its type',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Item: { attributes: { N: { type: Integer, default: 1.5 } } }\n',
    at: '1.5',
    path: 'Shop/entities/Item/attributes/N/default',
    code: ModelErrorCode.InvalidValue,
  },
  {
    name: 'an inheritance cycle',
    file: 'Shop/more.yaml',
    text: 'module: Shop\nentities:\n  Loop: { generalization: Loop }\n',
    at: 'Loop }',
    path: 'Shop/entities/Loop/generalization',
    code: ModelErrorCode.InheritanceCycle,
  },
  {
    name: 'an unreachable node',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: end }\n      lonely: { kind: end }\n'),
    at: 'lonely',
    path: 'Shop/microflows/F/nodes/lonely',
    code: ModelErrorCode.InvalidFlow,
  },
  {
    name: 'a break outside a loop',
    file: 'Shop/flows.yaml',
    text: flow(
      "      a: { kind: decision, expression: 'true', cases: { 'true': b, 'false': c } }\n      b: { kind: end }\n      c: { kind: break }\n",
    ),
    at: 'break',
    path: 'Shop/microflows/F/nodes/c/kind',
    code: ModelErrorCode.InvalidFlow,
  },
  {
    name: 'a decision missing a case',
    file: 'Shop/flows.yaml',
    text: flow(
      '      a: { kind: decision, expression: $Order/Status, cases: { Open: b, Done: b } }\n      b: { kind: end }\n',
    ),
    at: 'cases',
    path: 'Shop/microflows/F/nodes/a/cases',
    code: ModelErrorCode.MissingCase,
  },
  {
    name: 'arguments that do not match the callee',
    file: 'Shop/flows.yaml',
    text: flow('      a: { kind: callAction, action: Notify, next: b }\n      b: { kind: end }\n'),
    at: 'a: {',
    path: 'Shop/microflows/F/nodes/a/parameters',
    code: ModelErrorCode.InvalidArguments,
    occurrence: 1,
  },
  {
    name: 'a widget out of place',
    file: 'Shop/pages.yaml',
    text: 'module: Shop\npages:\n  P: { widgets: [{ kind: textBox, attribute: Total }] }\n',
    at: 'textBox',
    path: 'Shop/pages/P/widgets/0/kind',
    code: ModelErrorCode.InvalidWidget,
  },
  {
    name: 'a REST operation that cannot be served',
    file: 'Shop/rest.yaml',
    text: "module: Shop\nrestServices:\n  Api: { resources: { things: { operations: { get: { method: GET, path: '{id}', microflow: G } } } } }\nmicroflows:\n  G: { start: e, nodes: { e: { kind: end } } }\n",
    at: "'{id}'",
    path: 'Shop/restServices/Api/resources/things/operations/get/path',
    code: ModelErrorCode.InvalidRest,
  },
  {
    name: 'a schedule that is not valid',
    file: 'Shop/schedule.yaml',
    text: "module: Shop\nscheduledEvents:\n  S: { microflow: G, cron: '61 * * * *' }\nmicroflows:\n  G: { start: e, nodes: { e: { kind: end } } }\n",
    at: '61 *',
    path: 'Shop/scheduledEvents/S/cron',
    code: ModelErrorCode.InvalidSchedule,
  },
  {
    name: 'an app file problem',
    file: 'app.yaml',
    text: 'app: Shop\nsettings:\n  defaultTimeZone: Mars/Olympus\n',
    at: 'Mars',
    path: 'app/settings/defaultTimeZone',
    code: ModelErrorCode.InvalidApp,
  },
];

describe('every kind of model error', () => {
  it.each(CASES)('$name is reported with its file, line:column and model path', (c) => {
    const result = load({ 'Shop/base.yaml': BASE, [c.file]: c.text });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    const position = where(c.text, c.at, c.occurrence ?? 1);
    if (c.more !== true) expect(errors.map(formatModelError), 'exactly one error').toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: c.code,
      file: c.file,
      line: position.line,
      column: position.column,
      path: c.path,
    });
    expect(errors[0]?.message).not.toBe('');
  });

  it('comes with a hint where there is something to suggest', () => {
    const result = load({
      'Shop/base.yaml': BASE,
      'Shop/more.yaml': 'module: Shop\nentities:\n  Special: { generalization: Ordre }\n',
    });
    expect(!result.ok && result.errors[0]?.hint).toBe("Did you mean 'Shop.Order'?");
  });

  it('formats as file:line:col  path  message, and a ModelLoadError lists them all', () => {
    const error = {
      code: 'X',
      file: 'a.yaml',
      line: 3,
      column: 7,
      path: 'M/entities/E',
      message: 'Bad.',
      hint: '',
    };
    expect(formatModelError(error)).toBe('a.yaml:3:7  M/entities/E  Bad.');
    const thrown = new ModelLoadError([error, { ...error, line: 4 }], 'models/app');
    expect(thrown.message.split('\n')).toEqual([
      'The app model at models/app has 2 error(s):',
      'a.yaml:3:7  M/entities/E  Bad.',
      'a.yaml:4:7  M/entities/E  Bad.',
    ]);
    expect(thrown.toJSON()).toMatchObject({
      kind: 'user',
      code: 'MODEL_INVALID',
      status: 'invalid_argument',
    });
  });
});
