/**
 * Entity access as Mendix has it. For a user, the module roles of the user's roles select the
 * access rules of each entity (its own rules: they are not inherited from a generalization).
 * The selected rules combine additively: an object is visible when it matches at least one of
 * them (a rule without an XPath matches every object), and a member is readable (writable)
 * when one of the rules the object matches grants it. Create rights ignore XPath; delete
 * rights need the rule's XPath to match. New objects match every rule.
 */
import type { AccessRule, CompiledModel, MemberAccess } from '@runplane/model';
import type { UserContext } from '../api.js';

/** What a user may do with one object. */
export interface ObjectAccess {
  readonly readable: ReadonlySet<string>;
  readonly writable: ReadonlySet<string>;
  readonly canDelete: boolean;
}

/** The rules of one entity that apply to a user. */
export interface EntityRules {
  readonly entity: string;
  /** Every rule that applies, in model order. */
  readonly rules: readonly AccessRule[];
  /** True when a rule without XPath applies: every object is visible. */
  readonly unconditional: boolean;
  readonly canCreate: boolean;
  /** Members readable under at least one rule. */
  readonly anyReadable: ReadonlySet<string>;
  /** Access for an object that matched the rules at these positions of {@link rules}. */
  accessFor(matched: readonly boolean[]): ObjectAccess;
  /** Access for a new object: every rule matches. */
  readonly forNew: ObjectAccess;
}

/** A user's access to every entity; `undefined` entity rules mean full access. */
export interface UserAccess {
  /** A stable key of the rules in force, for caches of compiled statements. */
  readonly key: string;
  /** Undefined when entity access does not apply (system context, or security below production). */
  entity(name: string): EntityRules | undefined;
}

/** The key of full access (no entity access applies). */
export const SYSTEM_ACCESS_KEY = 'system';

/** Full access: no entity access applies. */
export const FULL_ACCESS: UserAccess = { key: SYSTEM_ACCESS_KEY, entity: () => undefined };

const reads = (access: MemberAccess | undefined): boolean => access === 'read' || access === 'readWrite';
const writes = (access: MemberAccess | undefined): boolean => access === 'readWrite';

function buildRules(entity: string, rules: readonly AccessRule[]): EntityRules {
  const anyReadable = new Set<string>();
  for (const rule of rules)
    for (const [member, access] of rule.members) if (reads(access)) anyReadable.add(member);
  const cache = new Map<string, ObjectAccess>();
  const accessFor = (matched: readonly boolean[]): ObjectAccess => {
    const key = matched.map((m) => (m ? '1' : '0')).join('');
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const readable = new Set<string>();
    const writable = new Set<string>();
    let canDelete = false;
    rules.forEach((rule, i) => {
      if (matched[i] !== true) return;
      if (rule.delete) canDelete = true;
      for (const [member, access] of rule.members) {
        if (reads(access)) readable.add(member);
        if (writes(access)) writable.add(member);
      }
    });
    const access: ObjectAccess = { readable, writable, canDelete };
    cache.set(key, access);
    return access;
  };
  return {
    entity,
    rules,
    unconditional: rules.some((r) => r.xpath === undefined),
    canCreate: rules.some((r) => r.create),
    anyReadable,
    accessFor,
    forNew: accessFor(rules.map(() => true)),
  };
}

/** Access rules per user-role set, computed once and cached. */
export class AccessPolicy {
  readonly #model: CompiledModel;
  readonly #byRoles = new Map<string, UserAccess>();

  constructor(model: CompiledModel) {
    this.#model = model;
  }

  /** True when entity access applies to this user at all. */
  applies(user: UserContext): boolean {
    return !user.system && this.#model.security.level === 'production';
  }

  /** The user's access. */
  forUser(user: UserContext): UserAccess {
    if (!this.applies(user)) return FULL_ACCESS;
    const roles = user.userRoles;
    // Most users have one role: its name is the key the general form gives, without building it.
    const key = roles.length === 1 ? (roles[0] ?? '') : [...new Set(roles)].sort().join(',');
    const cached = this.#byRoles.get(key);
    if (cached !== undefined) return cached;
    const moduleRoles = new Set<string>();
    for (const name of user.userRoles) {
      for (const role of this.#model.security.userRoles.get(name)?.moduleRoles ?? []) moduleRoles.add(role);
    }
    const entities = new Map<string, EntityRules>();
    const access: UserAccess = {
      key: `roles:${key}`,
      entity: (name) => {
        let rules = entities.get(name);
        if (rules === undefined) {
          const entity = this.#model.entities.get(name);
          const applicable = (entity?.accessRules ?? []).filter((r) =>
            r.roles.some((role) => moduleRoles.has(role)),
          );
          rules = buildRules(name, applicable);
          entities.set(name, rules);
        }
        return rules;
      },
    };
    this.#byRoles.set(key, access);
    return access;
  }
}
