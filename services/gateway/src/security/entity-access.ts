import { ErrorStatus, UserError } from '@runplane/errors';
import type { AccessRule, CompiledModel } from '@runplane/model';

/**
 * The model's entity access, as far as the gateway checks it itself before a request goes on:
 * which rules apply to a user's roles, and whether any of them lets the user read a member or
 * delete objects at all. The executor applies the rules in full (row constraints included);
 * these checks only refuse early what no rule could allow. Nothing applies below the
 * production security level.
 */
export class EntityAccess {
  private readonly moduleRolesOf = new Map<string, ReadonlySet<string>>();

  constructor(private readonly model: CompiledModel) {}

  /** True when entity access applies at all. */
  get enforced(): boolean {
    return this.model.security.level === 'production';
  }

  /** The module roles of a set of user roles. */
  moduleRoles(userRoles: readonly string[]): ReadonlySet<string> {
    const key = [...userRoles].sort().join('\u0000');
    let roles = this.moduleRolesOf.get(key);
    if (roles === undefined) {
      const set = new Set<string>();
      for (const name of userRoles) {
        for (const role of this.model.security.userRoles.get(name)?.moduleRoles ?? []) set.add(role);
      }
      roles = set;
      this.moduleRolesOf.set(key, roles);
    }
    return roles;
  }

  /** The entity's own rules (rules are not inherited) that apply to the user's roles. */
  rules(entity: string, userRoles: readonly string[]): AccessRule[] {
    const roles = this.moduleRoles(userRoles);
    return (this.model.entities.get(entity)?.accessRules ?? []).filter((r) =>
      r.roles.some((role) => roles.has(role)),
    );
  }

  /** True when some rule of the user lets them read the member of the entity's objects. */
  mayRead(entity: string, member: string, userRoles: readonly string[]): boolean {
    if (!this.enforced) return true;
    return this.rules(entity, userRoles).some((r) => {
      const access = r.members.get(member) ?? r.defaultMemberAccess;
      return access === 'read' || access === 'readWrite';
    });
  }

  /** Throws 403 `ACCESS_DENIED` when no rule of the user lets them delete objects of the entity. */
  checkMayDelete(entity: string, userRoles: readonly string[]): void {
    if (!this.enforced || this.rules(entity, userRoles).some((r) => r.delete)) return;
    throw new UserError({
      code: 'ACCESS_DENIED',
      status: ErrorStatus.PermissionDenied,
      message: `You may not delete objects of ${entity}.`,
      details: { operation: 'delete', entity },
    });
  }
}
