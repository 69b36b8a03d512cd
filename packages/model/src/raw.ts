/**
 * The shape of model files as written by hand (YAML or JSON), after the JSON Schema
 * check. These types mirror `schema/runplane-model.schema.json`; the loader reads
 * nothing else.
 */

/** A reference to a module element: `Module.Name`, or `Name` for one in the same module. */
export type RawRef = string;
/** A type as written: `String`, `Integer`, `Sales.Order`, `List<Sales.Order>`, `Sales.OrderStatus`. */
export type RawTypeRef = string;
/** An expression in the Mendix expression language. */
export type RawExpression = string;
/** A variable as written: `$Order` (or `Order`). */
export type RawVariable = string;
/** A literal written as YAML: a string, a number or a boolean. */
export type RawLiteral = string | number | boolean;

/** The attribute types that need no settings, usable as a shorthand (`Qty: Integer`). */
export const PRIMITIVE_ATTRIBUTE_TYPES = [
  'String',
  'HashedString',
  'Integer',
  'Long',
  'Decimal',
  'Boolean',
  'DateTime',
  'AutoNumber',
  'Binary',
] as const;
/** An attribute type name. */
export type RawAttributeTypeName = (typeof PRIMITIVE_ATTRIBUTE_TYPES)[number] | 'Enumeration';

/** An attribute with its settings; which fields apply depends on `type` (see the schema). */
export interface RawAttributeObject {
  readonly type: RawAttributeTypeName;
  readonly id?: string;
  readonly documentation?: string;
  readonly length?: number | 'unlimited';
  readonly default?: RawLiteral;
  readonly enumeration?: RawRef;
  readonly localize?: boolean;
  readonly start?: number | string;
  readonly calculated?: RawRef;
}
/** An attribute: a type name, or an object with its settings. */
export type RawAttribute = RawAttributeTypeName | RawAttributeObject;

/** The kinds of validation rules. */
export type RawValidationRuleKind = 'required' | 'unique' | 'equals' | 'range' | 'regex' | 'maxLength';
/** A validation rule; which fields apply depends on `rule`. */
export interface RawValidationRule {
  readonly rule: RawValidationRuleKind;
  readonly attribute?: string;
  readonly association?: RawRef;
  readonly message: string;
  readonly min?: RawLiteral;
  readonly max?: RawLiteral;
  readonly value?: RawLiteral;
  readonly pattern?: string;
  readonly length?: number;
}

/** An event handler: a microflow run before or after an event on an object. */
export interface RawEventHandler {
  readonly moment: 'before' | 'after';
  readonly event: 'create' | 'commit' | 'delete' | 'rollback';
  readonly microflow: RawRef;
  readonly passEventObject?: boolean;
  readonly raiseErrorOnFalse?: boolean;
}

/** A database index: attributes in order, each ascending or descending. */
export interface RawIndex {
  readonly id?: string;
  readonly attributes: Readonly<Record<string, 'asc' | 'desc'>>;
}

/** Access to a member in an access rule. */
export type RawMemberAccess = 'none' | 'read' | 'readWrite';
/** An access rule of an entity. */
export interface RawAccessRule {
  readonly roles: readonly RawRef[];
  readonly documentation?: string;
  readonly create?: boolean;
  readonly delete?: boolean;
  readonly defaultMemberAccess?: RawMemberAccess;
  readonly members?: Readonly<Record<string, RawMemberAccess>>;
  readonly xpath?: string;
}

/** The opt-in system members of an entity. */
export interface RawSystemMembers {
  readonly owner?: boolean;
  readonly changedBy?: boolean;
  readonly createdDate?: boolean;
  readonly changedDate?: boolean;
}

/** An entity as written. */
export interface RawEntity {
  readonly id?: string;
  readonly documentation?: string;
  readonly persistable?: boolean;
  readonly generalization?: RawRef;
  readonly system?: RawSystemMembers;
  readonly attributes?: Readonly<Record<string, RawAttribute>>;
  readonly validation?: readonly RawValidationRule[];
  readonly events?: readonly RawEventHandler[];
  readonly indexes?: readonly RawIndex[];
  readonly access?: readonly RawAccessRule[];
}

/** An association as written. */
export interface RawAssociation {
  readonly id?: string;
  readonly documentation?: string;
  readonly type?: 'Reference' | 'ReferenceSet';
  readonly owner: RawRef;
  readonly target: RawRef;
  readonly ownership?: 'default' | 'both';
  readonly deleteBehavior?: {
    readonly owner?: 'keep' | 'deleteTargets' | 'prevent';
    readonly target?: 'keep' | 'deleteOwners' | 'prevent';
    readonly ownerMessage?: string;
    readonly targetMessage?: string;
  };
}

/** An enumeration: value keys and their captions. */
export interface RawEnumeration {
  readonly id?: string;
  readonly documentation?: string;
  readonly values: Readonly<Record<string, string>>;
}

/** The types a constant may have. */
export const CONSTANT_TYPES = ['String', 'Integer', 'Long', 'Decimal', 'Boolean', 'DateTime'] as const;
/** A constant as written. */
export interface RawConstant {
  readonly type: (typeof CONSTANT_TYPES)[number];
  readonly value: RawLiteral;
  readonly exposedToClient?: boolean;
  readonly documentation?: string;
}

/** Error handling of a node. */
export type RawErrorHandling = 'rollback' | 'customWithRollback' | 'customWithoutRollback' | 'continue';
/** Error handling and the first node of the error flow. */
export interface RawOnError {
  readonly handling: RawErrorHandling;
  readonly next?: string;
}

/** A member's new value in create/change: an expression, or a reference-set change. */
export type RawMemberValue =
  | RawExpression
  | { readonly set: RawExpression }
  | { readonly add: RawExpression }
  | { readonly remove: RawExpression };

/** A flow: the top level of a microflow or a loop body. */
export interface RawFlow {
  readonly start: string;
  readonly nodes: Readonly<Record<string, RawNode>>;
}

/** Every field any node kind may have; the `kind` decides which are allowed (see the schema). */
export interface RawNode {
  readonly kind: RawNodeKind;
  readonly caption?: string;
  readonly documentation?: string;
  readonly next?: string;
  readonly onError?: RawOnError;
  // end
  readonly value?: RawExpression;
  // decision, inheritance split
  readonly expression?: RawExpression;
  readonly cases?: Readonly<Record<string, string>>;
  readonly empty?: string;
  readonly default?: string;
  // loops
  readonly over?: RawVariable;
  readonly iterator?: string;
  readonly condition?: RawExpression;
  /** Loops: the body flow. Call REST: the request body expression. */
  readonly body?: RawFlow | RawExpression;
  // object activities
  readonly entity?: RawRef;
  readonly object?: RawVariable;
  readonly members?: Readonly<Record<string, RawMemberValue>>;
  readonly commit?: 'no' | 'yes' | 'yesWithoutEvents';
  readonly refreshInClient?: boolean;
  readonly events?: boolean;
  readonly output?: string;
  // retrieve
  readonly xpath?: string;
  readonly sort?: Readonly<Record<string, 'asc' | 'desc'>>;
  readonly range?: 'all' | 'first' | { readonly offset?: RawExpression; readonly amount?: RawExpression };
  readonly association?: RawRef;
  // lists
  readonly list?: RawVariable;
  readonly function?: 'count' | 'sum' | 'average' | 'minimum' | 'maximum';
  readonly attribute?: string;
  readonly operation?: string;
  readonly other?: RawVariable;
  readonly offset?: RawExpression;
  readonly amount?: RawExpression;
  // variables
  readonly type?: RawTypeRef;
  readonly variable?: RawVariable;
  // calls
  readonly microflow?: RawRef;
  readonly action?: RawRef;
  readonly parameters?: Readonly<Record<string, RawExpression>> | readonly RawExpression[];
  readonly taskQueue?: RawRef;
  // call REST
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  readonly url?: string;
  readonly urlParameters?: readonly RawExpression[];
  readonly headers?: Readonly<Record<string, RawExpression>>;
  readonly timeoutMs?: number;
  readonly auth?: { readonly username: RawExpression; readonly password: RawExpression };
  readonly response?: {
    readonly as: 'none' | 'string' | 'object' | 'list' | 'httpResponse';
    readonly entity?: RawRef;
    readonly members?: Readonly<Record<string, string>>;
  };
  // messages
  readonly level?: 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical';
  readonly logNode?: string;
  readonly template?: string;
  readonly includeLatestStackTrace?: boolean;
  readonly member?: string;
  readonly blocking?: boolean;
  // pages
  readonly page?: RawRef;
  readonly title?: string;
  readonly count?: number;
}

/** Every kind of microflow node. */
export const NODE_KINDS = [
  'end',
  'error',
  'break',
  'continue',
  'merge',
  'decision',
  'inheritanceSplit',
  'loop',
  'while',
  'create',
  'change',
  'retrieve',
  'commit',
  'delete',
  'rollback',
  'cast',
  'aggregate',
  'listOperation',
  'createList',
  'changeList',
  'createVariable',
  'changeVariable',
  'callMicroflow',
  'callRest',
  'callAction',
  'logMessage',
  'validationFeedback',
  'showMessage',
  'openPage',
  'closePage',
] as const;
/** A kind of microflow node. */
export type RawNodeKind = (typeof NODE_KINDS)[number];

/** A microflow as written. */
export interface RawMicroflow {
  readonly id?: string;
  readonly documentation?: string;
  readonly parameters?: Readonly<Record<string, RawTypeRef>>;
  readonly returnType?: RawTypeRef;
  readonly allowedRoles?: readonly RawRef[];
  readonly applyEntityAccess?: boolean;
  readonly start: string;
  readonly nodes: Readonly<Record<string, RawNode>>;
}

/** A custom TypeScript action's signature as written. */
export interface RawCustomAction {
  readonly documentation?: string;
  readonly parameters?: Readonly<Record<string, RawTypeRef>>;
  readonly returnType?: RawTypeRef;
}

/** What a button does, as written. */
export type RawButtonAction =
  | 'save'
  | 'cancel'
  | 'delete'
  | 'closePage'
  | { readonly microflow: RawRef; readonly closePage?: boolean }
  | { readonly page: RawRef };

/** A data grid column: an attribute path, or an object with a caption and width. */
export type RawColumn =
  string | { readonly attribute: string; readonly caption?: string; readonly width?: number };

/** Every field any widget kind may have; the `kind` decides which are allowed (see the schema). */
export interface RawWidget {
  readonly kind: RawWidgetKind;
  readonly name?: string;
  readonly visible?: RawExpression;
  readonly class?: string;
  // data containers
  readonly parameter?: string;
  readonly microflow?: RawRef;
  readonly association?: RawRef;
  readonly listenTo?: string;
  readonly entity?: RawRef;
  readonly xpath?: string;
  readonly sort?: Readonly<Record<string, 'asc' | 'desc'>>;
  readonly pageSize?: number;
  readonly editable?: boolean;
  readonly widgets?: readonly RawWidget[];
  readonly footer?: readonly RawWidget[];
  readonly columns?: readonly RawColumn[];
  readonly search?: readonly string[];
  readonly buttons?: readonly RawWidget[];
  readonly onClick?: RawButtonAction;
  // inputs
  readonly attribute?: string;
  readonly label?: string;
  readonly placeholder?: string;
  readonly required?: boolean;
  readonly display?: string;
  // button
  readonly caption?: string;
  readonly style?: string;
  readonly action?: RawButtonAction;
  // image viewer
  readonly width?: number;
  readonly height?: number;
  // text
  readonly template?: string;
  readonly parameters?: readonly RawExpression[];
  // layout grid
  readonly rows?: readonly {
    readonly columns: readonly { readonly width?: number; readonly widgets?: readonly RawWidget[] }[];
  }[];
}

/** Every kind of widget. */
export const WIDGET_KINDS = [
  'dataView',
  'listView',
  'dataGrid',
  'textBox',
  'textArea',
  'dropDown',
  'checkBox',
  'datePicker',
  'referenceSelector',
  'button',
  'fileUploader',
  'imageViewer',
  'container',
  'text',
  'layoutGrid',
] as const;
/** A kind of widget. */
export type RawWidgetKind = (typeof WIDGET_KINDS)[number];

/** A page as written. */
export interface RawPage {
  readonly id?: string;
  readonly documentation?: string;
  readonly title?: string;
  readonly parameters?: Readonly<Record<string, RawRef>>;
  readonly allowedRoles?: readonly RawRef[];
  readonly widgets: readonly RawWidget[];
}

/** The days of the week, Monday first. */
export const WEEKDAYS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;
/** A day of the week. */
export type RawWeekday = (typeof WEEKDAYS)[number];
/** The nth weekday of a month, e.g. the last Friday. */
export interface RawNthWeekday {
  readonly week: 'first' | 'second' | 'third' | 'fourth' | 'last';
  readonly day: RawWeekday;
}
/** A Mendix interval; which fields apply depends on `type`. */
export interface RawInterval {
  readonly type: 'Minutes' | 'Hourly' | 'Daily' | 'Weekly' | 'Monthly' | 'Yearly';
  readonly every?: number;
  readonly offset?: number;
  readonly minute?: number;
  readonly time?: string;
  readonly days?: readonly RawWeekday[];
  readonly day?: number;
  readonly weekday?: RawNthWeekday;
  readonly month?: number;
}

/** A scheduled event as written. */
export interface RawScheduledEvent {
  readonly id?: string;
  readonly documentation?: string;
  readonly microflow: RawRef;
  readonly enabled?: boolean;
  readonly interval?: RawInterval;
  readonly cron?: string;
  readonly timeZone?: 'UTC' | 'server';
  readonly overlap?: 'skip' | 'delay';
}

/** Where a REST operation takes a microflow parameter from. */
export type RawParameterSource = 'path' | 'query' | 'body' | 'header';
/** A REST operation mapped to a microflow. */
export interface RawRestOperation {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  readonly path?: string;
  readonly microflow: RawRef;
  readonly summary?: string;
  readonly parameters?: Readonly<
    Record<
      string,
      | RawParameterSource
      | { readonly source: RawParameterSource; readonly name?: string; readonly required?: boolean }
    >
  >;
}
/** The CRUD operations an entity resource may offer. */
export type RawCrudOperation = 'list' | 'get' | 'create' | 'update' | 'delete';
/** A REST resource: operations mapped to microflows, or CRUD on an entity. */
export interface RawRestResource {
  readonly documentation?: string;
  readonly operations?: Readonly<Record<string, RawRestOperation>>;
  readonly entity?: RawRef;
  readonly key?: string;
  readonly members?: readonly string[];
  readonly crud?: readonly RawCrudOperation[];
  readonly pageSize?: number;
  readonly maxPageSize?: number;
  readonly sortable?: readonly string[];
  readonly filterable?: readonly string[];
}
/** An authentication method of a published REST service. */
export type RawAuthenticationMethod = 'none' | 'basic' | 'session';
/** A published REST service as written. */
export interface RawRestService {
  readonly id?: string;
  readonly documentation?: string;
  readonly location?: string;
  readonly version?: string;
  readonly description?: string;
  readonly authentication?: readonly RawAuthenticationMethod[];
  readonly allowedRoles?: readonly RawRef[];
  readonly resources: Readonly<Record<string, RawRestResource>>;
}

/** A task queue as written. */
export interface RawTaskQueue {
  readonly documentation?: string;
  readonly threads?: number;
  readonly scope?: 'node' | 'cluster';
  readonly maxRetries?: number;
  readonly retry?: {
    readonly backoff: 'fixed' | 'exponential';
    readonly intervalMs: number;
    readonly maxIntervalMs?: number;
  };
}

/** A module file (one of possibly several files of a module). */
export interface RawModuleFile {
  readonly $schema?: string;
  readonly module: string;
  readonly id?: string;
  readonly documentation?: string;
  readonly moduleRoles?: readonly string[];
  readonly enumerations?: Readonly<Record<string, RawEnumeration>>;
  readonly constants?: Readonly<Record<string, RawConstant>>;
  readonly entities?: Readonly<Record<string, RawEntity>>;
  readonly associations?: Readonly<Record<string, RawAssociation>>;
  readonly microflows?: Readonly<Record<string, RawMicroflow>>;
  readonly customActions?: Readonly<Record<string, RawCustomAction>>;
  readonly pages?: Readonly<Record<string, RawPage>>;
  readonly scheduledEvents?: Readonly<Record<string, RawScheduledEvent>>;
  readonly restServices?: Readonly<Record<string, RawRestService>>;
  readonly taskQueues?: Readonly<Record<string, RawTaskQueue>>;
}

/** The module sections that hold named elements, in the order the loader checks them. */
export const MODULE_SECTIONS = [
  'enumerations',
  'constants',
  'entities',
  'associations',
  'microflows',
  'customActions',
  'pages',
  'scheduledEvents',
  'restServices',
  'taskQueues',
] as const;
/** A module section of named elements. */
export type ModuleSection = (typeof MODULE_SECTIONS)[number];

/** A navigation target: a page name, `{ page }` or `{ microflow }`. */
export type RawNavigationTarget = RawRef | { readonly page: RawRef } | { readonly microflow: RawRef };
/** A menu item as written. */
export interface RawMenuItem {
  readonly caption: string;
  readonly page?: RawRef;
  readonly microflow?: RawRef;
  readonly roles?: readonly string[];
  readonly items?: readonly RawMenuItem[];
}

/** The app file. */
export interface RawAppFile {
  readonly $schema?: string;
  readonly app: string;
  readonly version?: string;
  readonly documentation?: string;
  readonly security?: {
    readonly level?: 'off' | 'prototype' | 'production';
    readonly userRoles?: Readonly<
      Record<
        string,
        {
          readonly moduleRoles: readonly RawRef[];
          readonly manageableRoles?: readonly string[];
          readonly documentation?: string;
        }
      >
    >;
    readonly anonymous?: { readonly enabled?: boolean; readonly userRole?: string };
    readonly passwordPolicy?: {
      readonly minLength?: number;
      readonly requireDigit?: boolean;
      readonly requireUppercase?: boolean;
      readonly requireLowercase?: boolean;
      readonly requireSymbol?: boolean;
    };
    readonly demoUsers?: Readonly<
      Record<
        string,
        {
          readonly password: string;
          readonly roles: readonly string[];
          readonly entity?: RawRef;
          readonly attributes?: Readonly<Record<string, unknown>>;
        }
      >
    >;
  };
  readonly settings?: {
    readonly sessionTimeoutMs?: number;
    readonly roundingMode?: 'HalfAwayFromZero' | 'HalfEven';
    readonly defaultTimeZone?: string;
    readonly afterStartup?: RawRef;
    readonly beforeShutdown?: RawRef;
    readonly maxFailedLogins?: number;
    readonly blockedUserTimeoutMs?: number;
  };
  readonly navigation?: {
    readonly homePage?: RawNavigationTarget;
    readonly roleHomePages?: Readonly<Record<string, RawNavigationTarget>>;
    readonly menu?: readonly RawMenuItem[];
  };
}
