/**
 * The domain model: enumerations, entities and their attributes, associations; then,
 * once microflow signatures are known, validation rules, event handlers, indexes and
 * access rules.
 */
import { ModelErrorCode } from '../errors.js';
import { compileXPath, isAssignable, type MxType, type MxValue, formatType } from '../languages.js';
import type {
  AccessRule,
  Association,
  Attribute,
  AttributeDefault,
  AttributeKind,
  DeleteBehavior,
  Entity,
  EventHandler,
  Index,
  MemberAccess,
  ModelXPath,
  SystemMembers,
  ValidationRule,
} from '../compiled/types.js';
import type { RawAttributeObject, RawEntity, RawMemberAccess } from '../raw.js';
import { SPECIALISABLE_SYSTEM_ENTITIES } from '../system-module.js';
import { at, elementSource, modelPath, type Loc } from './diagnostics.js';
import { entries, type Context, type Elem } from './context.js';
import { didYouMean } from './spelling.js';
import { implicitDefault, readLiteral } from './values.js';

/** Member names every entity reserves (system members and the object id). */
const RESERVED_MEMBERS = ['id', 'createdDate', 'changedDate', 'owner', 'changedBy'];

function moduleId(ctx: Context, module: string): string {
  return ctx.modules.get(module)?.id ?? module;
}

/** Enumerations. */
export function compileEnumerations(ctx: Context): void {
  for (const elem of ctx.elements.enumerations.values()) {
    const values = entries(elem.raw.values).map(([key, caption]) => ({ key, caption }));
    if (values.length === 0) {
      ctx.diag.error(
        at(elem.loc, 'values'),
        ModelErrorCode.InvalidDomain,
        `Enumeration ${elem.qname} has no values.`,
        'Add at least one value.',
      );
    }
    for (const { key } of values) {
      if (key === 'empty') {
        ctx.diag.error(
          at(elem.loc, 'values', key),
          ModelErrorCode.InvalidDomain,
          "'empty' cannot be an enumeration value.",
          'It is the name of the empty case; rename the value.',
          'key',
        );
      }
    }
    ctx.enumerations.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: elem.raw.documentation ?? '',
      source: elementSource(elem.loc),
      id: elem.raw.id ?? `${moduleId(ctx, elem.module)}.${elem.name}`,
      values,
    });
  }
}

function attributeObject(raw: RawEntity['attributes'], name: string): RawAttributeObject {
  const value = raw?.[name] ?? 'String';
  return typeof value === 'string' ? { type: value } : value;
}

function mxTypeOf(kind: AttributeKind, enumeration: string | undefined): MxType {
  switch (kind) {
    case 'AutoNumber':
      return { kind: 'Long' };
    case 'HashedString':
      return { kind: 'String' };
    case 'Enumeration':
      return enumeration === undefined ? { kind: 'Empty' } : { kind: 'Enumeration', enumeration };
    default:
      return { kind };
  }
}

/** Entities (generalizations first) with their attributes, and associations. */
export function compileEntities(ctx: Context): void {
  const elems = ctx.elements.entities;
  // Resolve generalizations and break cycles before anything depends on them.
  const parents = new Map<string, string>();
  for (const elem of elems.values()) {
    const ref = elem.raw.generalization;
    if (ref === undefined) continue;
    const loc = at(elem.loc, 'generalization');
    const parent = ctx.resolve('entities', ref, elem.module, loc);
    if (parent === undefined) continue;
    if (
      parent.startsWith('System.') &&
      !SPECIALISABLE_SYSTEM_ENTITIES.includes(parent) &&
      elem.module !== 'System'
    ) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidDomain,
        `${parent} cannot be specialised.`,
        `Of the System entities only ${SPECIALISABLE_SYSTEM_ENTITIES.join(', ')} may be specialised.`,
      );
      continue;
    }
    parents.set(elem.qname, parent);
  }
  for (const elem of elems.values()) {
    const seen: string[] = [elem.qname];
    let current = parents.get(elem.qname);
    while (current !== undefined) {
      if (current === elem.qname) {
        ctx.diag.error(
          at(elem.loc, 'generalization'),
          ModelErrorCode.InheritanceCycle,
          `${elem.qname} specialises itself through ${[...seen, current].join(' → ')}.`,
          'Generalizations must form a tree; remove one of them.',
        );
        break;
      }
      if (seen.includes(current)) break;
      seen.push(current);
      current = parents.get(current);
    }
  }
  const cyclic = new Set<string>();
  for (const name of elems.keys()) {
    const chain = new Set<string>();
    let current: string | undefined = name;
    while (current !== undefined && !chain.has(current)) {
      chain.add(current);
      current = parents.get(current);
    }
    if (current !== undefined && current === name) cyclic.add(name);
  }
  for (const name of cyclic) parents.delete(name);

  const building = new Set<string>();
  const build = (elem: Elem<RawEntity>): Entity | undefined => {
    const done = ctx.entities.get(elem.qname);
    if (done !== undefined) return done;
    if (building.has(elem.qname)) return undefined;
    building.add(elem.qname);
    const parentName = parents.get(elem.qname);
    const parentElem = parentName === undefined ? undefined : elems.get(parentName);
    const parent = parentElem === undefined ? undefined : build(parentElem);
    const entity = compileEntity(ctx, elem, parent);
    ctx.entities.set(elem.qname, entity);
    return entity;
  };
  for (const elem of elems.values()) build(elem);

  // Specializations, now that every entity exists.
  const children = new Map<string, string[]>();
  for (const entity of ctx.entities.values()) {
    if (entity.generalization !== undefined) {
      children.set(entity.generalization, [...(children.get(entity.generalization) ?? []), entity.name]);
    }
  }
  for (const entity of ctx.entities.values()) {
    (entity as { specializations: readonly string[] }).specializations = children.get(entity.name) ?? [];
  }
  compileAssociations(ctx);
}

function compileEntity(ctx: Context, elem: Elem<RawEntity>, parent: Entity | undefined): Entity {
  const raw = elem.raw;
  const id = raw.id ?? `${moduleId(ctx, elem.module)}.${elem.name}`;
  const persistable = raw.persistable ?? true;
  if (parent !== undefined && persistable && !parent.persistable) {
    ctx.diag.error(
      at(elem.loc, 'generalization'),
      ModelErrorCode.InvalidDomain,
      `Persistable entity ${elem.qname} cannot specialise the non-persistable ${parent.name}.`,
      'Make it non-persistable (persistable: false), or choose another generalization.',
    );
  }
  const system: SystemMembers = {
    owner: raw.system?.owner ?? false,
    changedBy: raw.system?.changedBy ?? false,
    createdDate: raw.system?.createdDate ?? false,
    changedDate: raw.system?.changedDate ?? false,
  };
  if (!persistable && raw.system !== undefined && Object.values(system).some(Boolean)) {
    ctx.diag.error(
      at(elem.loc, 'system'),
      ModelErrorCode.InvalidDomain,
      'Non-persistable entities have no system members.',
      'Remove system, or make the entity persistable.',
    );
  }
  const inherited = parent?.allAttributes ?? new Map<string, Attribute>();
  const inheritedSystem = new Set<string>();
  for (const ancestor of [parent?.name, ...(parent?.generalizations ?? [])]) {
    const a = ancestor === undefined ? undefined : ctx.entities.get(ancestor);
    if (a === undefined) continue;
    for (const [member, on] of Object.entries(a.system)) if (on) inheritedSystem.add(member);
  }
  const attributes = new Map<string, Attribute>();
  const lowerNames = new Map<string, string>([...inherited.keys()].map((n) => [n.toLowerCase(), n]));
  for (const name of Object.keys(raw.attributes ?? {})) {
    const loc = at(elem.loc, 'attributes', name);
    const clash = lowerNames.get(name.toLowerCase());
    if (
      RESERVED_MEMBERS.includes(name) ||
      RESERVED_MEMBERS.some((r) => r.toLowerCase() === name.toLowerCase())
    ) {
      ctx.diag.error(
        loc,
        ModelErrorCode.DuplicateName,
        `'${name}' is reserved for a system member.`,
        'Rename the attribute.',
        'key',
      );
      continue;
    }
    if (clash !== undefined) {
      const where = inherited.has(clash)
        ? `an attribute inherited from ${inherited.get(clash)?.entity ?? ''}`
        : `attribute '${clash}'`;
      ctx.diag.error(
        loc,
        ModelErrorCode.DuplicateName,
        `Attribute '${name}' clashes with ${where}.`,
        'Attribute names are unique per entity and its generalizations, ignoring case (they become column names).',
        'key',
      );
      continue;
    }
    lowerNames.set(name.toLowerCase(), name);
    const attribute = compileAttribute(
      ctx,
      elem,
      id,
      name,
      attributeObject(raw.attributes, name),
      persistable,
      loc,
    );
    if (attribute !== undefined) attributes.set(name, attribute);
  }
  for (const member of ['createdDate', 'changedDate'] as const) {
    if (system[member] && !inheritedSystem.has(member)) {
      attributes.set(member, {
        id: `${id}.${member}`,
        name: member,
        entity: elem.qname,
        kind: 'DateTime',
        type: { kind: 'DateTime' },
        maxLength: null,
        enumeration: undefined,
        default: { kind: 'value', value: null },
        localize: true,
        calculatedBy: undefined,
        system: true,
        documentation:
          member === 'createdDate' ? 'When the object was created.' : 'When the object was last changed.',
      });
    }
  }
  return {
    name: elem.qname,
    module: elem.module,
    shortName: elem.name,
    documentation: raw.documentation ?? '',
    source: elementSource(elem.loc),
    id,
    persistable,
    generalization: parent?.name,
    generalizations: parent === undefined ? [] : [parent.name, ...parent.generalizations],
    specializations: [],
    system,
    attributes,
    allAttributes: new Map([...inherited, ...attributes]),
    validationRules: [],
    eventHandlers: [],
    indexes: [],
    accessRules: [],
  };
}

function compileAttribute(
  ctx: Context,
  elem: Elem<RawEntity>,
  entityId: string,
  name: string,
  raw: RawAttributeObject,
  persistable: boolean,
  loc: Loc,
): Attribute | undefined {
  const kind = raw.type;
  let enumeration: string | undefined;
  if (kind === 'Enumeration' && raw.enumeration !== undefined) {
    enumeration = ctx.resolve('enumerations', raw.enumeration, elem.module, at(loc, 'enumeration'));
  }
  if (kind === 'AutoNumber' && !persistable) {
    ctx.diag.error(
      at(loc, 'type'),
      ModelErrorCode.InvalidDomain,
      'AutoNumber attributes need a persistable entity.',
      'The database assigns the numbers; use Long instead.',
    );
  }
  let maxLength: number | null = null;
  if (kind === 'String') maxLength = raw.length === 'unlimited' ? null : (raw.length ?? 200);
  let calculatedBy: string | undefined;
  if (raw.calculated !== undefined) {
    calculatedBy = ctx.resolve('microflows', raw.calculated, elem.module, at(loc, 'calculated'));
    if (raw.default !== undefined) {
      ctx.diag.error(
        at(loc, 'default'),
        ModelErrorCode.InvalidDomain,
        'A calculated attribute has no default.',
        'Remove the default or the calculation.',
      );
    }
  }
  let defaultValue: AttributeDefault = { kind: 'value', value: implicitDefault(kind) };
  const literal = kind === 'AutoNumber' ? raw.start : raw.default;
  const literalKey = kind === 'AutoNumber' ? 'start' : 'default';
  if (literal !== undefined) {
    const values =
      enumeration === undefined ? undefined : ctx.enumerations.get(enumeration)?.values.map((v) => v.key);
    const read = readLiteral(kind, literal, loc.file.scalarSource([...loc.path, literalKey]), values);
    if (!read.ok) {
      ctx.diag.error(at(loc, literalKey), ModelErrorCode.InvalidValue, read.message, read.hint);
    } else if (read.currentDateTime === true) {
      defaultValue = { kind: 'currentDateTime' };
    } else {
      if (
        kind === 'String' &&
        maxLength !== null &&
        typeof read.value === 'string' &&
        read.value.length > maxLength
      ) {
        ctx.diag.error(
          at(loc, 'default'),
          ModelErrorCode.InvalidValue,
          `The default is longer than the attribute's length of ${maxLength}.`,
          'Shorten it or raise length.',
        );
      }
      defaultValue = { kind: 'value', value: read.value };
    }
  }
  return {
    id: raw.id ?? `${entityId}.${name}`,
    name,
    entity: elem.qname,
    kind,
    type: mxTypeOf(kind, enumeration),
    maxLength,
    enumeration,
    default: defaultValue,
    localize: raw.localize ?? true,
    calculatedBy,
    system: false,
    documentation: raw.documentation ?? '',
  };
}

const OWNER_ACTIONS = { keep: 'keep', deleteTargets: 'delete', prevent: 'prevent' } as const;
const TARGET_ACTIONS = { keep: 'keep', deleteOwners: 'delete', prevent: 'prevent' } as const;

function compileAssociations(ctx: Context): void {
  for (const elem of ctx.elements.associations.values()) {
    const raw = elem.raw;
    const owner = ctx.resolve('entities', raw.owner, elem.module, at(elem.loc, 'owner'));
    const target = ctx.resolve('entities', raw.target, elem.module, at(elem.loc, 'target'));
    if (owner === undefined || target === undefined) {
      ctx.broken.add(elem.qname);
      continue;
    }
    const ownerEntity = ctx.entities.get(owner);
    const targetEntity = ctx.entities.get(target);
    if (ownerEntity?.persistable === true && targetEntity?.persistable === false) {
      ctx.diag.error(
        at(elem.loc, 'target'),
        ModelErrorCode.InvalidDomain,
        `Persistable ${owner} cannot own an association to the non-persistable ${target}.`,
        'Let the non-persistable entity own the association instead.',
      );
    }
    const type = raw.type ?? 'Reference';
    const ownership = raw.ownership ?? 'default';
    const behavior = raw.deleteBehavior;
    const onDeleteOwner: DeleteBehavior = {
      action: OWNER_ACTIONS[behavior?.owner ?? 'keep'],
      message:
        behavior?.owner === 'prevent'
          ? (behavior.ownerMessage ??
            `This ${ownerEntity?.shortName ?? 'object'} cannot be deleted while it has ${targetEntity?.shortName ?? 'associated'} objects.`)
          : undefined,
    };
    const onDeleteTarget: DeleteBehavior = {
      action: TARGET_ACTIONS[behavior?.target ?? 'keep'],
      message:
        behavior?.target === 'prevent'
          ? (behavior.targetMessage ??
            `This ${targetEntity?.shortName ?? 'object'} cannot be deleted while ${ownerEntity?.shortName ?? 'other'} objects refer to it.`)
          : undefined,
    };
    const association: Association = {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(elem.loc),
      id: raw.id ?? `${moduleId(ctx, elem.module)}.${elem.name}`,
      type,
      owner,
      target,
      ownership,
      multiplicity:
        type === 'ReferenceSet' ? 'many-to-many' : ownership === 'both' ? 'one-to-one' : 'one-to-many',
      onDeleteOwner,
      onDeleteTarget,
    };
    ctx.associations.set(elem.qname, association);
  }
}

/** Checks that stable ids are unique per kind of element. */
export function checkIds(ctx: Context): void {
  const check = (kind: string, items: Iterable<{ id: string; loc: Loc; name: string }>): void => {
    const seen = new Map<string, { loc: Loc; name: string }>();
    for (const item of items) {
      const previous = seen.get(item.id);
      if (previous !== undefined) {
        ctx.diag.error(
          at(item.loc, 'id'),
          ModelErrorCode.DuplicateId,
          `${kind} ${item.name} has the id '${item.id}', which ${previous.name} has too.`,
          'Ids keep data across renames and must be unique; when you renamed an element, give the new one the old id and no other.',
        );
      } else {
        seen.set(item.id, item);
      }
    }
  };
  const entityItems = [...ctx.entities.values()].map((e) => ({
    id: e.id,
    name: e.name,
    loc: locOf(ctx, 'entities', e.name),
  }));
  check(
    'Entity',
    entityItems.filter((i): i is { id: string; name: string; loc: Loc } => i.loc !== undefined),
  );
  const attributeItems: { id: string; name: string; loc: Loc }[] = [];
  for (const entity of ctx.entities.values()) {
    const loc = locOf(ctx, 'entities', entity.name);
    if (loc === undefined) continue;
    for (const attribute of entity.attributes.values()) {
      attributeItems.push({
        id: attribute.id,
        name: `${entity.name}.${attribute.name}`,
        loc: at(loc, 'attributes', attribute.name),
      });
    }
  }
  check('Attribute', attributeItems);
  const associationItems = [...ctx.associations.values()].map((a) => ({
    id: a.id,
    name: a.name,
    loc: locOf(ctx, 'associations', a.name),
  }));
  check(
    'Association',
    associationItems.filter((i): i is { id: string; name: string; loc: Loc } => i.loc !== undefined),
  );
  const enumerationItems = [...ctx.enumerations.values()].map((e) => ({
    id: e.id,
    name: e.name,
    loc: locOf(ctx, 'enumerations', e.name),
  }));
  check(
    'Enumeration',
    enumerationItems.filter((i): i is { id: string; name: string; loc: Loc } => i.loc !== undefined),
  );
}

function locOf(
  ctx: Context,
  section: 'entities' | 'associations' | 'enumerations',
  name: string,
): Loc | undefined {
  return ctx.elements[section].get(name)?.loc;
}

/** Validation rules, event handlers, indexes and access rules: after microflow signatures. */
export function compileEntityRules(ctx: Context): void {
  for (const elem of ctx.elements.entities.values()) {
    const entity = ctx.entities.get(elem.qname);
    if (entity === undefined) continue;
    const mutable = entity as unknown as {
      validationRules: readonly ValidationRule[];
      eventHandlers: readonly EventHandler[];
      indexes: readonly Index[];
      accessRules: readonly AccessRule[];
    };
    mutable.validationRules = compileValidationRules(ctx, elem, entity);
    mutable.eventHandlers = compileEventHandlers(ctx, elem, entity);
    mutable.indexes = compileIndexes(ctx, elem, entity);
    mutable.accessRules = compileAccessRules(ctx, elem, entity);
    checkCalculatedAttributes(ctx, elem, entity);
  }
}

function unknownAttribute(ctx: Context, loc: Loc, entity: Entity, name: string): void {
  ctx.diag.error(
    loc,
    ModelErrorCode.UnknownAttribute,
    `Entity ${entity.name} has no attribute '${name}'.`,
    didYouMean(name, entity.allAttributes.keys()) ||
      `Its attributes: ${[...entity.allAttributes.keys()].join(', ') || 'none'}.`,
  );
}

function compileValidationRules(ctx: Context, elem: Elem<RawEntity>, entity: Entity): ValidationRule[] {
  const rules: ValidationRule[] = [];
  (elem.raw.validation ?? []).forEach((raw, i) => {
    const loc = at(elem.loc, 'validation', i);
    if (!entity.persistable) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidDomain,
        'Validation rules need a persistable entity.',
        'They are checked on commit; check non-persistable objects in a microflow.',
      );
      return;
    }
    if (raw.rule === 'required' && raw.association !== undefined) {
      if (raw.attribute !== undefined) {
        ctx.diag.error(
          at(loc, 'association'),
          ModelErrorCode.InvalidDomain,
          'A rule is on an attribute or on an association, not both.',
          'Remove one.',
        );
        return;
      }
      const name = ctx.resolve('associations', raw.association, elem.module, at(loc, 'association'));
      if (name === undefined) return;
      const association = ctx.associations.get(name);
      if (association !== undefined && !ownsAssociation(entity, association)) {
        ctx.diag.error(
          at(loc, 'association'),
          ModelErrorCode.InvalidDomain,
          `${entity.name} does not own ${name}.`,
          `The rule belongs on ${association.owner}.`,
        );
        return;
      }
      rules.push({ rule: 'required', association: name, message: raw.message });
      return;
    }
    if (raw.attribute === undefined) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidDomain,
        'Missing the attribute the rule checks.',
        'Add attribute: <name>.',
        'key',
      );
      return;
    }
    const attribute = entity.allAttributes.get(raw.attribute);
    if (attribute === undefined) {
      unknownAttribute(ctx, at(loc, 'attribute'), entity, raw.attribute);
      return;
    }
    const attrLoc = at(loc, 'attribute');
    const kindError = (allowed: string): void => {
      ctx.diag.error(
        attrLoc,
        ModelErrorCode.TypeMismatch,
        `A ${raw.rule} rule cannot check ${attribute.kind} attribute '${attribute.name}'.`,
        `It needs ${allowed}.`,
      );
    };
    const literal = (key: 'value' | 'min' | 'max'): MxValue | undefined | false => {
      const value = raw[key];
      if (value === undefined) return undefined;
      const values =
        attribute.enumeration === undefined
          ? undefined
          : ctx.enumerations.get(attribute.enumeration)?.values.map((v) => v.key);
      const read = readLiteral(attribute.kind, value, loc.file.scalarSource([...loc.path, key]), values);
      if (!read.ok) {
        ctx.diag.error(at(loc, key), ModelErrorCode.InvalidValue, read.message, read.hint);
        return false;
      }
      return read.value;
    };
    switch (raw.rule) {
      case 'required':
        rules.push({ rule: 'required', attribute: attribute.name, message: raw.message });
        return;
      case 'unique':
        if (
          attribute.kind === 'Binary' ||
          attribute.kind === 'HashedString' ||
          attribute.calculatedBy !== undefined
        ) {
          kindError('a stored attribute that is not Binary or HashedString');
          return;
        }
        if (attribute.entity !== entity.name) {
          ctx.diag.error(
            attrLoc,
            ModelErrorCode.InvalidDomain,
            `'${attribute.name}' is inherited from ${attribute.entity}.`,
            `Put the unique rule on ${attribute.entity}.`,
          );
          return;
        }
        rules.push({ rule: 'unique', attribute: attribute.name, message: raw.message });
        return;
      case 'equals': {
        const value = literal('value');
        if (value === false) return;
        rules.push({ rule: 'equals', attribute: attribute.name, value: value ?? null, message: raw.message });
        return;
      }
      case 'range': {
        if (!['Integer', 'Long', 'Decimal', 'DateTime', 'AutoNumber'].includes(attribute.kind)) {
          kindError('a number or a date');
          return;
        }
        if (raw.min === undefined && raw.max === undefined) {
          ctx.diag.error(
            loc,
            ModelErrorCode.InvalidDomain,
            'A range rule needs min, max or both.',
            'Add min or max.',
            'key',
          );
          return;
        }
        const min = literal('min');
        const max = literal('max');
        if (min === false || max === false) return;
        if (min !== undefined && max !== undefined && compareValues(min, max) > 0) {
          ctx.diag.error(
            at(loc, 'max'),
            ModelErrorCode.InvalidValue,
            'max is smaller than min.',
            'Swap them.',
          );
          return;
        }
        rules.push({ rule: 'range', attribute: attribute.name, min, max, message: raw.message });
        return;
      }
      case 'regex': {
        if (attribute.kind !== 'String') {
          kindError('a String');
          return;
        }
        try {
          new RegExp(raw.pattern ?? '', 'u');
        } catch (error) {
          ctx.diag.error(
            at(loc, 'pattern'),
            ModelErrorCode.InvalidValue,
            `Not a valid regular expression: ${error instanceof Error ? error.message : String(error)}.`,
            '',
          );
          return;
        }
        rules.push({
          rule: 'regex',
          attribute: attribute.name,
          pattern: raw.pattern ?? '',
          message: raw.message,
        });
        return;
      }
      case 'maxLength':
        if (attribute.kind !== 'String') {
          kindError('a String');
          return;
        }
        rules.push({
          rule: 'maxLength',
          attribute: attribute.name,
          length: raw.length ?? 0,
          message: raw.message,
        });
        return;
    }
  });
  return rules;
}

function compareValues(a: MxValue, b: MxValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (
    typeof a === 'object' &&
    a !== null &&
    'cmp' in a &&
    typeof (a as { cmp: unknown }).cmp === 'function'
  ) {
    return (a as { cmp(other: unknown): number }).cmp(b);
  }
  return 0;
}

/** True when the entity (or a generalization) holds the reference of the association. */
export function ownsAssociation(entity: Entity, association: Association): boolean {
  const lineage = [entity.name, ...entity.generalizations];
  return (
    lineage.includes(association.owner) ||
    (association.ownership === 'both' && lineage.includes(association.target))
  );
}

function compileEventHandlers(ctx: Context, elem: Elem<RawEntity>, entity: Entity): EventHandler[] {
  const handlers: EventHandler[] = [];
  (elem.raw.events ?? []).forEach((raw, i) => {
    const loc = at(elem.loc, 'events', i);
    const microflow = ctx.resolve('microflows', raw.microflow, elem.module, at(loc, 'microflow'));
    const beforeCreate = raw.moment === 'before' && raw.event === 'create';
    const passEventObject = raw.passEventObject ?? !beforeCreate;
    if (beforeCreate && passEventObject) {
      ctx.diag.error(
        at(loc, 'passEventObject'),
        ModelErrorCode.InvalidArguments,
        'A before-create handler cannot receive the object: it does not exist yet.',
        'Set passEventObject: false.',
      );
    }
    if (raw.moment === 'after' && raw.raiseErrorOnFalse !== undefined) {
      ctx.diag.error(
        at(loc, 'raiseErrorOnFalse'),
        ModelErrorCode.InvalidDomain,
        'Only before handlers can cancel an event.',
        'Remove raiseErrorOnFalse.',
        'key',
      );
    }
    if (microflow !== undefined) {
      const signature = ctx.microflowSignatures.get(microflow);
      if (signature !== undefined) {
        if (raw.moment === 'before' && signature.returnType.kind !== 'Boolean') {
          ctx.diag.error(
            at(loc, 'microflow'),
            ModelErrorCode.TypeMismatch,
            `Before-${raw.event} handler ${microflow} must return a Boolean (false cancels the ${raw.event}).`,
            'Set returnType: Boolean.',
          );
        }
        if (passEventObject) {
          const [first, ...rest] = signature.parameters;
          const fits =
            first !== undefined &&
            rest.length === 0 &&
            first.type.kind === 'Object' &&
            isAssignable({ kind: 'Object', entity: entity.name }, first.type, ctx.domain);
          if (!fits) {
            ctx.diag.error(
              at(loc, 'microflow'),
              ModelErrorCode.InvalidArguments,
              `Handler ${microflow} must have exactly one parameter, of type ${entity.name} (or a generalization).`,
              'Adjust its parameters, or set passEventObject: false.',
            );
          }
        } else if (signature.parameters.length > 0) {
          ctx.diag.error(
            at(loc, 'microflow'),
            ModelErrorCode.InvalidArguments,
            `Handler ${microflow} must have no parameters when the object is not passed.`,
            'Remove its parameters, or set passEventObject: true.',
          );
        }
      }
    }
    if (microflow === undefined) return;
    handlers.push({
      moment: raw.moment,
      event: raw.event,
      microflow,
      passEventObject,
      raiseErrorOnFalse: raw.raiseErrorOnFalse ?? true,
    });
  });
  return handlers;
}

function compileIndexes(ctx: Context, elem: Elem<RawEntity>, entity: Entity): Index[] {
  const indexes: Index[] = [];
  (elem.raw.indexes ?? []).forEach((raw, i) => {
    const loc = at(elem.loc, 'indexes', i);
    if (!entity.persistable) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidDomain,
        'Indexes need a persistable entity.',
        'Remove the index.',
      );
      return;
    }
    const items: { attribute: string; descending: boolean }[] = [];
    let ok = true;
    for (const [name, order] of entries(raw.attributes)) {
      const attrLoc = at(loc, 'attributes', name);
      const attribute = entity.attributes.get(name);
      if (attribute === undefined) {
        if (entity.allAttributes.has(name)) {
          ctx.diag.error(
            attrLoc,
            ModelErrorCode.InvalidDomain,
            `'${name}' is inherited; an index can only hold the entity's own attributes.`,
            `Index it on ${entity.allAttributes.get(name)?.entity ?? 'the generalization'}.`,
            'key',
          );
        } else {
          unknownAttribute(ctx, attrLoc, entity, name);
        }
        ok = false;
        continue;
      }
      if (
        attribute.kind === 'Binary' ||
        attribute.kind === 'HashedString' ||
        attribute.calculatedBy !== undefined
      ) {
        ctx.diag.error(
          attrLoc,
          ModelErrorCode.InvalidDomain,
          `${attribute.kind === 'Binary' || attribute.kind === 'HashedString' ? attribute.kind : 'Calculated'} attribute '${name}' cannot be indexed.`,
          '',
          'key',
        );
        ok = false;
        continue;
      }
      items.push({ attribute: name, descending: order === 'desc' });
    }
    if (items.length === 0 && ok) {
      ctx.diag.error(
        at(loc, 'attributes'),
        ModelErrorCode.InvalidDomain,
        'An index needs at least one attribute.',
        '',
      );
      return;
    }
    if (!ok) return;
    const attributeIds = items.map((item) => entity.attributes.get(item.attribute)?.id ?? item.attribute);
    indexes.push({ id: raw.id ?? `${entity.id}#index(${attributeIds.join(',')})`, attributes: items });
  });
  return indexes;
}

const ACCESS_ORDER: Record<MemberAccess, number> = { none: 0, read: 1, readWrite: 2 };

function compileAccessRules(ctx: Context, elem: Elem<RawEntity>, entity: Entity): AccessRule[] {
  const rules: AccessRule[] = [];
  const schema = ctx.domain;
  const owned = [...ctx.associations.values()].filter((a) => ownsAssociation(entity, a)).map((a) => a.name);
  const readOnly = new Set<string>();
  for (const attribute of entity.allAttributes.values()) {
    if (attribute.kind === 'AutoNumber' || attribute.calculatedBy !== undefined || attribute.system)
      readOnly.add(attribute.name);
  }
  const systemAssociations: string[] = [];
  for (const name of [entity.name, ...entity.generalizations]) {
    const e = ctx.entities.get(name);
    if (e?.system.owner === true) systemAssociations.push('System.owner');
    if (e?.system.changedBy === true) systemAssociations.push('System.changedBy');
  }
  for (const s of systemAssociations) readOnly.add(s);
  const memberNames = [...entity.allAttributes.keys(), ...owned, ...new Set(systemAssociations)];
  (elem.raw.access ?? []).forEach((raw, i) => {
    const loc = at(elem.loc, 'access', i);
    const roles = ctx.resolveModuleRoles(raw.roles, elem.module, at(loc, 'roles'));
    const defaultAccess: MemberAccess = raw.defaultMemberAccess ?? 'none';
    const members = new Map<string, MemberAccess>();
    const explicit = new Map<string, RawMemberAccess>();
    for (const [key, access] of entries(raw.members)) {
      const memberLoc = at(loc, 'members', key);
      let name: string | undefined;
      if (entity.allAttributes.has(key) || systemAssociations.includes(key)) {
        name = key;
      } else if (key === 'owner' || key === 'changedBy') {
        name = systemAssociations.includes(`System.${key}`) ? `System.${key}` : undefined;
      } else {
        const qualified = ctx.qualify(key, elem.module);
        if (ctx.associations.has(qualified)) {
          if (!owned.includes(qualified)) {
            ctx.diag.error(
              memberLoc,
              ModelErrorCode.InvalidAccessRule,
              `${entity.name} does not own association ${qualified}.`,
              'Access to an association is granted on the entity that owns it.',
              'key',
            );
            continue;
          }
          name = qualified;
        }
      }
      if (name === undefined) {
        ctx.diag.error(
          memberLoc,
          ModelErrorCode.UnknownMember,
          `Entity ${entity.name} has no member '${key}'.`,
          didYouMean(key, memberNames) || `Its members: ${memberNames.join(', ')}.`,
          'key',
        );
        continue;
      }
      if (access === 'readWrite' && readOnly.has(name)) {
        ctx.diag.error(
          memberLoc,
          ModelErrorCode.InvalidAccessRule,
          `'${name}' is set by the server and cannot be written.`,
          'Use read.',
        );
        continue;
      }
      explicit.set(name, access);
    }
    for (const name of memberNames) {
      const given = explicit.get(name);
      let access: MemberAccess = given ?? defaultAccess;
      if (given === undefined && readOnly.has(name) && ACCESS_ORDER[access] > ACCESS_ORDER.read)
        access = 'read';
      members.set(name, access);
    }
    let xpath: ModelXPath | undefined;
    if (raw.xpath !== undefined) {
      const xpathLoc = at(loc, 'xpath');
      if (!entity.persistable) {
        ctx.diag.error(
          xpathLoc,
          ModelErrorCode.InvalidAccessRule,
          'Non-persistable entities cannot have XPath constraints.',
          'Remove the xpath.',
        );
      } else {
        const result = compileXPath(raw.xpath, { schema, entity: entity.name, variables: new Map() });
        if (result.ok) {
          xpath = { source: raw.xpath, entity: entity.name, query: result.query, path: modelPath(xpathLoc) };
        } else {
          for (const error of result.errors) ctx.diag.languageError(xpathLoc, error);
        }
      }
    }
    rules.push({
      roles,
      create: raw.create ?? false,
      delete: raw.delete ?? false,
      defaultMemberAccess: defaultAccess,
      members,
      xpath,
    });
  });
  return rules;
}

function checkCalculatedAttributes(ctx: Context, elem: Elem<RawEntity>, entity: Entity): void {
  for (const attribute of entity.attributes.values()) {
    if (attribute.calculatedBy === undefined) continue;
    const loc = at(elem.loc, 'attributes', attribute.name, 'calculated');
    const signature = ctx.microflowSignatures.get(attribute.calculatedBy);
    if (signature === undefined) continue;
    const [first, ...rest] = signature.parameters;
    const paramsOk =
      signature.parameters.length === 0 ||
      (rest.length === 0 &&
        first !== undefined &&
        first.type.kind === 'Object' &&
        isAssignable({ kind: 'Object', entity: entity.name }, first.type, ctx.domain));
    if (!paramsOk) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidArguments,
        `Microflow ${attribute.calculatedBy} must take no parameters or one of type ${entity.name}.`,
        'It receives the object whose attribute it calculates.',
      );
    }
    if (
      !isAssignable(signature.returnType, attribute.type, ctx.domain) ||
      signature.returnType.kind === 'Void'
    ) {
      ctx.diag.error(
        loc,
        ModelErrorCode.TypeMismatch,
        `Microflow ${attribute.calculatedBy} returns ${formatType(signature.returnType)}, but '${attribute.name}' is ${formatType(attribute.type)}.`,
        'Make its return type match the attribute.',
      );
    }
  }
}
