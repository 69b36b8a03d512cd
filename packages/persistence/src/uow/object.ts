/**
 * The objects a unit of work hands out: members by name, the database state they were read
 * with, the changes made since, and what the user may read and write of them.
 */
import { Decimal, isDecimal, toStorageDecimal, type MxValue } from '@runplane/expressions';
import type { ObjectAccess } from '../access/policy.js';
import { ObjectState, type MemberValue, type MxObject } from '../api.js';
import {
  invalidMemberValue,
  invalidObjectState,
  memberNotReadable,
  memberNotWritable,
  unknownMember,
} from '../errors.js';
import type { AttributeMapping, EntityMapping } from '../mapping/domain-map.js';
import { isUuid } from '../sql/values.js';

/** What a HashedString reads as when it holds a value: the value itself is never readable. */
export const HASHED_STRING_MASK = '********';

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** What a unit of work does for its objects. */
export interface ObjectHost {
  /** Called when an object changes, so the request scope tracks the changed copy. */
  changed(object: RuntimeObject): void;
}

/** A copy of an object's state, to go back to (savepoints, abort, rollback). */
export interface ObjectSnapshotState {
  readonly state: ObjectState;
  readonly values: ReadonlyMap<string, MemberValue>;
  readonly original: ReadonlyMap<string, MemberValue>;
  readonly changed: ReadonlySet<string>;
  readonly plain: ReadonlyMap<string, string>;
  readonly access: ObjectAccess | undefined;
  readonly userAccess: ObjectAccess | undefined;
}

/** Checks a value against an attribute's type; returns it as stored (Decimals rounded). */
export function checkAttributeValue(entity: string, attribute: AttributeMapping, value: MxValue): MxValue {
  const fail = (what: string): never => {
    throw invalidMemberValue(entity, attribute.name, `${entity}.${attribute.name} ${what}.`);
  };
  if (value === null) {
    if (attribute.kind === 'Boolean') fail('is a Boolean and cannot be empty');
    return null;
  }
  switch (attribute.kind) {
    case 'String':
    case 'HashedString': {
      if (typeof value !== 'string') return fail('takes a String');
      const max = attribute.attribute.maxLength;
      // PostgreSQL counts characters (code points) in varchar(n), and so do we.
      if (max !== null && attribute.kind === 'String') {
        let length = 0;
        for (const _ of value) if (++length > max) fail(`takes at most ${max} characters`);
      }
      return value;
    }
    case 'Enumeration':
      if (typeof value !== 'string') return fail('takes an enumeration key');
      if (attribute.enumKeys !== undefined && !attribute.enumKeys.has(value)) {
        fail(`has no value '${value}' (allowed: ${[...attribute.enumKeys].join(', ')})`);
      }
      return value;
    case 'Integer':
    case 'Long':
    case 'AutoNumber': {
      let n: bigint;
      if (typeof value === 'bigint') n = value;
      else if (isDecimal(value) && value.isInteger()) n = BigInt(value.toFixed(0));
      else return fail(`takes a whole number`);
      const [min, max] = attribute.kind === 'Integer' ? [INT32_MIN, INT32_MAX] : [INT64_MIN, INT64_MAX];
      if (n < min || n > max) {
        fail(
          `is ${attribute.kind === 'Integer' ? 'a 32-bit Integer' : 'a 64-bit Long'}; ${n} is out of range`,
        );
      }
      return n;
    }
    case 'Decimal': {
      const d =
        typeof value === 'bigint' ? new Decimal(value.toString()) : isDecimal(value) ? value : undefined;
      if (d === undefined) return fail('takes a Decimal');
      try {
        return toStorageDecimal(d);
      } catch {
        return fail('takes at most 20 integer digits');
      }
    }
    case 'Boolean':
      if (typeof value !== 'boolean') return fail('takes a Boolean');
      return value;
    case 'DateTime':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) return fail('takes a date and time');
      return value;
    case 'Binary':
      if (!(value instanceof Uint8Array)) return fail('takes binary data');
      return value;
  }
}

function sameValue(a: MemberValue | undefined, b: MemberValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a === 'bigint' || typeof a === 'string' || typeof a === 'boolean') return a === b;
  if (isDecimal(a)) return isDecimal(b) && a.eq(b);
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array) {
    return b instanceof Uint8Array && a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return false;
}

/** An object of a unit of work. */
export class RuntimeObject implements MxObject {
  readonly id: string;
  readonly mapping: EntityMapping;
  #state: ObjectState;
  /** Current values of the members that were loaded (or set). */
  readonly values = new Map<string, MemberValue>();
  /**
   * The values as stored (or as instantiated), for deltas and rollback; undefined while
   * they equal {@link values} (copied at the first change: most objects are only read).
   */
  #original: Map<string, MemberValue> | undefined;
  readonly #changed = new Set<string>();
  /** Plain texts of HashedStrings set in this request, hashed when committed. */
  readonly plain = new Map<string, string>();
  /** What the view that loaded it may do with it; undefined for full access. */
  access: ObjectAccess | undefined;
  /** What the end user may see of it (for the client); undefined for full access. */
  userAccess: ObjectAccess | undefined;
  readonly #host: ObjectHost;

  constructor(
    host: ObjectHost,
    mapping: EntityMapping,
    id: string,
    state: ObjectState,
    access: ObjectAccess | undefined,
    userAccess: ObjectAccess | undefined,
  ) {
    this.#host = host;
    this.mapping = mapping;
    this.id = id;
    this.#state = state;
    this.access = access;
    this.userAccess = userAccess;
  }

  get entity(): string {
    return this.mapping.name;
  }

  get state(): ObjectState {
    return this.#state;
  }

  /** True for an object never committed (`isNew` in expressions). */
  get isNew(): boolean {
    return this.#state === ObjectState.New;
  }

  get changedMembers(): ReadonlySet<string> {
    return this.#changed;
  }

  /** Sets the state (the unit of work does, on commit, delete and rollback). */
  setState(state: ObjectState): void {
    this.#state = state;
  }

  canRead(member: string): boolean {
    if (!this.#hasMember(member)) return false;
    return this.access === undefined || this.access.readable.has(member);
  }

  canWrite(member: string): boolean {
    if (!this.#hasMember(member)) return false;
    const attribute = this.mapping.attributes.get(member);
    if (attribute?.serverSet === true) return false;
    const association = this.mapping.associations.get(member);
    if (association?.kind === 'reference' && association.system) return false;
    return this.access === undefined || this.access.writable.has(member);
  }

  /** True when the end user may see the member (what goes to the client). */
  userCanRead(member: string): boolean {
    if (!this.#hasMember(member)) return false;
    return this.userAccess === undefined || this.userAccess.readable.has(member);
  }

  /** True when the end user may change the member from the client. */
  userCanWrite(member: string): boolean {
    if (!this.canWrite(member) && this.access !== undefined) return false;
    const attribute = this.mapping.attributes.get(member);
    if (attribute?.serverSet === true) return false;
    const association = this.mapping.associations.get(member);
    if (association?.kind === 'reference' && association.system) return false;
    return this.userAccess === undefined || this.userAccess.writable.has(member);
  }

  #hasMember(member: string): boolean {
    return this.mapping.attributes.has(member) || this.mapping.associations.has(member);
  }

  #readable(member: string): void {
    if (this.access !== undefined && !this.access.readable.has(member))
      throw memberNotReadable(this.entity, member);
  }

  #writable(member: string): void {
    if (this.#state === ObjectState.Deleted) {
      throw invalidObjectState(
        this.entity,
        this.id,
        `This ${this.entity} object was deleted and cannot be changed.`,
      );
    }
    const attribute = this.mapping.attributes.get(member);
    if (attribute?.serverSet === true) {
      throw memberNotWritable(
        this.entity,
        member,
        `${this.entity}.${member} is set by the server and cannot be changed.`,
      );
    }
    if (this.access !== undefined && !this.access.writable.has(member))
      throw memberNotWritable(this.entity, member);
  }

  get(attribute: string): MxValue {
    const mapping = this.mapping.attributes.get(attribute);
    if (mapping === undefined) throw unknownMember(this.entity, attribute);
    this.#readable(attribute);
    const value = this.values.get(attribute) ?? null;
    if (mapping.kind === 'HashedString') return value === null ? null : HASHED_STRING_MASK;
    return value as MxValue;
  }

  set(attribute: string, value: MxValue): void {
    const mapping = this.mapping.attributes.get(attribute);
    if (mapping === undefined) throw unknownMember(this.entity, attribute);
    this.#writable(attribute);
    // The mask is what a HashedString reads as; writing it back (a form sent unchanged) changes nothing.
    if (mapping.kind === 'HashedString' && value === HASHED_STRING_MASK) return;
    const checked = checkAttributeValue(this.entity, mapping, value);
    if (mapping.kind === 'HashedString') {
      if (checked === null) this.plain.delete(attribute);
      else this.plain.set(attribute, checked as string);
      this.#put(attribute, checked === null ? null : HASHED_STRING_MASK, true);
      return;
    }
    this.#put(attribute, checked, false);
  }

  /** The values as stored (or as instantiated). */
  get original(): ReadonlyMap<string, MemberValue> {
    return this.#original ?? this.values;
  }

  /** Stores a value and tracks the change (HashedStrings always count as changed when set). */
  #put(member: string, value: MemberValue, always: boolean): void {
    this.#original ??= new Map(this.values);
    this.values.set(member, value);
    if (!always && sameValue(this.original.get(member) ?? null, value)) this.#changed.delete(member);
    else this.#changed.add(member);
    this.#host.changed(this);
  }

  /** Sets a member without access checks (defaults, server-set members, database state). */
  setRaw(member: string, value: MemberValue): void {
    this.values.set(member, value);
  }

  #association(name: string, kinds: readonly string[]): void {
    const association = this.mapping.associations.get(name);
    if (association === undefined) throw unknownMember(this.entity, name);
    const single = association.kind === 'reference' || association.kind === 'reverseReference';
    if ((kinds.includes('single') && !single) || (kinds.includes('set') && single)) {
      throw invalidMemberValue(
        this.entity,
        name,
        `${name} is a ${single ? 'Reference' : 'ReferenceSet'}; use ${single ? 'getReference/setReference' : 'getReferenceSet/setReferenceSet'}.`,
      );
    }
  }

  getReference(association: string): string | null {
    this.#association(association, ['single']);
    this.#readable(association);
    const value = this.values.get(association);
    return typeof value === 'string' ? value : null;
  }

  setReference(association: string, targetId: string | null): void {
    this.#association(association, ['single']);
    this.#writable(association);
    const mapping = this.mapping.associations.get(association);
    if (mapping?.kind === 'reference' && mapping.system) {
      throw memberNotWritable(
        this.entity,
        association,
        `${association} is set by the server and cannot be changed.`,
      );
    }
    if (targetId !== null && !isUuid(targetId)) {
      throw invalidMemberValue(
        this.entity,
        association,
        `${association} takes an object id; '${targetId}' is not one.`,
      );
    }
    this.#put(association, targetId, false);
  }

  getReferenceSet(association: string): readonly string[] {
    this.#association(association, ['set']);
    this.#readable(association);
    const value = this.values.get(association);
    return Array.isArray(value) ? (value as readonly string[]) : [];
  }

  setReferenceSet(association: string, targetIds: readonly string[]): void {
    this.#association(association, ['set']);
    this.#writable(association);
    for (const id of targetIds) {
      if (!isUuid(id))
        throw invalidMemberValue(
          this.entity,
          association,
          `${association} takes object ids; '${id}' is not one.`,
        );
    }
    this.#put(association, [...new Set(targetIds)].sort(), false);
  }

  /** Marks the current values as stored. */
  markStored(): void {
    this.#original = undefined;
    this.#changed.clear();
    this.plain.clear();
    this.#state = ObjectState.Stored;
  }

  /** Keeps the current values as the ones a rollback returns to, without storing (non-persistable objects). */
  keepValues(): void {
    this.#original = undefined;
    this.#changed.clear();
  }

  /** Goes back to the stored values. */
  revert(): void {
    const original = this.#original;
    this.#original = undefined;
    if (original !== undefined) {
      this.values.clear();
      for (const [member, value] of original) this.values.set(member, value);
    }
    this.#changed.clear();
    this.plain.clear();
  }

  /** The object's state, to restore later. */
  capture(): ObjectSnapshotState {
    return {
      state: this.#state,
      values: new Map(this.values),
      original: new Map(this.original),
      changed: new Set(this.#changed),
      plain: new Map(this.plain),
      access: this.access,
      userAccess: this.userAccess,
    };
  }

  /** Restores a captured state. */
  restoreState(snapshot: ObjectSnapshotState): void {
    this.#state = snapshot.state;
    this.values.clear();
    for (const [k, v] of snapshot.values) this.values.set(k, v);
    this.#original = new Map(snapshot.original);
    this.#changed.clear();
    for (const k of snapshot.changed) this.#changed.add(k);
    this.plain.clear();
    for (const [k, v] of snapshot.plain) this.plain.set(k, v);
    this.access = snapshot.access;
    this.userAccess = snapshot.userAccess;
  }

  /** Marks a member changed without a new value (references cleared by a delete elsewhere). */
  forget(member: string, value: MemberValue): void {
    this.values.set(member, value);
    this.#original?.set(member, value);
    this.#changed.delete(member);
  }
}
