/**
 * Objects between JSON and the proto `MxObject`, typed by the app model: attributes by name
 * (inherited ones included), associations by qualified name with an id (Reference) or ids
 * (ReferenceSet), plus the system associations `System.owner` and `System.changedBy`.
 */
import type { Attribute, CompiledModel } from '@runplane/model';
import { common } from '@runplane/proto';
import { UserError, ErrorStatus } from '@runplane/errors';
import { valueFromJson, valueToJson, type DateStyle, type JsonValue, type MxType } from './values.js';

/** The states an object can have on the wire. */
export const WireObjectState = {
  New: 'new',
  Committed: 'committed',
  Changed: 'changed',
  Deleted: 'deleted',
} as const;
/** The state of an object on the wire. */
export type WireObjectState = (typeof WireObjectState)[keyof typeof WireObjectState];

/** An object as JSON carries it. */
export interface WireObject {
  id: string;
  entity: string;
  state: WireObjectState;
  members: Record<string, JsonValue>;
  /** Members the user may read but not change. */
  readOnlyMembers: string[];
}

const SYSTEM_REFERENCES = new Set(['System.owner', 'System.changedBy']);

const STATE_TO_PROTO: Readonly<Record<WireObjectState, common.ObjectState>> = {
  new: common.ObjectState.OBJECT_STATE_NEW,
  committed: common.ObjectState.OBJECT_STATE_COMMITTED,
  changed: common.ObjectState.OBJECT_STATE_CHANGED,
  deleted: common.ObjectState.OBJECT_STATE_DELETED,
};

function stateFromProto(state: common.ObjectState): WireObjectState {
  switch (state) {
    case common.ObjectState.OBJECT_STATE_NEW:
      return WireObjectState.New;
    case common.ObjectState.OBJECT_STATE_CHANGED:
      return WireObjectState.Changed;
    case common.ObjectState.OBJECT_STATE_DELETED:
      return WireObjectState.Deleted;
    default:
      return WireObjectState.Committed;
  }
}

/** What a member of an entity is. */
export type MemberInfo =
  | { readonly kind: 'attribute'; readonly attribute: Attribute; readonly type: MxType }
  | { readonly kind: 'reference'; readonly entity: string; readonly type: MxType }
  | { readonly kind: 'referenceSet'; readonly entity: string; readonly type: MxType };

/** The members of the model's entities, for typing JSON values. */
export class ModelMembers {
  private readonly cache = new Map<string, MemberInfo | null>();

  constructor(readonly model: CompiledModel) {}

  /** True when the model has the entity. */
  hasEntity(entity: string): boolean {
    return this.model.entities.has(entity);
  }

  /**
   * A member of an entity: an attribute (inherited too), an association the entity or one of
   * its generalizations takes part in, or a system reference; undefined when there is none.
   */
  member(entity: string, name: string): MemberInfo | undefined {
    const key = `${entity}\u0000${name}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.resolve(entity, name);
    this.cache.set(key, found ?? null);
    return found;
  }

  private resolve(entity: string, name: string): MemberInfo | undefined {
    const e = this.model.entities.get(entity);
    if (e === undefined) return undefined;
    const attribute = e.allAttributes.get(name);
    if (attribute !== undefined) return { kind: 'attribute', attribute, type: attribute.type };
    const lineage = [entity, ...e.generalizations];
    if (SYSTEM_REFERENCES.has(name)) {
      const declares = lineage.some((n) => {
        const system = this.model.entities.get(n)?.system;
        return name === 'System.owner' ? system?.owner === true : system?.changedBy === true;
      });
      return declares
        ? { kind: 'reference', entity: 'System.User', type: { kind: 'Object', entity: 'System.User' } }
        : undefined;
    }
    const association = this.model.associations.get(name);
    if (association === undefined) return undefined;
    const owns = lineage.includes(association.owner);
    const targets = association.ownership === 'both' && lineage.includes(association.target);
    if (!owns && !targets) return undefined;
    const other = owns ? association.target : association.owner;
    return association.type === 'ReferenceSet'
      ? { kind: 'referenceSet', entity: other, type: { kind: 'List', entity: other } }
      : { kind: 'reference', entity: other, type: { kind: 'Object', entity: other } };
  }

  /**
   * Members of an entity from JSON, typed. Unknown members answer 400 `code` naming them.
   *
   * @param where Prefix for error locations, e.g. `state.objects[2]`.
   */
  membersFromJson(
    entity: string,
    members: Readonly<Record<string, unknown>>,
    options: { readonly dates: DateStyle; readonly code: string; readonly where: string },
  ): Record<string, common.Value> {
    const out: Record<string, common.Value> = {};
    for (const [name, json] of Object.entries(members)) {
      const info = this.member(entity, name);
      const where = `${options.where}.${name}`;
      if (info === undefined) {
        throw new UserError({
          code: options.code,
          status: ErrorStatus.InvalidArgument,
          message: `${entity} has no member '${name}' (${where}).`,
          details: { where, entity, member: name },
        });
      }
      out[name] = valueFromJson(this.model, info.type, json, {
        dates: options.dates,
        code: options.code,
        where,
      });
    }
    return out;
  }
}

/** A proto object as JSON. */
export function objectToWire(object: common.MxObject, dates: DateStyle): WireObject {
  const members: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(object.members)) members[name] = valueToJson(value, dates);
  return {
    id: object.id,
    entity: object.entity,
    state: stateFromProto(object.state),
    members,
    readOnlyMembers: [...object.readOnlyMembers],
  };
}

/** The proto state of a wire state. */
export function stateToProto(state: WireObjectState): common.ObjectState {
  return STATE_TO_PROTO[state];
}
