/**
 * The JSON Schema of the model format (draft 2020-12), built in code so that shared
 * pieces are written once. `schema/runplane-model.schema.json` is this object written
 * out (`npm run schema` in the package); a test keeps the two equal.
 *
 * Only keywords that editors understand are used (no `unevaluatedProperties`, no
 * `prefixItems`); `discriminator` (an annotation for editors) lets Ajv report errors of
 * the one branch a `kind`, `type` or `rule` selects.
 */
import {
  CONSTANT_TYPES,
  NODE_KINDS,
  PRIMITIVE_ATTRIBUTE_TYPES,
  WEEKDAYS,
  WIDGET_KINDS,
  type RawNodeKind,
  type RawWidgetKind,
} from '../raw.js';

type Schema = Record<string, unknown>;

/** The `$id` of the schema. */
export const MODEL_SCHEMA_ID = 'https://runplane.dev/schema/runplane-model.schema.json';

/** Patterns the schema uses, with the words an error message says instead of the regex. */
export const PATTERNS = {
  name: {
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    says: 'a name of letters, digits and underscores, not starting with a digit',
  },
  ref: {
    pattern: '^([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*$',
    says: 'a name, or a qualified name like Module.Name',
  },
  variable: { pattern: '^\\$?[A-Za-z_][A-Za-z0-9_]*$', says: 'a variable like $Order' },
  time: { pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', says: 'a time of day as HH:mm, e.g. 02:30' },
  resource: {
    pattern: '^[A-Za-z0-9_][A-Za-z0-9_.~-]*$',
    says: 'a URL path segment (letters, digits, _ . ~ -)',
  },
  header: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", says: 'an HTTP header name' },
  version: { pattern: '^[0-9A-Za-z.+-]+$', says: 'a version like 1.0.0' },
} as const;

const str = (description: string): Schema => ({ type: 'string', description });
const bool = (description: string): Schema => ({ type: 'boolean', description });
const int = (description: string, minimum?: number, maximum?: number): Schema => ({
  type: 'integer',
  description,
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
});
const oneOfEnum = (values: readonly string[], description: string): Schema => ({
  type: 'string',
  enum: [...values],
  description,
});
const pat = (p: keyof typeof PATTERNS, description: string): Schema => ({
  type: 'string',
  pattern: PATTERNS[p].pattern,
  description,
});
const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const list = (items: Schema, description: string): Schema => ({ type: 'array', items, description });
const mapOf = (value: Schema, description: string, keys: keyof typeof PATTERNS | null = 'name'): Schema => ({
  type: 'object',
  description,
  ...(keys === null ? {} : { propertyNames: { pattern: PATTERNS[keys].pattern } }),
  additionalProperties: value,
});
function obj(
  description: string,
  properties: Record<string, Schema>,
  required: readonly string[] = [],
): Schema {
  return {
    type: 'object',
    description,
    properties,
    ...(required.length > 0 ? { required: [...required] } : {}),
    additionalProperties: false,
  };
}

const literal: Schema = {
  type: ['string', 'number', 'boolean'],
  description: 'A literal value of the type in question.',
};
const expression = (description: string): Schema => ({ type: 'string', minLength: 1, description });
const documentation = str('Free text for the people who read the model.');
const stableId = str(
  'Stable element id, used to keep data when the element is renamed. Defaults to the parent id, a dot and the name.',
);
const roleList = list(pat('ref', 'A module role.'), 'Module roles (Module.Role, or Role of this module).');
const sortMap = mapOf(
  oneOfEnum(['asc', 'desc'], 'Sort direction.'),
  'Attributes to sort on, in order.',
  null,
);
const typeRef = str(
  'A type: String, Integer, Long, Decimal, Boolean, DateTime, an entity (Module.Entity), an enumeration (Module.Enum) or List<Module.Entity>.',
);

function attributeSchemas(): Schema {
  const base = { id: stableId, documentation };
  const calculated = pat(
    'ref',
    'A microflow that computes the value on every retrieve; the attribute is not stored.',
  );
  const variants: Schema[] = [
    obj('A string.', {
      type: { const: 'String' },
      ...base,
      length: {
        description: 'Maximum length in characters (default 200), or unlimited.',
        anyOf: [{ type: 'integer', minimum: 1 }, { const: 'unlimited' }],
      },
      default: str('Default value.'),
      calculated,
    }),
    obj('A one-way hashed string (passwords).', { type: { const: 'HashedString' }, ...base }),
    obj('A 32-bit integer.', { type: { const: 'Integer' }, ...base, default: literal, calculated }),
    obj('A 64-bit integer.', { type: { const: 'Long' }, ...base, default: literal, calculated }),
    obj(
      'An exact decimal: at most 20 integer digits; more than 8 fractional digits are rounded half to even.',
      {
        type: { const: 'Decimal' },
        ...base,
        default: literal,
        calculated,
      },
    ),
    obj('A Boolean (default false).', {
      type: { const: 'Boolean' },
      ...base,
      default: bool('Default value.'),
      calculated,
    }),
    obj('A date and time with millisecond precision.', {
      type: { const: 'DateTime' },
      ...base,
      default: str("Default value: an ISO 8601 date-time, or '[%CurrentDateTime%]'."),
      localize: bool("Show in the user's time zone (true, the default) or as UTC (false)."),
      calculated,
    }),
    obj(
      'A value of an enumeration.',
      {
        type: { const: 'Enumeration' },
        ...base,
        enumeration: pat('ref', 'The enumeration.'),
        default: str('Default value: a value (key) of the enumeration.'),
        calculated,
      },
      ['enumeration'],
    ),
    obj('A number the database assigns in sequence.', {
      type: { const: 'AutoNumber' },
      ...base,
      start: { type: ['integer', 'string'], description: 'The first number (default 1).' },
    }),
    obj('Binary data.', { type: { const: 'Binary' }, ...base }),
  ].map((s) => ({ ...s, required: [...new Set(['type', ...((s.required as string[] | undefined) ?? [])])] }));
  return {
    description: 'An attribute: its type name, or an object with its type and settings.',
    anyOf: [
      oneOfEnum(PRIMITIVE_ATTRIBUTE_TYPES, 'The type of the attribute, with default settings.'),
      { type: 'object', discriminator: { propertyName: 'type' }, required: ['type'], oneOf: variants },
    ],
  };
}

function validationRuleSchemas(): Schema {
  const base = {
    attribute: pat('name', 'The attribute the rule checks.'),
    message: str('The message shown when the rule is violated.'),
  };
  const variants: Schema[] = [
    obj(
      'The attribute (or association) must have a value; an all-whitespace string counts as empty.',
      {
        rule: { const: 'required' },
        ...base,
        association: pat('ref', 'The association (owned by this entity).'),
      },
      ['rule', 'message'],
    ),
    obj('No two objects may have the same value.', { rule: { const: 'unique' }, ...base }, [
      'rule',
      'attribute',
      'message',
    ]),
    obj('The value must equal a given value.', { rule: { const: 'equals' }, ...base, value: literal }, [
      'rule',
      'attribute',
      'value',
      'message',
    ]),
    obj(
      'The value must lie in a range (bounds included).',
      { rule: { const: 'range' }, ...base, min: literal, max: literal },
      ['rule', 'attribute', 'message'],
    ),
    obj(
      'The value must match a regular expression.',
      { rule: { const: 'regex' }, ...base, pattern: str('The regular expression.') },
      ['rule', 'attribute', 'pattern', 'message'],
    ),
    obj(
      'The value may be at most this many characters long.',
      {
        rule: { const: 'maxLength' },
        ...base,
        length: int('Maximum number of characters.', 1),
      },
      ['rule', 'attribute', 'length', 'message'],
    ),
  ];
  return { type: 'object', discriminator: { propertyName: 'rule' }, required: ['rule'], oneOf: variants };
}

function entitySchema(): Schema {
  return obj('An entity of the domain model.', {
    id: stableId,
    documentation,
    persistable: bool('Stored in the database (true, the default) or kept in memory only.'),
    generalization: pat('ref', 'The entity this one specialises (single inheritance).'),
    system: obj('System members, set by the server.', {
      owner: bool('System.owner: the user who created the object.'),
      changedBy: bool('System.changedBy: the user who last changed the object.'),
      createdDate: bool('createdDate: when the object was created.'),
      changedDate: bool('changedDate: when the object was last changed.'),
    }),
    attributes: mapOf(ref('Attribute'), 'The attributes, by name.'),
    validation: list(ref('ValidationRule'), 'Validation rules, checked on commit in this order.'),
    events: list(
      obj(
        'An event handler: a microflow run before or after an event on an object.',
        {
          moment: oneOfEnum(['before', 'after'], 'Before or after the event.'),
          event: oneOfEnum(['create', 'commit', 'delete', 'rollback'], 'The event.'),
          microflow: pat('ref', 'The microflow to run.'),
          passEventObject: bool("Pass the object as the microflow's parameter (default true)."),
          raiseErrorOnFalse: bool(
            'Before events: raise an error when the microflow returns false (default true).',
          ),
        },
        ['moment', 'event', 'microflow'],
      ),
      'Event handlers.',
    ),
    indexes: list(
      obj(
        'A database index.',
        {
          id: stableId,
          attributes: mapOf(
            oneOfEnum(['asc', 'desc'], 'Order.'),
            'The attributes, in order, with their sort order.',
          ),
        },
        ['attributes'],
      ),
      'Indexes (persistable entities only).',
    ),
    access: list(ref('AccessRule'), 'Access rules; they add up per module role.'),
  });
}

function accessRuleSchema(): Schema {
  const access = oneOfEnum(['none', 'read', 'readWrite'], 'Access to a member.');
  return obj(
    'An access rule: what some module roles may do with objects of the entity.',
    {
      roles: { ...roleList, minItems: 1 },
      documentation,
      create: bool('May create objects (default false). Not limited by the XPath.'),
      delete: bool('May delete objects the XPath allows (default false).'),
      defaultMemberAccess: {
        ...access,
        description: 'Access to members not listed under members (default none).',
      },
      members: mapOf(access, 'Access per attribute or association.', null),
      xpath: str(
        "An XPath constraint limiting which objects the rule applies to, e.g. [System.owner = '[%CurrentUser%]'].",
      ),
    },
    ['roles'],
  );
}

function associationSchema(): Schema {
  return obj(
    'An association between two entities.',
    {
      id: stableId,
      documentation,
      type: oneOfEnum(
        ['Reference', 'ReferenceSet'],
        'Reference: each owner object refers to one target (one-to-many, or one-to-one with ownership both). ReferenceSet: many-to-many.',
      ),
      owner: pat('ref', 'The entity that owns the association (the one-to-many "many" side).'),
      target: pat('ref', 'The entity on the other side.'),
      ownership: oneOfEnum(['default', 'both'], 'Which side owns it: the owner (default) or both.'),
      deleteBehavior: obj('What happens to associated objects when an object is deleted.', {
        owner: oneOfEnum(
          ['keep', 'deleteTargets', 'prevent'],
          'When an owner object is deleted (default keep).',
        ),
        target: oneOfEnum(
          ['keep', 'deleteOwners', 'prevent'],
          'When a target object is deleted (default keep).',
        ),
        ownerMessage: str('The error message when deleting an owner object is prevented.'),
        targetMessage: str('The error message when deleting a target object is prevented.'),
      }),
    },
    ['owner', 'target'],
  );
}

const NODE_COMMON: Record<string, Schema> = {
  caption: str('A caption for people reading the flow.'),
  documentation,
};
const NEXT = {
  next: pat(
    'name',
    'The node that follows. Required, except for the last nodes of a loop body, where the iteration ends.',
  ),
};
const ON_ERROR = {
  onError: obj(
    'Error handling of this activity.',
    {
      handling: oneOfEnum(
        ['rollback', 'customWithRollback', 'customWithoutRollback', 'continue'],
        'rollback (default): undo and abort; custom...: follow the error flow; continue: ignore the error.',
      ),
      next: pat('name', 'The first node of the error flow (custom handling only).'),
    },
    ['handling'],
  ),
};
const variable = (d: string): Schema => pat('variable', d);
const output = (d = 'The variable that receives the result.'): Schema => pat('name', d);
const members = mapOf(
  {
    description: 'The new value: an expression, or { add | remove | set: expression } for reference sets.',
    anyOf: [
      expression('The value.'),
      obj('Set the member.', { set: expression('The value.') }, ['set']),
      obj('Add objects to a reference set.', { add: expression('The object or list to add.') }, ['add']),
      obj('Remove objects from a reference set.', { remove: expression('The object or list to remove.') }, [
        'remove',
      ]),
    ],
  },
  'Members to set: attributes by name, associations by (qualified) name.',
  null,
);
const template = str('A text with {1}, {2}, ... placeholders for the parameters.');
const templateParameters = list(expression('A parameter.'), 'Expressions for the placeholders, in order.');
const refresh = bool('Refresh the object in the client (default false).');

function nodeSchemas(): Schema {
  const kinds: Record<RawNodeKind, [string, Record<string, Schema>, string[]]> = {
    end: ['Ends the microflow, returning a value.', { value: expression('The return value.') }, []],
    error: ['Ends the flow by raising the error being handled again.', {}, []],
    break: ['Leaves the enclosing loop.', {}, []],
    continue: ['Goes on with the next iteration of the enclosing loop.', {}, []],
    merge: ['Joins flows.', { ...NEXT }, ['next']],
    decision: [
      'Chooses a flow by the value of an expression (Boolean or enumeration).',
      {
        ...ON_ERROR,
        expression: expression('The expression.'),
        cases: mapOf(
          pat('name', 'The node for this case.'),
          'The node per case: true/false, or enumeration values and empty.',
          null,
        ),
        default: pat('name', 'The node for every case not listed.'),
      },
      ['expression', 'cases'],
    ],
    inheritanceSplit: [
      'Chooses a flow by the specialisation of an object.',
      {
        ...ON_ERROR,
        object: variable('The object.'),
        cases: mapOf(
          pat('name', 'The node for this specialisation.'),
          'The node per specialisation (Module.Entity).',
          'ref',
        ),
        empty: pat('name', 'The node when the object is empty.'),
        default: pat('name', 'The node for every other case.'),
      },
      ['object', 'cases'],
    ],
    loop: [
      'Runs the body for each object of a list.',
      {
        ...NEXT,
        ...ON_ERROR,
        over: variable('The list.'),
        iterator: output('The variable holding the current object.'),
        body: ref('Flow'),
      },
      ['over', 'iterator', 'body'],
    ],
    while: [
      'Runs the body while a condition holds (checked before each iteration).',
      { ...NEXT, ...ON_ERROR, condition: expression('The condition.'), body: ref('Flow') },
      ['condition', 'body'],
    ],
    create: [
      'Creates an object.',
      {
        ...NEXT,
        ...ON_ERROR,
        entity: pat('ref', 'The entity.'),
        members,
        commit: oneOfEnum(['no', 'yes', 'yesWithoutEvents'], 'Commit the object (default no).'),
        refreshInClient: refresh,
        output: output('The variable holding the new object.'),
      },
      ['entity', 'output'],
    ],
    change: [
      'Changes members of an object.',
      {
        ...NEXT,
        ...ON_ERROR,
        object: variable('The object.'),
        members,
        commit: oneOfEnum(['no', 'yes', 'yesWithoutEvents'], 'Commit the object (default no).'),
        refreshInClient: refresh,
      },
      ['object'],
    ],
    retrieve: [
      'Retrieves objects from the database (entity, xpath, sort, range) or over an association (association, object).',
      {
        ...NEXT,
        ...ON_ERROR,
        entity: pat('ref', 'Retrieve from the database: the entity.'),
        xpath: str('Retrieve from the database: an XPath constraint.'),
        sort: sortMap,
        range: {
          description: 'all (default), first, or a custom range.',
          anyOf: [
            oneOfEnum(['all', 'first'], 'All objects, or the first one.'),
            obj('A custom range.', {
              offset: expression('How many objects to skip (default 0).'),
              amount: expression('How many objects at most (0: all).'),
            }),
          ],
        },
        association: pat('ref', 'Retrieve over an association: the association.'),
        object: variable('Retrieve over an association: the object to start from.'),
        output: output(),
      },
      ['output'],
    ],
    commit: [
      'Commits an object or a list.',
      {
        ...NEXT,
        ...ON_ERROR,
        object: variable('The object or list.'),
        events: bool('Run event handlers (default true).'),
        refreshInClient: refresh,
      },
      ['object'],
    ],
    delete: [
      'Deletes an object or a list.',
      { ...NEXT, ...ON_ERROR, object: variable('The object or list.'), refreshInClient: refresh },
      ['object'],
    ],
    rollback: [
      'Reverts an object to its committed state.',
      { ...NEXT, ...ON_ERROR, object: variable('The object.'), refreshInClient: refresh },
      ['object'],
    ],
    cast: [
      'Casts the object of the preceding inheritance split to the specialisation of the case.',
      {
        ...NEXT,
        ...ON_ERROR,
        entity: pat('ref', 'The specialisation (checked against the case).'),
        output: output(),
      },
      ['output'],
    ],
    aggregate: [
      'Aggregates a list: count, or sum/average/minimum/maximum of an attribute.',
      {
        ...NEXT,
        ...ON_ERROR,
        list: variable('The list.'),
        function: oneOfEnum(['count', 'sum', 'average', 'minimum', 'maximum'], 'The function.'),
        attribute: pat('name', 'The numeric attribute (all but count).'),
        output: output(),
      },
      ['list', 'function', 'output'],
    ],
    listOperation: [
      'An operation on a list.',
      {
        ...NEXT,
        ...ON_ERROR,
        operation: oneOfEnum(
          [
            'union',
            'intersect',
            'subtract',
            'contains',
            'equals',
            'sort',
            'filter',
            'find',
            'filterByExpression',
            'findByExpression',
            'head',
            'tail',
            'range',
          ],
          'The operation.',
        ),
        list: variable('The list.'),
        other: variable(
          'The second operand: a list or an object (union, intersect, subtract, contains, equals).',
        ),
        attribute: str('filter/find: the attribute or association to compare.'),
        value: expression('filter/find: the value to compare with.'),
        expression: expression('filterByExpression/findByExpression: a condition on $currentObject.'),
        sort: sortMap,
        offset: expression('range: how many objects to skip.'),
        amount: expression('range: how many objects to take.'),
        output: output(),
      },
      ['operation', 'list', 'output'],
    ],
    createList: [
      'Creates an empty list.',
      { ...NEXT, ...ON_ERROR, entity: pat('ref', 'The entity of the list.'), output: output() },
      ['entity', 'output'],
    ],
    changeList: [
      'Changes a list.',
      {
        ...NEXT,
        ...ON_ERROR,
        list: variable('The list.'),
        operation: oneOfEnum(['add', 'remove', 'clear', 'replace'], 'The change.'),
        value: expression('The object or list to add, remove or replace with.'),
      },
      ['list', 'operation'],
    ],
    createVariable: [
      'Creates a variable of a primitive or enumeration type.',
      {
        ...NEXT,
        ...ON_ERROR,
        type: typeRef,
        value: expression('The initial value (default empty).'),
        output: output('The variable.'),
      },
      ['type', 'output'],
    ],
    changeVariable: [
      'Changes a variable.',
      { ...NEXT, ...ON_ERROR, variable: variable('The variable.'), value: expression('The new value.') },
      ['variable', 'value'],
    ],
    callMicroflow: [
      'Calls a microflow.',
      {
        ...NEXT,
        ...ON_ERROR,
        microflow: pat('ref', 'The microflow.'),
        parameters: mapOf(expression('The argument.'), 'Arguments by parameter name.'),
        output: output('The variable receiving the return value.'),
        taskQueue: pat('ref', 'Run the call in the background on this task queue.'),
      },
      ['microflow'],
    ],
    callRest: [
      'Calls a REST service.',
      {
        ...NEXT,
        ...ON_ERROR,
        method: oneOfEnum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], 'The HTTP method.'),
        url: str('The URL, a template with {1}, {2}, ... placeholders.'),
        urlParameters: templateParameters,
        headers: mapOf(expression('The value.'), 'Request headers.', 'header'),
        body: expression('The request body (a String expression).'),
        timeoutMs: int('Timeout in milliseconds (default 300000).', 1),
        auth: obj(
          'Basic authentication.',
          { username: expression('User name.'), password: expression('Password.') },
          ['username', 'password'],
        ),
        response: obj(
          'What to do with the response.',
          {
            as: oneOfEnum(
              ['none', 'string', 'object', 'list', 'httpResponse'],
              'Ignore it, keep the text, map JSON to objects, or keep the HttpResponse.',
            ),
            entity: pat('ref', 'object/list: the entity to map JSON objects to.'),
            members: mapOf(
              str('The JSON field name.'),
              'object/list: attribute → JSON field (default: same name).',
            ),
          },
          ['as'],
        ),
        output: output(),
      },
      ['method', 'url'],
    ],
    callAction: [
      'Calls a custom TypeScript action.',
      {
        ...NEXT,
        ...ON_ERROR,
        action: pat('ref', 'The custom action.'),
        parameters: mapOf(expression('The argument.'), 'Arguments by parameter name.'),
        output: output('The variable receiving the return value.'),
      },
      ['action'],
    ],
    logMessage: [
      'Writes a log message.',
      {
        ...NEXT,
        ...ON_ERROR,
        level: oneOfEnum(['trace', 'debug', 'info', 'warning', 'error', 'critical'], 'Level (default info).'),
        logNode: str('The log node (default the module name).'),
        template,
        parameters: templateParameters,
        includeLatestStackTrace: bool('Include the stack trace of the error being handled.'),
      },
      ['template'],
    ],
    validationFeedback: [
      'Shows a validation message on a member of an object.',
      {
        ...NEXT,
        ...ON_ERROR,
        object: variable('The object.'),
        member: str('The attribute or association.'),
        template,
        parameters: templateParameters,
      },
      ['object', 'member', 'template'],
    ],
    showMessage: [
      'Shows a message to the user.',
      {
        ...NEXT,
        ...ON_ERROR,
        type: oneOfEnum(['information', 'warning', 'error'], 'Type (default information).'),
        template,
        parameters: templateParameters,
        blocking: bool('Block the page until the user closes it (default true).'),
      },
      ['template'],
    ],
    openPage: [
      'Opens a page in the client.',
      {
        ...NEXT,
        ...ON_ERROR,
        page: pat('ref', 'The page.'),
        parameters: mapOf(expression('The object.'), 'Page parameters by name.'),
        title: str('A title replacing the page title.'),
      },
      ['page'],
    ],
    closePage: [
      'Closes pages in the client.',
      { ...NEXT, ...ON_ERROR, count: int('How many pages (default 1).', 1) },
      [],
    ],
  };
  const variants = NODE_KINDS.map((kind) => {
    const [description, props, required] = kinds[kind];
    return obj(description, { kind: { const: kind }, ...NODE_COMMON, ...props }, ['kind', ...required]);
  });
  return { type: 'object', discriminator: { propertyName: 'kind' }, required: ['kind'], oneOf: variants };
}

function flowSchema(): Schema {
  return obj(
    'A flow: its first node and its nodes by name.',
    { start: pat('name', 'The first node.'), nodes: mapOf(ref('Node'), 'The nodes, by name.') },
    ['start', 'nodes'],
  );
}

function microflowSchema(): Schema {
  return obj(
    'A microflow: server-side logic as a flow of nodes.',
    {
      id: stableId,
      documentation,
      parameters: mapOf(typeRef, 'Parameters by name, with their types.'),
      returnType: typeRef,
      allowedRoles: roleList,
      applyEntityAccess: bool('Apply the access rules of the user (default false: full rights).'),
      start: pat('name', 'The first node.'),
      nodes: mapOf(ref('Node'), 'The nodes, by name.'),
    },
    ['start', 'nodes'],
  );
}

const BUTTON_ACTION: Schema = {
  description: 'save, cancel, delete, closePage, { microflow } or { page }.',
  anyOf: [
    oneOfEnum(['save', 'cancel', 'delete', 'closePage'], 'A standard action.'),
    obj(
      'Call a microflow; objects in context are passed as its parameters.',
      {
        microflow: pat('ref', 'The microflow.'),
        closePage: bool('Close the page afterwards.'),
      },
      ['microflow'],
    ),
    obj('Open a page; objects in context are passed as its parameters.', { page: pat('ref', 'The page.') }, [
      'page',
    ]),
  ],
};

function widgetSchemas(): Schema {
  const common: Record<string, Schema> = {
    name: pat('name', 'A name, to refer to this widget (listenTo).'),
    visible: expression('Shown only when this expression is true.'),
    class: str('CSS classes.'),
  };
  const widgets = list(ref('Widget'), 'Child widgets.');
  const input = {
    attribute: pat('name', 'The attribute of the object in context.'),
    label: str('The label.'),
    editable: bool('Editable (default true, when the data view is).'),
    required: bool('Show as required.'),
  };
  const listSource = {
    entity: pat('ref', 'Database source: the entity.'),
    xpath: str('Database source: an XPath constraint.'),
    sort: sortMap,
    microflow: pat('ref', 'Microflow source: a microflow returning a list.'),
    association: pat(
      'ref',
      'Association source: a reference set or reverse reference from the object in context.',
    ),
    pageSize: int('Objects per page (default 20).', 1),
    onClick: BUTTON_ACTION,
  };
  const kinds: Record<RawWidgetKind, [string, Record<string, Schema>, string[]]> = {
    dataView: [
      'Shows one object; the context for its widgets.',
      {
        parameter: pat('name', 'Source: a page parameter.'),
        microflow: pat('ref', 'Source: a microflow returning an object.'),
        association: pat('ref', 'Source: a reference from the object in context.'),
        listenTo: pat('name', 'Source: the selection of a list view or data grid on the page.'),
        editable: bool('Inputs are editable (default true).'),
        widgets,
        footer: list(ref('Widget'), 'Footer widgets (buttons).'),
      },
      [],
    ],
    listView: ['A list of objects, each shown with the widgets.', { ...listSource, widgets }, []],
    dataGrid: [
      'A grid of objects with columns, search and paging.',
      {
        ...listSource,
        columns: list(
          {
            anyOf: [
              str('An attribute, or a path Module.Assoc/Module.Entity/Attribute.'),
              obj(
                'A column.',
                {
                  attribute: str('The attribute or path.'),
                  caption: str('Header.'),
                  width: int('Width in percent.', 1, 100),
                },
                ['attribute'],
              ),
            ],
          },
          'Columns.',
        ),
        search: list(str('An attribute or path.'), 'Search fields.'),
        buttons: list(ref('Widget'), 'Buttons above the grid.'),
      },
      ['columns'],
    ],
    textBox: ['A one-line input.', { ...input, placeholder: str('Placeholder.') }, ['attribute']],
    textArea: ['A multi-line input.', { ...input, placeholder: str('Placeholder.') }, ['attribute']],
    dropDown: ['A choice among enumeration values (or true/false).', input, ['attribute']],
    checkBox: ['A Boolean input.', input, ['attribute']],
    datePicker: ['A date input.', input, ['attribute']],
    referenceSelector: [
      'Chooses the object a reference points to.',
      {
        association: pat('ref', 'The reference, owned by the object in context.'),
        display: pat('name', 'The attribute of the target shown.'),
        label: str('The label.'),
        editable: bool('Editable (default true).'),
        required: bool('Show as required.'),
        xpath: str('Limits the selectable objects.'),
      },
      ['association', 'display'],
    ],
    button: [
      'A button.',
      {
        caption: str('The caption.'),
        style: oneOfEnum(
          ['default', 'primary', 'success', 'info', 'warning', 'danger', 'link'],
          'The style.',
        ),
        action: BUTTON_ACTION,
      },
      ['caption', 'action'],
    ],
    fileUploader: [
      'Uploads the contents of the FileDocument in context.',
      { label: str('The label.'), editable: bool('Editable.') },
      [],
    ],
    imageViewer: [
      'Shows the Image in context.',
      { width: int('Width in pixels.', 1), height: int('Height in pixels.', 1) },
      [],
    ],
    container: ['Groups widgets.', { widgets }, []],
    text: [
      'A text or label.',
      {
        template,
        parameters: templateParameters,
        style: oneOfEnum(
          ['paragraph', 'label', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'],
          'How to show it (default paragraph).',
        ),
      },
      ['template'],
    ],
    layoutGrid: [
      'A grid of rows and columns (12 units wide).',
      {
        rows: list(
          obj(
            'A row.',
            {
              columns: list(
                obj('A column.', { width: int('Width in 12ths (default: share).', 1, 12), widgets }),
                'Columns.',
              ),
            },
            ['columns'],
          ),
          'Rows.',
        ),
      },
      ['rows'],
    ],
  };
  const variants = WIDGET_KINDS.map((kind) => {
    const [description, props, required] = kinds[kind];
    return obj(description, { kind: { const: kind }, ...common, ...props }, ['kind', ...required]);
  });
  return { type: 'object', discriminator: { propertyName: 'kind' }, required: ['kind'], oneOf: variants };
}

function pageSchema(): Schema {
  return obj(
    'A page.',
    {
      id: stableId,
      documentation,
      title: str('The title.'),
      parameters: mapOf(pat('ref', 'The entity.'), 'Page parameters (objects) by name.'),
      allowedRoles: roleList,
      widgets: list(ref('Widget'), 'The widgets.'),
    },
    ['widgets'],
  );
}

function scheduledEventSchema(): Schema {
  const time = pat('time', 'Time of day (HH:mm).');
  const weekday = oneOfEnum(WEEKDAYS, 'A day of the week.');
  const nth = obj(
    'The nth weekday of the month.',
    {
      week: oneOfEnum(['first', 'second', 'third', 'fourth', 'last'], 'Which one.'),
      day: weekday,
    },
    ['week', 'day'],
  );
  const variants: Schema[] = [
    obj(
      'Every N minutes.',
      {
        type: { const: 'Minutes' },
        every: int('Minutes between runs; must divide 60.', 1, 60),
        offset: int('Minutes past the hour of the first run.', 0, 59),
      },
      ['type', 'every'],
    ),
    obj(
      'Every N hours.',
      {
        type: { const: 'Hourly' },
        every: int('Hours between runs; must divide 24.', 1, 24),
        minute: int('Minute of the hour.', 0, 59),
      },
      ['type', 'every'],
    ),
    obj('Every day.', { type: { const: 'Daily' }, time }, ['type', 'time']),
    obj(
      'On some days of every week.',
      { type: { const: 'Weekly' }, days: { ...list(weekday, 'The days.'), minItems: 1 }, time },
      ['type', 'days', 'time'],
    ),
    obj(
      'Every N months, on a day of the month or an nth weekday.',
      {
        type: { const: 'Monthly' },
        every: int('Months between runs; must divide 12 (default 1).', 1, 12),
        day: int('Day of the month; a day missing from a month runs on its last day.', 1, 31),
        weekday: nth,
        time,
      },
      ['type', 'time'],
    ),
    obj(
      'Every year, on a date or an nth weekday of a month.',
      {
        type: { const: 'Yearly' },
        month: int('The month (1-12).', 1, 12),
        day: int('Day of the month.', 1, 31),
        weekday: nth,
        time,
      },
      ['type', 'month', 'time'],
    ),
  ];
  return obj(
    'A scheduled event: a microflow run on an interval or a cron schedule.',
    {
      id: stableId,
      documentation,
      microflow: pat('ref', 'The microflow (no parameters; runs with all rights).'),
      enabled: bool('Run it (default true).'),
      interval: {
        type: 'object',
        discriminator: { propertyName: 'type' },
        required: ['type'],
        oneOf: variants,
        description: 'A Mendix interval.',
      },
      cron: str('A cron expression: minute hour day-of-month month day-of-week.'),
      timeZone: oneOfEnum(['UTC', 'server'], 'Interpret times in UTC (default) or in the server time zone.'),
      overlap: oneOfEnum(
        ['skip', 'delay'],
        'When a run is still going at the next time: skip the next run (default) or delay it.',
      ),
    },
    ['microflow'],
  );
}

function restServiceSchema(): Schema {
  const source = oneOfEnum(['path', 'query', 'body', 'header'], 'Where the value comes from.');
  const operation = obj(
    'An operation mapped to a microflow.',
    {
      method: oneOfEnum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], 'The HTTP method.'),
      path: str(
        'The path under the resource, with {parameters}, e.g. {id}/lines (default: the resource itself).',
      ),
      microflow: pat('ref', 'The microflow.'),
      summary: str('A one-line summary for the OpenAPI document.'),
      parameters: mapOf(
        {
          anyOf: [
            source,
            obj(
              'A parameter source.',
              {
                source,
                name: str('The name in the request (default: the parameter name).'),
                required: bool('Required (path: always).'),
              },
              ['source'],
            ),
          ],
        },
        'Where microflow parameters come from; by default path parameters by name, primitives from the query, objects from the body.',
      ),
    },
    ['method', 'microflow'],
  );
  const resource = {
    description: 'A resource: operations mapped to microflows, or CRUD on an entity.',
    anyOf: [
      obj(
        'Operations mapped to microflows.',
        { documentation, operations: mapOf(operation, 'Operations by name.') },
        ['operations'],
      ),
      obj(
        'CRUD operations on an entity.',
        {
          documentation,
          entity: pat('ref', 'The entity.'),
          key: pat('name', 'The attribute identifying an object in the URL (default: the object id).'),
          members: list(pat('name', 'An attribute.'), 'The attributes exposed (default: all).'),
          crud: {
            ...list(
              oneOfEnum(['list', 'get', 'create', 'update', 'delete'], 'An operation.'),
              'The operations.',
            ),
            minItems: 1,
          },
          pageSize: int('list: default page size (default 20).', 1),
          maxPageSize: int('list: largest page size a client may ask for (default 100).', 1),
          sortable: list(pat('name', 'An attribute.'), 'list: attributes a client may sort on.'),
          filterable: list(pat('name', 'An attribute.'), 'list: attributes a client may filter on.'),
        },
        ['entity', 'crud'],
      ),
    ],
  };
  return obj(
    'A published REST service.',
    {
      id: stableId,
      documentation,
      location: str('The path the service is served under (default rest/<service>/v1).'),
      version: pat('version', 'The version (default 1.0.0).'),
      description: str('Description for the OpenAPI document.'),
      authentication: list(
        oneOfEnum(['none', 'basic', 'session'], 'A method.'),
        'Authentication methods, tried in order (default none).',
      ),
      allowedRoles: roleList,
      resources: mapOf(resource, 'Resources by URL segment.', 'resource'),
    },
    ['resources'],
  );
}

function moduleFileSchema(): Schema {
  return obj(
    'A module (or part of one: several files may name the same module).',
    {
      $schema: str('The JSON Schema of this file.'),
      module: pat('name', 'The module name.'),
      id: stableId,
      documentation,
      moduleRoles: list(pat('name', 'A module role.'), 'The module roles.'),
      enumerations: mapOf(
        obj(
          'An enumeration.',
          { id: stableId, documentation, values: mapOf(str('The caption.'), 'Values: key → caption.') },
          ['values'],
        ),
        'Enumerations by name.',
      ),
      constants: mapOf(
        obj(
          'A constant.',
          {
            type: oneOfEnum(CONSTANT_TYPES, 'The type.'),
            value: literal,
            exposedToClient: bool('Readable in the client (default false).'),
            documentation,
          },
          ['type', 'value'],
        ),
        'Constants by name.',
      ),
      entities: mapOf(ref('Entity'), 'Entities by name.'),
      associations: mapOf(ref('Association'), 'Associations by name.'),
      microflows: mapOf(ref('Microflow'), 'Microflows by name.'),
      customActions: mapOf(
        obj('A custom TypeScript action, registered with the runtime under its qualified name.', {
          documentation,
          parameters: mapOf(typeRef, 'Parameters by name.'),
          returnType: typeRef,
        }),
        'Custom actions by name.',
      ),
      pages: mapOf(ref('Page'), 'Pages by name.'),
      scheduledEvents: mapOf(ref('ScheduledEvent'), 'Scheduled events by name.'),
      restServices: mapOf(ref('RestService'), 'Published REST services by name.'),
      taskQueues: mapOf(
        obj('A task queue for microflow calls run in the background.', {
          documentation,
          threads: int('Threads per node (or in the cluster, see scope); default 1.', 1, 40),
          scope: oneOfEnum(['node', 'cluster'], 'Threads per node (default) or in the whole cluster.'),
          maxRetries: int('Retries of a failed task (default 0).', 0),
          retry: obj(
            'When to retry.',
            {
              backoff: oneOfEnum(['fixed', 'exponential'], 'Fixed or exponential backoff.'),
              intervalMs: int('First (or every) retry interval in ms.', 1),
              maxIntervalMs: int('Largest interval in ms (exponential).', 1),
            },
            ['backoff', 'intervalMs'],
          ),
        }),
        'Task queues by name.',
      ),
    },
    ['module'],
  );
}

function appFileSchema(): Schema {
  const target = {
    description: 'A page (Module.Page), or { page } or { microflow }.',
    anyOf: [
      pat('ref', 'A page.'),
      obj('A page.', { page: pat('ref', 'The page.') }, ['page']),
      obj('A microflow.', { microflow: pat('ref', 'The microflow.') }, ['microflow']),
    ],
  };
  return obj(
    'The app: name, security, settings and navigation. One per model.',
    {
      $schema: str('The JSON Schema of this file.'),
      app: str('The app name.'),
      version: pat('version', 'The app version.'),
      documentation,
      security: obj('Security.', {
        level: oneOfEnum(['off', 'prototype', 'production'], 'Security level (default production).'),
        userRoles: mapOf(
          obj(
            'A user role: a set of module roles.',
            {
              moduleRoles: list(pat('ref', 'A module role (Module.Role).'), 'The module roles.'),
              manageableRoles: list(
                pat('name', 'A user role.'),
                'User roles a user with this role may grant.',
              ),
              documentation,
            },
            ['moduleRoles'],
          ),
          'User roles by name.',
        ),
        anonymous: obj('Anonymous users.', {
          enabled: bool('Allow anonymous users (default false).'),
          userRole: pat('name', 'The user role anonymous users get.'),
        }),
        passwordPolicy: obj('Password policy.', {
          minLength: int('Minimum length (default 1).', 1),
          requireDigit: bool('Require a digit.'),
          requireUppercase: bool('Require an uppercase letter.'),
          requireLowercase: bool('Require a lowercase letter.'),
          requireSymbol: bool('Require a symbol.'),
        }),
        demoUsers: mapOf(
          obj(
            'A demo user, created at start-up.',
            {
              password: str('The password.'),
              roles: { ...list(pat('name', 'A user role.'), 'User roles.'), minItems: 1 },
              entity: pat('ref', 'An entity specialising System.User for this user (default System.User).'),
              attributes: {
                type: 'object',
                description:
                  'Values of attributes of the user object, e.g. required ones of its entity (not Name or Password).',
                additionalProperties: { type: ['string', 'number', 'boolean'] },
              },
            },
            ['password', 'roles'],
          ),
          'Demo users by user name.',
          null,
        ),
      }),
      settings: obj('Runtime settings.', {
        sessionTimeoutMs: int('Session timeout in ms of inactivity (default 600000).', 1000),
        roundingMode: oneOfEnum(
          ['HalfAwayFromZero', 'HalfEven'],
          'Rounding of decimals (default HalfAwayFromZero).',
        ),
        defaultTimeZone: str('IANA time zone for users without one, e.g. Europe/Amsterdam (default UTC).'),
        afterStartup: pat('ref', 'Microflow run on each node after start-up.'),
        beforeShutdown: pat('ref', 'Microflow run on each node before shut-down.'),
        maxFailedLogins: int('Consecutive failed logins after which a user is blocked (default 3).', 1),
        blockedUserTimeoutMs: int('How long a user stays blocked, in ms (default 300000).', 1000),
      }),
      navigation: obj('Navigation.', {
        homePage: target,
        roleHomePages: mapOf(target, 'Home page per user role.'),
        menu: list(ref('MenuItem'), 'The menu.'),
      }),
    },
    ['app'],
  );
}

/** Builds the JSON Schema of model files (both module files and the app file). */
export function buildModelSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: MODEL_SCHEMA_ID,
    title: 'Runplane app model file',
    description:
      'A module file (with a `module` key) or the app file (with an `app` key) of a Runplane app model.',
    type: 'object',
    if: { required: ['app'] },
    then: ref('AppFile'),
    else: ref('ModuleFile'),
    $defs: {
      AppFile: appFileSchema(),
      ModuleFile: moduleFileSchema(),
      Entity: entitySchema(),
      Attribute: attributeSchemas(),
      ValidationRule: validationRuleSchemas(),
      AccessRule: accessRuleSchema(),
      Association: associationSchema(),
      Microflow: microflowSchema(),
      Flow: flowSchema(),
      Node: nodeSchemas(),
      Page: pageSchema(),
      Widget: widgetSchemas(),
      ScheduledEvent: scheduledEventSchema(),
      RestService: restServiceSchema(),
      MenuItem: obj(
        'A menu item: a page, a microflow, or a sub-menu.',
        {
          caption: str('The caption.'),
          page: pat('ref', 'The page it opens.'),
          microflow: pat('ref', 'The microflow it calls.'),
          roles: list(
            pat('name', 'A user role.'),
            'Only for these user roles (default: all who may open the target).',
          ),
          items: list(ref('MenuItem'), 'Sub-items.'),
        },
        ['caption'],
      ),
    },
  };
}
