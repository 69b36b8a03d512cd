import { ErrorStatus } from '@runplane/errors';
import type { MxValue } from '@runplane/expressions';
import type { MxObject, RunplaneUnitOfWork as UnitOfWork } from '@runplane/persistence';
import { System, count, flag, text, timeOf, type IdentityContext } from './context.js';
import { IdentityErrorCode, identityUserError } from './errors.js';
import { SessionEventKind } from './events.js';
import { setPasswordHash } from './password.js';
import { checkPasswordPolicy } from './policy.js';

/** A user as operators see it. Never carries the password. */
export interface UserSummary {
  readonly id: string;
  readonly name: string;
  /** System.User or the specialisation the user was created as. */
  readonly entity: string;
  readonly roles: readonly string[];
  readonly active: boolean;
  readonly blocked: boolean;
  /** When failed logins blocked the user; undefined for an operator's block (lifted only by unblock). */
  readonly blockedSinceMs: number | undefined;
  readonly failedLogins: number;
  readonly lastLoginMs: number | undefined;
  readonly anonymous: boolean;
  readonly webServiceUser: boolean;
}

/** A user to create. */
export interface NewUser {
  readonly name: string;
  readonly password: string;
  /** User roles as the model names them; at least one. */
  readonly roles: readonly string[];
  /** System.User (default) or a persistable specialisation of it, e.g. `Sales.Customer`. */
  readonly entity?: string;
  readonly webServiceUser?: boolean;
}

/** What a user-role sync did. */
export interface RoleSyncResult {
  readonly created: readonly string[];
  readonly removed: readonly string[];
  /** Users that lost a role because the model no longer declares it. */
  readonly affectedUserIds: readonly string[];
}

/** Prefix of the names of anonymous users (Mendix shows them as `Anonymous_<uuid>`). */
export const ANONYMOUS_NAME_PREFIX = 'Anonymous_';
const MAX_NAME_LENGTH = 100;

/** Checks a user name an operator gives: 1–100 characters, no control characters, no outer spaces. */
export function checkUserName(name: string): void {
  const problem =
    name.length === 0
      ? 'is empty'
      : name.length > MAX_NAME_LENGTH
        ? `is longer than ${MAX_NAME_LENGTH} characters`
        : name.trim() !== name
          ? 'starts or ends with a space'
          : /\p{Cc}/u.test(name)
            ? 'has control characters'
            : name.startsWith(ANONYMOUS_NAME_PREFIX)
              ? `starts with ${ANONYMOUS_NAME_PREFIX}, which is kept for anonymous users`
              : undefined;
  if (problem !== undefined) {
    throw identityUserError(
      IdentityErrorCode.InvalidUserName,
      `The user name ${problem}.`,
      ErrorStatus.InvalidArgument,
      {
        problem,
      },
    );
  }
}

/**
 * The users of an app (System.User and its specialisations) and their user roles
 * (System.UserRole objects kept in step with the model's roles). Everything runs in the
 * system context; changes that affect open sessions are told to the event sink.
 */
export class UserDirectory {
  /** System.UserRole object ids by role name and back; reloaded when an id is not known. */
  private roleIds = new Map<string, string>();
  private roleNamesById = new Map<string, string>();

  constructor(private readonly ctx: IdentityContext) {}

  /** The user with exactly this name, or undefined. */
  async findByName(uow: UnitOfWork, name: string): Promise<MxObject | undefined> {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) return undefined;
    const { objects } = await uow.retrieve({
      entity: System.User,
      xpath: '[Name = $name]',
      variables: new Map([['name', name]]),
      amount: 1,
    });
    return objects[0];
  }

  /** The names of a user's roles, as the model names them, sorted. */
  async roleNamesOf(uow: UnitOfWork, user: MxObject): Promise<string[]> {
    const ids = user.getReferenceSet(System.UserRoles);
    if (ids.some((id) => !this.roleNamesById.has(id))) await this.loadRoles(uow);
    const names: string[] = [];
    for (const id of ids) {
      const name = this.roleNamesById.get(id);
      if (name !== undefined && this.ctx.model.security.userRoles.has(name)) names.push(name);
    }
    return names.sort();
  }

  /** One user, by name; `USER_NOT_FOUND` when there is none. */
  async get(name: string): Promise<UserSummary> {
    return this.ctx.transaction(async (uow) => this.summary(uow, await this.require(uow, name)));
  }

  /** Every user that is not anonymous, sorted by name. */
  async list(): Promise<UserSummary[]> {
    return this.ctx.transaction(async (uow) => {
      const { objects } = await uow.retrieve({
        entity: System.User,
        xpath: '[IsAnonymous != true()]',
        sort: [{ attribute: 'Name', descending: false }],
      });
      const out: UserSummary[] = [];
      for (const user of objects) out.push(await this.summary(uow, user));
      return out;
    });
  }

  /**
   * Creates a user. Checks the name, the roles against the model, the entity (System.User
   * or a persistable specialisation) and the password against the password policy;
   * `USER_EXISTS` when the name is taken.
   */
  async add(user: NewUser): Promise<UserSummary> {
    checkUserName(user.name);
    this.checkRoles(user.roles, true);
    const entity = this.checkEntity(user.entity ?? System.User);
    checkPasswordPolicy(user.password, this.ctx.model.security.passwordPolicy);
    const passwordHash = await this.ctx.hasher.hash(user.password);
    return this.ctx.transaction(async (uow) => {
      const created = await this.create(uow, {
        name: user.name,
        entity,
        roles: user.roles,
        passwordHash,
        webServiceUser: user.webServiceUser ?? false,
        anonymous: false,
      });
      return this.summary(uow, created);
    });
  }

  /** Creates a user object and commits it, in the caller's unit of work. */
  async create(
    uow: UnitOfWork,
    user: {
      readonly name: string;
      readonly entity: string;
      readonly roles: readonly string[];
      /** Made by the hasher; the persistence package stores it as it is. */
      readonly passwordHash: string | undefined;
      readonly webServiceUser: boolean;
      readonly anonymous: boolean;
      /** Values of other attributes of the user object (a demo user's, from the model). */
      readonly attributes?: ReadonlyMap<string, MxValue>;
    },
  ): Promise<MxObject> {
    if ((await this.findByName(uow, user.name)) !== undefined) {
      throw identityUserError(
        IdentityErrorCode.UserExists,
        `A user named '${user.name}' already exists.`,
        ErrorStatus.Conflict,
        { name: user.name },
      );
    }
    const object = await uow.instantiate(user.entity);
    object.set('Name', user.name);
    if (user.passwordHash !== undefined) setPasswordHash(object, user.passwordHash);
    object.set('Active', true);
    object.set('Blocked', false);
    object.set('FailedLogins', 0n);
    object.set('WebServiceUser', user.webServiceUser);
    object.set('IsAnonymous', user.anonymous);
    for (const [attribute, value] of user.attributes ?? []) object.set(attribute, value);
    object.setReferenceSet(System.UserRoles, await this.roleIdsOf(uow, user.roles));
    await uow.commit([object]);
    return object;
  }

  /** Sets a user's password (checked against the policy) and ends the user's sessions. */
  async setPassword(name: string, password: string): Promise<void> {
    checkPasswordPolicy(password, this.ctx.model.security.passwordPolicy);
    const hash = await this.ctx.hasher.hash(password);
    const userId = await this.ctx.transaction(async (uow) => {
      const user = await this.require(uow, name);
      setPasswordHash(user, hash);
      await uow.commit([user]);
      await this.endSessionsOf(uow, user);
      return user.id;
    });
    this.ctx.emit(this.userEvent(SessionEventKind.UserChanged, userId));
  }

  /**
   * Blocks a user until an operator unblocks them (the leader duty lifts only blocks
   * caused by failed logins), and ends the user's sessions.
   */
  async block(name: string): Promise<void> {
    const userId = await this.ctx.transaction(async (uow) => {
      const user = await this.require(uow, name);
      user.set('Blocked', true);
      user.set('BlockedSince', null);
      await uow.commit([user]);
      await this.endSessionsOf(uow, user);
      return user.id;
    });
    this.ctx.emit(this.userEvent(SessionEventKind.UserBlocked, userId));
  }

  /** Unblocks a user and resets the failed-login count. */
  async unblock(name: string): Promise<void> {
    await this.ctx.transaction(async (uow) => {
      const user = await this.require(uow, name);
      user.set('Blocked', false);
      user.set('BlockedSince', null);
      user.set('FailedLogins', 0n);
      await uow.commit([user]);
    });
  }

  /** Replaces a user's roles (at least one, all declared by the model). */
  async setRoles(name: string, roles: readonly string[]): Promise<void> {
    this.checkRoles(roles, true);
    const userId = await this.ctx.transaction(async (uow) => {
      const user = await this.require(uow, name);
      user.setReferenceSet(System.UserRoles, await this.roleIdsOf(uow, roles));
      await uow.commit([user]);
      return user.id;
    });
    this.ctx.emit(this.userEvent(SessionEventKind.UserRolesChanged, userId));
  }

  /**
   * Keeps System.UserRole in step with the model. The schema migration adds the roles the
   * model declares (under the migration lock); this deletes the roles it no longer
   * declares — their users lose them — and folds duplicates of one name into one. Runs in
   * the caller's unit of work; `created` names roles the migration had not added.
   */
  async syncUserRoles(uow: UnitOfWork): Promise<RoleSyncResult> {
    const { objects } = await uow.retrieve({ entity: System.UserRole });
    const declared = this.ctx.model.security.userRoles;
    const kept = new Map<string, MxObject>();
    const doomed: MxObject[] = [];
    for (const role of objects) {
      const name = text(role, 'Name');
      if (declared.has(name) && !kept.has(name)) kept.set(name, role);
      else doomed.push(role);
    }
    const created: string[] = [];
    for (const [name, role] of declared) {
      if (kept.has(name)) continue;
      const object = await uow.instantiate(System.UserRole);
      object.set('Name', name);
      object.set('Description', role.documentation.slice(0, 1000));
      await uow.commit([object]);
      kept.set(name, object);
      created.push(name);
    }
    const affected = new Set<string>();
    for (const role of doomed) {
      const holders = await uow.retrieve({
        entity: System.User,
        xpath: '[System.UserRoles = $role]',
        variables: new Map([['role', role]]),
      });
      const keep = kept.get(text(role, 'Name'));
      for (const user of holders.objects) {
        // A duplicate of a declared role hands its users over to the one kept.
        const ids = user.getReferenceSet(System.UserRoles).filter((id) => id !== role.id);
        if (keep === undefined) affected.add(user.id);
        else if (!ids.includes(keep.id)) ids.push(keep.id);
        user.setReferenceSet(System.UserRoles, ids);
        await uow.commit([user]);
      }
    }
    if (doomed.length > 0) await uow.delete(doomed);
    this.setRoleMaps([...kept].map(([name, object]) => [name, object.id]));
    return {
      created,
      removed: [...new Set(doomed.map((r) => text(r, 'Name')).filter((n) => !declared.has(n)))],
      affectedUserIds: [...affected],
    };
  }

  /** Sessions of a user, deleted in the caller's unit of work; returns their id hashes. */
  async endSessionsOf(uow: UnitOfWork, user: MxObject): Promise<string[]> {
    const { objects } = await uow.retrieve({
      entity: System.Session,
      xpath: '[System.Session_User = $user]',
      variables: new Map([['user', user]]),
    });
    if (objects.length > 0) await uow.delete(objects);
    return objects.map((s) => text(s, 'SessionId'));
  }

  /** Throws `UNKNOWN_USER_ROLE` for roles the model does not declare. */
  checkRoles(roles: readonly string[], atLeastOne: boolean): void {
    if (atLeastOne && roles.length === 0) {
      throw identityUserError(IdentityErrorCode.UnknownUserRole, 'A user needs at least one user role.');
    }
    const unknown = roles.filter((r) => !this.ctx.model.security.userRoles.has(r));
    if (unknown.length > 0) {
      const known = [...this.ctx.model.security.userRoles.keys()].sort();
      throw identityUserError(
        IdentityErrorCode.UnknownUserRole,
        `The model has no user role ${unknown.map((r) => `'${r}'`).join(', ')}; it has ${known.join(', ')}.`,
        ErrorStatus.InvalidArgument,
        { unknown, known },
      );
    }
  }

  /** Returns the entity when it is System.User or a persistable specialisation; else `NOT_A_USER_ENTITY`. */
  checkEntity(entity: string): string {
    const info = this.ctx.model.entities.get(entity);
    const ok =
      info !== undefined &&
      info.persistable &&
      (info.name === System.User || info.generalizations.includes(System.User));
    if (!ok) {
      throw identityUserError(
        IdentityErrorCode.NotAUserEntity,
        `'${entity}' is not System.User or a persistable specialisation of it.`,
        ErrorStatus.InvalidArgument,
        { entity },
      );
    }
    return entity;
  }

  private async require(uow: UnitOfWork, name: string): Promise<MxObject> {
    const user = await this.findByName(uow, name);
    if (user === undefined) {
      throw identityUserError(
        IdentityErrorCode.UserNotFound,
        `There is no user named '${name}'.`,
        ErrorStatus.NotFound,
        { name },
      );
    }
    return user;
  }

  private async roleIdsOf(uow: UnitOfWork, roles: readonly string[]): Promise<string[]> {
    if (roles.some((r) => !this.roleIds.has(r))) await this.loadRoles(uow);
    // A role the model declares but the database lacks yet is created now.
    if (roles.some((r) => !this.roleIds.has(r))) await this.syncUserRoles(uow);
    const ids: string[] = [];
    for (const role of new Set(roles)) {
      const id = this.roleIds.get(role);
      if (id === undefined) {
        throw identityUserError(IdentityErrorCode.UnknownUserRole, `The model has no user role '${role}'.`);
      }
      ids.push(id);
    }
    return ids;
  }

  private async loadRoles(uow: UnitOfWork): Promise<void> {
    const { objects } = await uow.retrieve({ entity: System.UserRole });
    this.setRoleMaps(objects.map((r) => [text(r, 'Name'), r.id]));
  }

  private setRoleMaps(entries: readonly (readonly [string, string])[]): void {
    this.roleIds = new Map();
    this.roleNamesById = new Map();
    for (const [name, id] of entries) {
      if (!this.roleIds.has(name)) this.roleIds.set(name, id);
      this.roleNamesById.set(id, name);
    }
  }

  private async summary(uow: UnitOfWork, user: MxObject): Promise<UserSummary> {
    return {
      id: user.id,
      name: text(user, 'Name'),
      entity: user.entity,
      roles: await this.roleNamesOf(uow, user),
      active: flag(user, 'Active'),
      blocked: flag(user, 'Blocked'),
      blockedSinceMs: timeOf(user, 'BlockedSince'),
      failedLogins: count(user, 'FailedLogins'),
      lastLoginMs: timeOf(user, 'LastLogin'),
      anonymous: flag(user, 'IsAnonymous'),
      webServiceUser: flag(user, 'WebServiceUser'),
    };
  }

  private userEvent(kind: SessionEventKind, userId: string): Parameters<IdentityContext['emit']>[0] {
    return { kind, sessionIdHashes: [], userIds: [userId], all: false, atMs: this.ctx.clock() };
  }
}
