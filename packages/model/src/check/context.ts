import { ModelErrorCode } from '../errors.js';
import type { MxType, DomainSchema } from '../languages.js';
import type {
  RawAppFile,
  RawAssociation,
  RawConstant,
  RawCustomAction,
  RawEntity,
  RawEnumeration,
  RawMicroflow,
  RawPage,
  RawRestService,
  RawScheduledEvent,
  RawTaskQueue,
  ModuleSection,
} from '../raw.js';
import type {
  Association,
  Constant,
  CustomAction,
  Entity,
  Enumeration,
  Microflow,
  Page,
  Parameter,
  RestService,
  ScheduledEvent,
  TaskQueue,
} from '../compiled/types.js';
import type { ParsedFile } from '../source/parsed-file.js';
import { at, type Diagnostics, type Loc } from './diagnostics.js';
import { didYouMean } from './spelling.js';

/** A named element of a module as read from the files. */
export interface Elem<T> {
  readonly raw: T;
  readonly loc: Loc;
  readonly module: string;
  readonly name: string;
  /** Qualified name. */
  readonly qname: string;
}

/** A module as merged from its files. */
export interface ModuleSource {
  readonly name: string;
  id: string | undefined;
  idLoc: Loc | undefined;
  documentation: string;
  readonly builtIn: boolean;
  readonly files: ParsedFile[];
  /** The place of the `module:` key of the first file. */
  readonly loc: Loc;
  readonly roles: Map<string, Loc>;
}

/** The raw elements of each module section, by type. */
export interface RawSections {
  enumerations: RawEnumeration;
  constants: RawConstant;
  entities: RawEntity;
  associations: RawAssociation;
  microflows: RawMicroflow;
  customActions: RawCustomAction;
  pages: RawPage;
  scheduledEvents: RawScheduledEvent;
  restServices: RawRestService;
  taskQueues: RawTaskQueue;
}

/** Signatures of microflows and custom actions, known before their bodies are checked. */
export interface Signature {
  readonly parameters: readonly Parameter[];
  readonly returnType: MxType;
}

const PRIMITIVE_TYPES: Readonly<Record<string, MxType>> = {
  String: { kind: 'String' },
  Integer: { kind: 'Integer' },
  Long: { kind: 'Long' },
  Decimal: { kind: 'Decimal' },
  Boolean: { kind: 'Boolean' },
  DateTime: { kind: 'DateTime' },
  Binary: { kind: 'Binary' },
};

/** Words for the kinds of elements, in messages. */
const KIND_WORDS: Record<ModuleSection, string> = {
  enumerations: 'enumeration',
  constants: 'constant',
  entities: 'entity',
  associations: 'association',
  microflows: 'microflow',
  customActions: 'custom action',
  pages: 'page',
  scheduledEvents: 'scheduled event',
  restServices: 'REST service',
  taskQueues: 'task queue',
};

const UNKNOWN_CODES: Partial<Record<ModuleSection, ModelErrorCode>> = {
  enumerations: ModelErrorCode.UnknownEnumeration,
  constants: ModelErrorCode.UnknownConstant,
  entities: ModelErrorCode.UnknownEntity,
  associations: ModelErrorCode.UnknownAssociation,
  microflows: ModelErrorCode.UnknownMicroflow,
  customActions: ModelErrorCode.UnknownAction,
  pages: ModelErrorCode.UnknownPage,
  taskQueues: ModelErrorCode.UnknownTaskQueue,
};

/** The state shared by the checks of one load. */
export class Context {
  readonly diag: Diagnostics;
  readonly modules = new Map<string, ModuleSource>();
  app: { raw: RawAppFile; loc: Loc } | undefined;
  readonly elements: { [S in ModuleSection]: Map<string, Elem<RawSections[S]>> } = {
    enumerations: new Map(),
    constants: new Map(),
    entities: new Map(),
    associations: new Map(),
    microflows: new Map(),
    customActions: new Map(),
    pages: new Map(),
    scheduledEvents: new Map(),
    restServices: new Map(),
    taskQueues: new Map(),
  };
  readonly moduleRoles = new Map<string, Loc>();
  readonly userRoles = new Map<string, Loc>();

  // Compiled parts, filled in by the checks.
  readonly entities = new Map<string, Entity>();
  readonly associations = new Map<string, Association>();
  readonly enumerations = new Map<string, Enumeration>();
  readonly constants = new Map<string, Constant>();
  readonly microflows = new Map<string, Microflow>();
  readonly customActions = new Map<string, CustomAction>();
  readonly pages = new Map<string, Page>();
  readonly scheduledEvents = new Map<string, ScheduledEvent>();
  readonly restServices = new Map<string, RestService>();
  readonly taskQueues = new Map<string, TaskQueue>();
  readonly microflowSignatures = new Map<string, Signature>();
  readonly actionSignatures = new Map<string, Signature>();
  readonly pageParameters = new Map<string, readonly Parameter[]>();
  /** Names whose definitions are broken: references to them are not reported again. */
  readonly broken = new Set<string>();
  schema: DomainSchema | undefined;

  constructor(diag: Diagnostics) {
    this.diag = diag;
  }

  /** The domain schema; only valid once the domain model is compiled. */
  get domain(): DomainSchema {
    if (this.schema === undefined) throw new TypeError('the domain schema is used before it is built');
    return this.schema;
  }

  /** Qualifies a reference: `Name` refers to the given module, `Module.Name` stays. */
  qualify(ref: string, module: string | undefined): string {
    if (ref.includes('.') || module === undefined) return ref;
    return `${module}.${ref}`;
  }

  /**
   * Resolves a reference to an element of a section, reporting an unknown one at `loc`.
   * Returns the qualified name, or undefined.
   */
  resolve(section: ModuleSection, ref: string, module: string | undefined, loc: Loc): string | undefined {
    const qname = this.qualify(ref, module);
    if (this.elements[section].has(qname)) return qname;
    if (this.broken.has(qname)) return undefined;
    const word = KIND_WORDS[section];
    const hint =
      !ref.includes('.') && module === undefined
        ? `Qualify it: Module.${ref}.`
        : didYouMean(qname, this.elements[section].keys());
    this.diag.error(
      loc,
      UNKNOWN_CODES[section] ?? ModelErrorCode.UnknownEntity,
      `Unknown ${word} '${qname}'.`,
      hint || this.whatExists(section, qname),
    );
    return undefined;
  }

  private whatExists(section: ModuleSection, qname: string): string {
    const module = qname.split('.')[0] ?? '';
    if (!this.modules.has(module)) return `There is no module '${module}'.`;
    const names = [...this.elements[section].keys()].filter((n) => n.startsWith(`${module}.`));
    if (names.length === 0) return `Module ${module} has no ${KIND_WORDS[section]}s.`;
    return names.length <= 8 ? `Known in ${module}: ${names.join(', ')}.` : '';
  }

  /** Resolves a module role reference (`Role` of this module, or `Module.Role`). */
  resolveModuleRole(ref: string, module: string | undefined, loc: Loc): string | undefined {
    const qname = this.qualify(ref, module);
    if (this.moduleRoles.has(qname)) return qname;
    this.diag.error(
      loc,
      ModelErrorCode.UnknownModuleRole,
      `Unknown module role '${qname}'.`,
      didYouMean(qname, this.moduleRoles.keys()) ||
        `Declare it under moduleRoles of module ${qname.split('.')[0] ?? ''}.`,
    );
    return undefined;
  }

  /** Resolves a list of module roles at `loc` (a YAML list). */
  resolveModuleRoles(refs: readonly string[] | undefined, module: string | undefined, loc: Loc): string[] {
    const result: string[] = [];
    (refs ?? []).forEach((ref, i) => {
      const role = this.resolveModuleRole(ref, module, at(loc, i));
      if (role !== undefined && !result.includes(role)) result.push(role);
    });
    return result;
  }

  /** Resolves a user role name. */
  resolveUserRole(name: string, loc: Loc): string | undefined {
    if (this.userRoles.has(name)) return name;
    this.diag.error(
      loc,
      ModelErrorCode.UnknownUserRole,
      `Unknown user role '${name}'.`,
      didYouMean(name, this.userRoles.keys()) || 'Declare it under security/userRoles in the app file.',
    );
    return undefined;
  }

  /**
   * Parses a type as written in the model: a primitive, `Module.Entity`, `Module.Enum`,
   * `List<Module.Entity>` (or the `Object(...)`, `List(...)`, `Enumeration(...)` forms),
   * and `Void` / `Nothing` where `allowVoid`.
   */
  parseType(
    text: string,
    module: string | undefined,
    loc: Loc,
    options: { allowVoid?: boolean } = {},
  ): MxType | undefined {
    const trimmed = text.trim();
    const primitive = PRIMITIVE_TYPES[trimmed];
    if (primitive !== undefined) return primitive;
    if (trimmed === 'Void' || trimmed === 'Nothing') {
      if (options.allowVoid === true) return { kind: 'Void' };
      this.diag.error(
        loc,
        ModelErrorCode.UnknownType,
        `'${trimmed}' is not allowed here.`,
        'Only a return type can be Void.',
      );
      return undefined;
    }
    const list = /^List\s*[<(]\s*([^<>()\s]+)\s*[>)]$/.exec(trimmed);
    if (list !== null) {
      const entity = this.resolve('entities', list[1] ?? '', module, loc);
      return entity === undefined ? undefined : { kind: 'List', entity };
    }
    const wrapped = /^(Object|Enumeration)\s*\(\s*([^()\s]+)\s*\)$/.exec(trimmed);
    if (wrapped !== null) {
      const section = wrapped[1] === 'Object' ? 'entities' : 'enumerations';
      const name = this.resolve(section, wrapped[2] ?? '', module, loc);
      if (name === undefined) return undefined;
      return section === 'entities'
        ? { kind: 'Object', entity: name }
        : { kind: 'Enumeration', enumeration: name };
    }
    if (/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) {
      const qname = this.qualify(trimmed, module);
      if (this.elements.entities.has(qname)) return { kind: 'Object', entity: qname };
      if (this.elements.enumerations.has(qname)) return { kind: 'Enumeration', enumeration: qname };
      if (this.broken.has(qname)) return undefined;
      const candidates = [
        ...Object.keys(PRIMITIVE_TYPES),
        ...this.elements.entities.keys(),
        ...this.elements.enumerations.keys(),
      ];
      this.diag.error(
        loc,
        ModelErrorCode.UnknownType,
        `Unknown type '${trimmed}'.`,
        didYouMean(qname, [...this.elements.entities.keys(), ...this.elements.enumerations.keys()]) ||
          didYouMean(trimmed, candidates) ||
          'Use String, Integer, Long, Decimal, Boolean, DateTime, an entity, an enumeration or List<Module.Entity>.',
      );
      return undefined;
    }
    this.diag.error(
      loc,
      ModelErrorCode.UnknownType,
      `'${trimmed}' is not a type.`,
      'Use String, Integer, Long, Decimal, Boolean, DateTime, an entity, an enumeration or List<Module.Entity>.',
    );
    return undefined;
  }
}

/** Strips the `$` of a variable reference. */
export function variableName(ref: string): string {
  return ref.startsWith('$') ? ref.slice(1) : ref;
}

/** The entries of an optional record, in order. */
export function entries<T>(record: Readonly<Record<string, T>> | undefined): [string, T][] {
  return record === undefined ? [] : Object.entries(record);
}
