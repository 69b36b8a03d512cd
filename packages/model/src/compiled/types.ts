/**
 * The compiled app model: what the loader produces once every reference is resolved
 * and every expression type-checked. Deeply frozen; lookups by qualified name are
 * `ReadonlyMap`s. Names of module elements are qualified (`Sales.Order`); attribute
 * and parameter names are not.
 */
import type { CompiledExpression, DomainSchema, MxType, MxValue, XPathQuery } from '../languages.js';

/** An expression as compiled for the place it is used. */
export interface ModelExpression {
  /** The text as written in the model. */
  readonly source: string;
  /** Its type (after checking it against the type the place expects). */
  readonly type: MxType;
  readonly compiled: CompiledExpression;
  /** The model path of the expression, for errors at run time. */
  readonly path: string;
}

/** An XPath constraint compiled against its entity. */
export interface ModelXPath {
  readonly source: string;
  /** The entity the constraint applies to. */
  readonly entity: string;
  /** The query tree; persistence turns it into parameterised SQL. */
  readonly query: XPathQuery;
  readonly path: string;
}

/** A text with `{1}`, `{2}`, ... placeholders and an expression for each. */
export interface ModelTemplate {
  readonly text: string;
  readonly parameters: readonly ModelExpression[];
}

/** Where an element is defined: for errors and tooling. */
export interface ElementSource {
  /** Model path, e.g. `Sales/entities/Order`. */
  readonly path: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

interface Named {
  /** Qualified name, e.g. `Sales.Order`. */
  readonly name: string;
  readonly module: string;
  /** The name within the module, e.g. `Order`. */
  readonly shortName: string;
  readonly documentation: string;
  readonly source: ElementSource;
}

/** A module and the names of what it holds. */
export interface Module {
  readonly name: string;
  /** Stable id (defaults to the name); the default ids of its elements start with it. */
  readonly id: string;
  readonly documentation: string;
  /** True for the built-in System module. */
  readonly builtIn: boolean;
  /** Qualified names of its module roles. */
  readonly moduleRoles: readonly string[];
  /** The files it was read from. */
  readonly files: readonly string[];
}

/** A module role, e.g. `Sales.Customer`. */
export interface ModuleRole {
  readonly name: string;
  readonly module: string;
  readonly shortName: string;
}

/** The kinds of attributes. */
export const AttributeKind = {
  String: 'String',
  HashedString: 'HashedString',
  Integer: 'Integer',
  Long: 'Long',
  Decimal: 'Decimal',
  Boolean: 'Boolean',
  DateTime: 'DateTime',
  Enumeration: 'Enumeration',
  AutoNumber: 'AutoNumber',
  Binary: 'Binary',
} as const;
/** A kind of attribute. */
export type AttributeKind = (typeof AttributeKind)[keyof typeof AttributeKind];

/** An attribute's default: a value, or the time of creation. */
export type AttributeDefault =
  { readonly kind: 'value'; readonly value: MxValue } | { readonly kind: 'currentDateTime' };

/** An attribute, or one of the opt-in system members `createdDate` / `changedDate`. */
export interface Attribute {
  /** Stable element id: `id` in the model, or the entity id, a dot and the name. */
  readonly id: string;
  readonly name: string;
  /** Qualified name of the entity that declares it (a generalization, for inherited ones). */
  readonly entity: string;
  readonly kind: AttributeKind;
  /** As expressions see it: AutoNumber reads as Long, HashedString as String. */
  readonly type: MxType;
  /** String and HashedString: maximum length, or null for unlimited. Default 200. */
  readonly maxLength: number | null;
  readonly enumeration: string | undefined;
  /**
   * The value a new object gets: the model's default, else Mendix's (0 for numbers,
   * false for Booleans, empty otherwise). AutoNumber: its start value.
   */
  readonly default: AttributeDefault;
  /** DateTime: shown in the user's time zone (true) or as UTC. */
  readonly localize: boolean;
  /** Calculated attributes: the microflow computing the value; such attributes are not stored. */
  readonly calculatedBy: string | undefined;
  /** True for `createdDate` and `changedDate`. */
  readonly system: boolean;
  readonly documentation: string;
}

/** What happens to associated objects when an object on one side is deleted. */
export interface DeleteBehavior {
  /** keep: clear the references; delete: delete them too; prevent: refuse while any exist. */
  readonly action: 'keep' | 'delete' | 'prevent';
  /** prevent: the message of the error. */
  readonly message: string | undefined;
}

/** An association. `owner` holds the reference (the "many" side of one-to-many). */
export interface Association extends Named {
  readonly id: string;
  readonly type: 'Reference' | 'ReferenceSet';
  readonly owner: string;
  readonly target: string;
  readonly ownership: 'default' | 'both';
  readonly multiplicity: 'one-to-one' | 'one-to-many' | 'many-to-many';
  /** When an object of the owner entity is deleted: what happens to its targets. */
  readonly onDeleteOwner: DeleteBehavior;
  /** When an object of the target entity is deleted: what happens to the owners referring to it. */
  readonly onDeleteTarget: DeleteBehavior;
}

/** The opt-in system members of an entity. */
export interface SystemMembers {
  readonly owner: boolean;
  readonly changedBy: boolean;
  readonly createdDate: boolean;
  readonly changedDate: boolean;
}

/** A validation rule on an attribute (or, for `required`, an association). */
export type ValidationRule =
  | {
      readonly rule: 'required';
      readonly attribute?: string;
      readonly association?: string;
      readonly message: string;
    }
  | { readonly rule: 'unique'; readonly attribute: string; readonly message: string }
  | { readonly rule: 'equals'; readonly attribute: string; readonly value: MxValue; readonly message: string }
  | {
      readonly rule: 'range';
      readonly attribute: string;
      /** Inclusive bounds, as values of the attribute's type; undefined when open. */
      readonly min: MxValue | undefined;
      readonly max: MxValue | undefined;
      readonly message: string;
    }
  | { readonly rule: 'regex'; readonly attribute: string; readonly pattern: string; readonly message: string }
  | {
      readonly rule: 'maxLength';
      readonly attribute: string;
      readonly length: number;
      readonly message: string;
    };

/** An event handler. */
export interface EventHandler {
  readonly moment: 'before' | 'after';
  readonly event: 'create' | 'commit' | 'delete' | 'rollback';
  readonly microflow: string;
  readonly passEventObject: boolean;
  /** Before events: an error is raised when the microflow returns false. */
  readonly raiseErrorOnFalse: boolean;
}

/** A database index. */
export interface Index {
  readonly id: string;
  readonly attributes: readonly { readonly attribute: string; readonly descending: boolean }[];
}

/** Access to a member in an access rule. */
export type MemberAccess = 'none' | 'read' | 'readWrite';

/** An access rule of an entity. */
export interface AccessRule {
  /** Qualified module roles the rule is for. */
  readonly roles: readonly string[];
  readonly create: boolean;
  readonly delete: boolean;
  readonly defaultMemberAccess: MemberAccess;
  /**
   * Access per member, for every attribute (inherited ones included), system member and
   * association the entity owns: attributes by name, associations by qualified name.
   */
  readonly members: ReadonlyMap<string, MemberAccess>;
  /** The row constraint; limits read, write and delete, not create. */
  readonly xpath: ModelXPath | undefined;
}

/** An entity. */
export interface Entity extends Named {
  /** Stable element id: `id` in the model, or the module id, a dot and the name. */
  readonly id: string;
  readonly persistable: boolean;
  /** The entity it specialises. */
  readonly generalization: string | undefined;
  /** Its generalizations, nearest first. */
  readonly generalizations: readonly string[];
  /** The entities that specialise it directly. */
  readonly specializations: readonly string[];
  /** Opt-in system members declared on this entity itself. */
  readonly system: SystemMembers;
  /** Its own attributes (including createdDate/changedDate when enabled), in model order. */
  readonly attributes: ReadonlyMap<string, Attribute>;
  /** Inherited and own attributes, generalizations' first. */
  readonly allAttributes: ReadonlyMap<string, Attribute>;
  readonly validationRules: readonly ValidationRule[];
  readonly eventHandlers: readonly EventHandler[];
  readonly indexes: readonly Index[];
  readonly accessRules: readonly AccessRule[];
}

/** An enumeration. */
export interface Enumeration extends Named {
  readonly id: string;
  readonly values: readonly { readonly key: string; readonly caption: string }[];
}

/** A constant. */
export interface Constant extends Named {
  readonly type: MxType;
  readonly value: MxValue;
  readonly exposedToClient: boolean;
}

/** A parameter of a microflow, custom action or page. */
export interface Parameter {
  readonly name: string;
  readonly type: MxType;
}

/** A custom TypeScript action: its signature. The runtime registers the code under `name`. */
export interface CustomAction extends Named {
  readonly parameters: readonly Parameter[];
  readonly returnType: MxType;
}

/** A task queue. */
export interface TaskQueue extends Named {
  readonly threads: number;
  readonly scope: 'node' | 'cluster';
  readonly maxRetries: number;
  readonly retry: {
    readonly backoff: 'fixed' | 'exponential';
    readonly intervalMs: number;
    readonly maxIntervalMs: number;
  };
}

// ---------------------------------------------------------------------------------------
// Microflows

/** Error handling of a node. */
export interface ErrorHandling {
  readonly handling: 'rollback' | 'customWithRollback' | 'customWithoutRollback' | 'continue';
  /** custom...: the first node of the error flow. */
  readonly next: string | undefined;
}

interface NodeBase {
  /** The node's name, unique in the microflow. */
  readonly name: string;
  readonly caption: string;
  /** Model path, e.g. `Sales/microflows/PlaceOrder/nodes/checkStock`. */
  readonly path: string;
  /** The node that follows (undefined for end, error, break, continue, and the last nodes of a loop body). */
  readonly next: string | undefined;
  readonly errorHandling: ErrorHandling;
  /** The enclosing loop or while node, when inside a loop body. */
  readonly loop: string | undefined;
  /** The variables in scope when the node starts, with their types. */
  readonly scope: ReadonlyMap<string, MxType>;
}

/** Commit option of create and change activities. */
export type CommitOption = 'no' | 'yes' | 'yesWithoutEvents';

/** Setting a member in create/change: attributes by name, associations by qualified name. */
export interface MemberChange {
  readonly member: string;
  readonly memberKind: 'attribute' | 'association';
  /** set: replace; add/remove: reference sets only. */
  readonly operation: 'set' | 'add' | 'remove';
  readonly value: ModelExpression;
}

/** A sort item: an attribute of the entity, ascending or descending. */
export interface SortItem {
  readonly attribute: string;
  readonly descending: boolean;
}

/** A node of a microflow, by `kind`; every node has the fields of its base (name, path, next, scope, ...). */
export type MicroflowNode =
  | (NodeBase & { readonly kind: 'end'; readonly value: ModelExpression | undefined })
  | (NodeBase & { readonly kind: 'error' })
  | (NodeBase & { readonly kind: 'break' })
  | (NodeBase & { readonly kind: 'continue' })
  | (NodeBase & { readonly kind: 'merge' })
  | (NodeBase & {
      readonly kind: 'decision';
      readonly expression: ModelExpression;
      /** Target per case: 'true'/'false', or enumeration keys and 'empty'. */
      readonly cases: ReadonlyMap<string, string>;
      /** Target for every value without a case. */
      readonly default: string | undefined;
    })
  | (NodeBase & {
      readonly kind: 'inheritanceSplit';
      readonly variable: string;
      /** Target per entity; the most specific entity the object is an instance of wins. */
      readonly cases: ReadonlyMap<string, string>;
      readonly empty: string | undefined;
      readonly default: string | undefined;
    })
  | (NodeBase & {
      readonly kind: 'loop';
      readonly list: string;
      readonly iterator: string;
      readonly iteratorType: MxType;
      readonly body: Flow;
    })
  | (NodeBase & { readonly kind: 'while'; readonly condition: ModelExpression; readonly body: Flow })
  | (NodeBase & {
      readonly kind: 'create';
      readonly entity: string;
      readonly members: readonly MemberChange[];
      readonly commit: CommitOption;
      readonly refreshInClient: boolean;
      readonly output: string;
    })
  | (NodeBase & {
      readonly kind: 'change';
      readonly variable: string;
      readonly entity: string;
      readonly members: readonly MemberChange[];
      readonly commit: CommitOption;
      readonly refreshInClient: boolean;
    })
  | (NodeBase & {
      readonly kind: 'retrieve';
      readonly source: 'database';
      readonly entity: string;
      readonly xpath: ModelXPath | undefined;
      readonly sort: readonly SortItem[];
      readonly range:
        | { readonly kind: 'all' }
        | { readonly kind: 'first' }
        | {
            readonly kind: 'custom';
            readonly offset: ModelExpression | undefined;
            readonly amount: ModelExpression | undefined;
          };
      readonly output: string;
      readonly outputType: MxType;
    })
  | (NodeBase & {
      readonly kind: 'retrieve';
      readonly source: 'association';
      readonly association: string;
      readonly variable: string;
      /** The entity retrieved (the other end of the association). */
      readonly entity: string;
      readonly output: string;
      readonly outputType: MxType;
    })
  | (NodeBase & {
      readonly kind: 'commit';
      readonly variable: string;
      readonly withEvents: boolean;
      readonly refreshInClient: boolean;
    })
  | (NodeBase & { readonly kind: 'delete'; readonly variable: string; readonly refreshInClient: boolean })
  | (NodeBase & { readonly kind: 'rollback'; readonly variable: string; readonly refreshInClient: boolean })
  | (NodeBase & {
      readonly kind: 'cast';
      /** The object of the inheritance split. */
      readonly variable: string;
      readonly entity: string;
      readonly output: string;
    })
  | (NodeBase & {
      readonly kind: 'aggregate';
      readonly list: string;
      readonly function: 'count' | 'sum' | 'average' | 'minimum' | 'maximum';
      readonly attribute: string | undefined;
      readonly output: string;
      readonly outputType: MxType;
    })
  | (NodeBase & {
      readonly kind: 'listOperation';
      readonly operation:
        | 'union'
        | 'intersect'
        | 'subtract'
        | 'contains'
        | 'equals'
        | 'sort'
        | 'filter'
        | 'find'
        | 'filterByExpression'
        | 'findByExpression'
        | 'head'
        | 'tail'
        | 'range';
      readonly list: string;
      readonly other: string | undefined;
      /** filter/find: the attribute (by name) or association (qualified) compared. */
      readonly member: string | undefined;
      /** filter/find: the value; ...ByExpression: the condition (on $currentObject). */
      readonly value: ModelExpression | undefined;
      readonly sort: readonly SortItem[];
      readonly offset: ModelExpression | undefined;
      readonly amount: ModelExpression | undefined;
      readonly output: string;
      readonly outputType: MxType;
    })
  | (NodeBase & { readonly kind: 'createList'; readonly entity: string; readonly output: string })
  | (NodeBase & {
      readonly kind: 'changeList';
      readonly list: string;
      readonly operation: 'add' | 'remove' | 'clear' | 'replace';
      readonly value: ModelExpression | undefined;
    })
  | (NodeBase & {
      readonly kind: 'createVariable';
      readonly type: MxType;
      readonly value: ModelExpression | undefined;
      readonly output: string;
    })
  | (NodeBase & {
      readonly kind: 'changeVariable';
      readonly variable: string;
      readonly value: ModelExpression;
    })
  | (NodeBase & {
      readonly kind: 'callMicroflow';
      readonly microflow: string;
      /** Argument per parameter name, for every parameter. */
      readonly arguments: ReadonlyMap<string, ModelExpression>;
      readonly output: string | undefined;
      readonly taskQueue: string | undefined;
    })
  | (NodeBase & {
      readonly kind: 'callRest';
      readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
      readonly url: ModelTemplate;
      readonly headers: ReadonlyMap<string, ModelExpression>;
      readonly body: ModelExpression | undefined;
      readonly timeoutMs: number;
      readonly auth: { readonly username: ModelExpression; readonly password: ModelExpression } | undefined;
      readonly response:
        | { readonly as: 'none' | 'string' | 'httpResponse' }
        | {
            readonly as: 'object' | 'list';
            readonly entity: string;
            /** Attribute → JSON field, for every attribute mapped. */
            readonly members: ReadonlyMap<string, string>;
          };
      readonly output: string | undefined;
      readonly outputType: MxType;
    })
  | (NodeBase & {
      readonly kind: 'callAction';
      readonly action: string;
      readonly arguments: ReadonlyMap<string, ModelExpression>;
      readonly output: string | undefined;
    })
  | (NodeBase & {
      readonly kind: 'logMessage';
      readonly level: 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical';
      readonly logNode: string;
      readonly template: ModelTemplate;
      readonly includeLatestStackTrace: boolean;
    })
  | (NodeBase & {
      readonly kind: 'validationFeedback';
      readonly variable: string;
      readonly member: string;
      readonly template: ModelTemplate;
    })
  | (NodeBase & {
      readonly kind: 'showMessage';
      readonly type: 'information' | 'warning' | 'error';
      readonly template: ModelTemplate;
      readonly blocking: boolean;
    })
  | (NodeBase & {
      readonly kind: 'openPage';
      readonly page: string;
      readonly arguments: ReadonlyMap<string, ModelExpression>;
      readonly title: string | undefined;
    })
  | (NodeBase & { readonly kind: 'closePage'; readonly count: number });

/** The kinds of microflow nodes. */
export type MicroflowNodeKind = MicroflowNode['kind'];

/** A flow: the top level of a microflow, or a loop body. */
export interface Flow {
  readonly start: string;
  /** Names of the nodes directly in this flow (not in nested loop bodies). */
  readonly nodes: readonly string[];
}

/** A microflow. */
export interface Microflow extends Named {
  readonly id: string;
  readonly parameters: readonly Parameter[];
  /** Void when it returns nothing. */
  readonly returnType: MxType;
  /** Qualified module roles that may call it from the client (checked only there). */
  readonly allowedRoles: readonly string[];
  /** Apply the user's entity access (default false: full rights). */
  readonly applyEntityAccess: boolean;
  readonly flow: Flow;
  /** Every node, including those in loop bodies, by name. */
  readonly nodes: ReadonlyMap<string, MicroflowNode>;
  /** Every variable declared (parameters, outputs, iterators) with its type. */
  readonly variables: ReadonlyMap<string, MxType>;
}

// ---------------------------------------------------------------------------------------
// Pages and navigation

/** What a button or a row click does. */
export type ButtonAction =
  | { readonly kind: 'save' | 'cancel' | 'delete' | 'closePage' }
  | {
      readonly kind: 'callMicroflow';
      readonly microflow: string;
      /** Parameter name → the context object passed ('$currentObject' of a container, or a page parameter). */
      readonly arguments: ReadonlyMap<string, ContextReference>;
      readonly closePage: boolean;
    }
  | {
      readonly kind: 'openPage';
      readonly page: string;
      readonly arguments: ReadonlyMap<string, ContextReference>;
    };

/** An object in context on a page: a page parameter, or the object of an enclosing data container. */
export type ContextReference =
  | { readonly kind: 'parameter'; readonly name: string }
  | { readonly kind: 'container'; readonly widget: string };

/** Where a list widget gets its objects. */
export type ListSource =
  | { readonly kind: 'database'; readonly xpath: ModelXPath | undefined; readonly sort: readonly SortItem[] }
  | {
      readonly kind: 'microflow';
      readonly microflow: string;
      readonly arguments: ReadonlyMap<string, ContextReference>;
    }
  | { readonly kind: 'association'; readonly association: string; readonly from: ContextReference };

/** Where a data view gets its object. */
export type DataViewSource =
  | { readonly kind: 'parameter'; readonly parameter: string }
  | {
      readonly kind: 'microflow';
      readonly microflow: string;
      readonly arguments: ReadonlyMap<string, ContextReference>;
    }
  | { readonly kind: 'association'; readonly association: string; readonly from: ContextReference }
  | { readonly kind: 'listenTo'; readonly widget: string };

/** A path from an entity to an attribute, possibly over references: `Attr` or `Mod.Assoc/Mod.Entity/Attr`. */
export interface MemberPath {
  readonly text: string;
  /** The associations followed, in order. */
  readonly associations: readonly string[];
  readonly entity: string;
  readonly attribute: string;
  readonly type: MxType;
}

interface WidgetBase {
  /** A unique id within the page: the given name, or the model path. */
  readonly id: string;
  readonly name: string | undefined;
  readonly path: string;
  readonly visible: ModelExpression | undefined;
  readonly class: string | undefined;
}

/** A widget of a page, by `kind`. */
export type Widget =
  | (WidgetBase & {
      readonly kind: 'dataView';
      readonly entity: string;
      readonly source: DataViewSource;
      readonly editable: boolean;
      readonly widgets: readonly Widget[];
      readonly footer: readonly Widget[];
    })
  | (WidgetBase & {
      readonly kind: 'listView';
      readonly entity: string;
      readonly source: ListSource;
      readonly pageSize: number;
      readonly widgets: readonly Widget[];
      readonly onClick: ButtonAction | undefined;
    })
  | (WidgetBase & {
      readonly kind: 'dataGrid';
      readonly entity: string;
      readonly source: ListSource;
      readonly pageSize: number;
      readonly columns: readonly {
        readonly path: MemberPath;
        readonly caption: string;
        readonly width: number | undefined;
      }[];
      readonly search: readonly MemberPath[];
      readonly buttons: readonly Widget[];
      readonly onClick: ButtonAction | undefined;
    })
  | (WidgetBase & {
      readonly kind: 'textBox' | 'textArea' | 'dropDown' | 'checkBox' | 'datePicker';
      readonly attribute: string;
      readonly attributeType: MxType;
      readonly label: string;
      readonly editable: boolean;
      readonly required: boolean;
      readonly placeholder: string | undefined;
    })
  | (WidgetBase & {
      readonly kind: 'referenceSelector';
      readonly association: string;
      readonly targetEntity: string;
      readonly display: string;
      readonly label: string;
      readonly editable: boolean;
      readonly required: boolean;
      readonly xpath: ModelXPath | undefined;
    })
  | (WidgetBase & {
      readonly kind: 'button';
      readonly caption: string;
      readonly style: string;
      readonly action: ButtonAction;
    })
  | (WidgetBase & { readonly kind: 'fileUploader'; readonly label: string; readonly editable: boolean })
  | (WidgetBase & {
      readonly kind: 'imageViewer';
      readonly width: number | undefined;
      readonly height: number | undefined;
    })
  | (WidgetBase & { readonly kind: 'container'; readonly widgets: readonly Widget[] })
  | (WidgetBase & { readonly kind: 'text'; readonly template: ModelTemplate; readonly style: string })
  | (WidgetBase & {
      readonly kind: 'layoutGrid';
      readonly rows: readonly {
        readonly columns: readonly {
          readonly width: number | undefined;
          readonly widgets: readonly Widget[];
        }[];
      }[];
    });

/** The kinds of widgets. */
export type WidgetKind = Widget['kind'];

/** A page. */
export interface Page extends Named {
  readonly id: string;
  readonly title: string;
  /** Page parameters: objects passed when the page opens. */
  readonly parameters: readonly Parameter[];
  readonly allowedRoles: readonly string[];
  readonly widgets: readonly Widget[];
}

/** A navigation target. */
export type NavigationTarget =
  | { readonly kind: 'page'; readonly page: string }
  | { readonly kind: 'microflow'; readonly microflow: string };

/** A menu item. */
export interface MenuItem {
  readonly caption: string;
  readonly target: NavigationTarget | undefined;
  /** User roles that see it: the given ones, else those allowed to open the target. */
  readonly roles: readonly string[];
  readonly items: readonly MenuItem[];
}

/** Navigation: home pages and the menu. */
export interface Navigation {
  readonly homePage: NavigationTarget | undefined;
  /** Home page per user role, overriding {@link homePage}. */
  readonly roleHomePages: ReadonlyMap<string, NavigationTarget>;
  readonly menu: readonly MenuItem[];
}

// ---------------------------------------------------------------------------------------
// Scheduled events

/** A day of the week. */
export type Weekday = 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'Sunday';
/** The nth weekday of a month. */
export interface NthWeekday {
  readonly week: 'first' | 'second' | 'third' | 'fourth' | 'last';
  readonly day: Weekday;
}
/** A time of day. */
export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
}

/** A Mendix interval. */
export type Interval =
  | { readonly type: 'Minutes'; readonly every: number; readonly offset: number }
  | { readonly type: 'Hourly'; readonly every: number; readonly minute: number }
  | { readonly type: 'Daily'; readonly time: TimeOfDay }
  | { readonly type: 'Weekly'; readonly days: readonly Weekday[]; readonly time: TimeOfDay }
  | {
      readonly type: 'Monthly';
      readonly every: number;
      /** A day of the month (the last day when the month is shorter), or an nth weekday. */
      readonly on: { readonly day: number } | { readonly weekday: NthWeekday };
      readonly time: TimeOfDay;
    }
  | {
      readonly type: 'Yearly';
      readonly month: number;
      readonly on: { readonly day: number } | { readonly weekday: NthWeekday };
      readonly time: TimeOfDay;
    };

/** A parsed cron expression: the allowed values of each field. */
export interface CronSchedule {
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday ... 6 = Saturday. */
  readonly daysOfWeek: readonly number[];
  /** True when day-of-month was restricted (cron: then a day matches either field). */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

/** A scheduled event. */
export interface ScheduledEvent extends Named {
  readonly id: string;
  readonly microflow: string;
  readonly enabled: boolean;
  readonly schedule:
    | { readonly kind: 'interval'; readonly interval: Interval }
    | { readonly kind: 'cron'; readonly cron: CronSchedule };
  readonly timeZone: 'UTC' | 'server';
  /** skip: skip the next run while one is still going; delay: run it once the other is done. */
  readonly overlap: 'skip' | 'delay';
}

// ---------------------------------------------------------------------------------------
// Published REST

/** An HTTP method. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Where a microflow parameter of a REST operation comes from. */
export interface RestParameter {
  /** The microflow parameter. */
  readonly parameter: string;
  readonly type: MxType;
  /** request/response: the System.HttpRequest / System.HttpResponse objects. */
  readonly source: 'path' | 'query' | 'body' | 'header' | 'request' | 'response';
  /** The name in the request (path parameter, query parameter or header). */
  readonly key: string;
  readonly required: boolean;
}

/** A REST operation. */
export interface RestOperation {
  readonly name: string;
  readonly method: HttpMethod;
  /** The path template under the service location, e.g. `orders/{number}`. */
  readonly path: string;
  readonly pathParameters: readonly string[];
  readonly summary: string;
  readonly target:
    | {
        readonly kind: 'microflow';
        readonly microflow: string;
        readonly parameters: readonly RestParameter[];
      }
    | {
        readonly kind: 'entity';
        readonly action: 'list' | 'get' | 'create' | 'update' | 'delete';
        readonly entity: string;
        /** The attribute in the URL identifying an object; undefined: the object id. */
        readonly key: string | undefined;
        /** The attributes exposed. */
        readonly members: readonly string[];
        readonly pageSize: number;
        readonly maxPageSize: number;
        readonly sortable: readonly string[];
        readonly filterable: readonly string[];
      };
}

/** A published REST service. */
export interface RestService extends Named {
  readonly id: string;
  /** The path it is served under, without leading or trailing slash, e.g. `rest/orders/v1`. */
  readonly location: string;
  readonly version: string;
  readonly description: string;
  readonly authentication: readonly ('none' | 'basic' | 'session')[];
  readonly allowedRoles: readonly string[];
  readonly operations: readonly RestOperation[];
}

// ---------------------------------------------------------------------------------------
// App

/** A user role: a set of module roles. */
export interface UserRole {
  readonly name: string;
  readonly moduleRoles: readonly string[];
  readonly manageableRoles: readonly string[];
  readonly documentation: string;
}

/** A demo user, created at start-up. */
export interface DemoUser {
  readonly name: string;
  readonly password: string;
  readonly userRoles: readonly string[];
  /** The entity of the user object: System.User or a specialisation. */
  readonly entity: string;
  /**
   * Values of other attributes of the user object (e.g. the required attributes of its
   * entity), by attribute name. Name and Password are the runtime's and cannot be set here.
   */
  readonly attributes: ReadonlyMap<string, MxValue>;
}

/** Password policy. */
export interface PasswordPolicy {
  readonly minLength: number;
  readonly requireDigit: boolean;
  readonly requireUppercase: boolean;
  readonly requireLowercase: boolean;
  readonly requireSymbol: boolean;
}

/** App security. */
export interface Security {
  readonly level: 'off' | 'prototype' | 'production';
  readonly userRoles: ReadonlyMap<string, UserRole>;
  readonly anonymous: { readonly enabled: false } | { readonly enabled: true; readonly userRole: string };
  readonly passwordPolicy: PasswordPolicy;
  readonly demoUsers: readonly DemoUser[];
}

/** Runtime settings. */
export interface Settings {
  /** Default 600000 (10 minutes). */
  readonly sessionTimeoutMs: number;
  /** Default HalfAwayFromZero. */
  readonly roundingMode: 'HalfAwayFromZero' | 'HalfEven';
  /** IANA time zone; default UTC. */
  readonly defaultTimeZone: string;
  readonly afterStartup: string | undefined;
  readonly beforeShutdown: string | undefined;
  /** Default 3. */
  readonly maxFailedLogins: number;
  /** Default 300000 (5 minutes). */
  readonly blockedUserTimeoutMs: number;
}

/** The compiled app model. */
export interface CompiledModel {
  /** A hash of the model's content: changes when, and only when, the model does. */
  readonly version: string;
  readonly app: { readonly name: string; readonly version: string; readonly documentation: string };
  readonly modules: ReadonlyMap<string, Module>;
  readonly moduleRoles: ReadonlyMap<string, ModuleRole>;
  readonly entities: ReadonlyMap<string, Entity>;
  readonly associations: ReadonlyMap<string, Association>;
  readonly enumerations: ReadonlyMap<string, Enumeration>;
  readonly constants: ReadonlyMap<string, Constant>;
  readonly microflows: ReadonlyMap<string, Microflow>;
  readonly customActions: ReadonlyMap<string, CustomAction>;
  readonly pages: ReadonlyMap<string, Page>;
  readonly scheduledEvents: ReadonlyMap<string, ScheduledEvent>;
  readonly restServices: ReadonlyMap<string, RestService>;
  readonly taskQueues: ReadonlyMap<string, TaskQueue>;
  readonly security: Security;
  readonly settings: Settings;
  readonly navigation: Navigation;
  /** The domain model as the expression and XPath checkers see it. */
  readonly schema: DomainSchema;
}
