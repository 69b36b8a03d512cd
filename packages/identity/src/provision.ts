import { createHash } from 'node:crypto';
import { UserError, asRunplaneError } from '@runplane/errors';
import type { CompiledModel } from '@runplane/model';
import { System, type IdentityContext } from './context.js';
import { SessionEventKind } from './events.js';
import { checkPasswordPolicy, generatePassword } from './policy.js';
import { checkUserName, type RoleSyncResult, type UserDirectory } from './users.js';

/** The first administrator to create when it does not exist. */
export interface AdministratorSettings {
  /** `RUNPLANE_ADMIN_USER`; default MxAdmin. */
  readonly name: string;
  /** `RUNPLANE_ADMIN_PASSWORD`; checked against the password policy. */
  readonly password: string | undefined;
  /** Without a password: generate a random one (standalone mode) instead of creating no administrator. */
  readonly generatePassword: boolean;
}

/** What start-up provisioning should do. */
export interface ProvisionSettings {
  readonly administrator: AdministratorSettings;
  /** Create the model's demo users (`RUNPLANE_DEMO_USERS`). */
  readonly demoUsers: boolean;
}

/** What start-up provisioning did. */
export interface ProvisionResult {
  /** True when another process had already provisioned this model version with these settings. */
  readonly alreadyDone: boolean;
  readonly roles: RoleSyncResult;
  readonly administrator:
    | { readonly outcome: 'created'; readonly name: string; readonly generatedPassword: string | undefined }
    | { readonly outcome: 'exists'; readonly name: string }
    | { readonly outcome: 'skipped'; readonly name: string; readonly reason: string };
  readonly demoUsers: {
    readonly created: readonly string[];
    readonly existing: readonly string[];
    readonly failed: readonly { readonly name: string; readonly code: string; readonly message: string }[];
  };
}

/**
 * The user role the first administrator gets: a role holding the System.Administrator
 * module role — the one named Administrator when there are several — or undefined.
 */
export function administratorRole(model: CompiledModel): string | undefined {
  const candidates = [...model.security.userRoles.values()].filter((r) =>
    r.moduleRoles.includes(System.AdministratorModuleRole),
  );
  return (candidates.find((r) => r.name === 'Administrator') ?? candidates[0])?.name;
}

const NOTHING_DONE: RoleSyncResult = { created: [], removed: [], affectedUserIds: [] };

/**
 * Start-up work of the session service, once per model version and settings across every
 * replica (an idempotency key claimed in the same transaction): syncs System.UserRole with
 * the model's user roles, creates the first administrator when it does not exist, and —
 * when asked — the model's demo users that do not exist. A demo user that cannot be
 * created (e.g. its entity's validation rules want attributes a demo user has no value
 * for) is reported and skipped; the others are still created.
 */
export async function provisionIdentity(
  ctx: IdentityContext,
  users: UserDirectory,
  settings: ProvisionSettings,
): Promise<ProvisionResult> {
  const admin = settings.administrator;
  checkUserName(admin.name);
  const generated =
    admin.password === undefined && admin.generatePassword
      ? generatePassword(ctx.model.security.passwordPolicy)
      : undefined;
  const password = admin.password ?? generated;
  if (password !== undefined) {
    try {
      checkPasswordPolicy(password, ctx.model.security.passwordPolicy);
    } catch (err) {
      const e = asRunplaneError(err);
      throw new UserError({
        code: e.code,
        status: e.status,
        message: `RUNPLANE_ADMIN_PASSWORD: ${e.message} The model's password policy applies to the administrator too.`,
        details: { ...e.details, variable: 'RUNPLANE_ADMIN_PASSWORD' },
      });
    }
  }
  // Hashing is slow: do it before the transaction, which holds the claim other replicas wait on.
  const adminHash = password === undefined ? undefined : await ctx.hasher.hash(password);
  const demo = settings.demoUsers ? ctx.model.security.demoUsers : [];
  const demoHashes = await Promise.all(demo.map((d) => ctx.hasher.hash(d.password)));
  const key = `identity.provision:${createHash('sha256')
    .update(JSON.stringify([ctx.model.version, admin.name, password !== undefined, settings.demoUsers]))
    .digest('hex')}`;

  const result = await ctx.transaction(async (uow): Promise<ProvisionResult> => {
    if (!(await uow.claimIdempotencyKey(key))) {
      return {
        alreadyDone: true,
        roles: NOTHING_DONE,
        administrator: { outcome: 'skipped', name: admin.name, reason: 'provisioned by another process' },
        demoUsers: { created: [], existing: [], failed: [] },
      };
    }
    const roles = await users.syncUserRoles(uow);

    let administrator: ProvisionResult['administrator'];
    const adminRole = administratorRole(ctx.model);
    if ((await users.findByName(uow, admin.name)) !== undefined) {
      administrator = { outcome: 'exists', name: admin.name };
    } else if (adminRole === undefined) {
      administrator = {
        outcome: 'skipped',
        name: admin.name,
        reason: 'the model has no user role with the System.Administrator module role',
      };
    } else if (adminHash === undefined) {
      administrator = { outcome: 'skipped', name: admin.name, reason: 'RUNPLANE_ADMIN_PASSWORD is not set' };
    } else {
      await users.create(uow, {
        name: admin.name,
        entity: System.User,
        roles: [adminRole],
        passwordHash: adminHash,
        webServiceUser: false,
        anonymous: false,
      });
      administrator = { outcome: 'created', name: admin.name, generatedPassword: generated };
    }

    const created: string[] = [];
    const existing: string[] = [];
    const failed: { name: string; code: string; message: string }[] = [];
    for (const [i, user] of demo.entries()) {
      if ((await users.findByName(uow, user.name)) !== undefined) {
        existing.push(user.name);
        continue;
      }
      const savepoint = await uow.savepoint();
      try {
        await users.create(uow, {
          name: user.name,
          entity: user.entity,
          roles: user.userRoles,
          passwordHash: demoHashes[i],
          webServiceUser: false,
          anonymous: false,
          attributes: user.attributes,
        });
        await savepoint.release();
        created.push(user.name);
      } catch (err) {
        await savepoint.rollback();
        const e = asRunplaneError(err);
        failed.push({ name: user.name, code: e.code, message: e.message });
      }
    }
    return { alreadyDone: false, roles, administrator, demoUsers: { created, existing, failed } };
  });
  if (result.roles.affectedUserIds.length > 0) {
    ctx.emit({
      kind: SessionEventKind.UserRolesChanged,
      sessionIdHashes: [],
      userIds: [...result.roles.affectedUserIds],
      all: false,
      atMs: ctx.clock(),
    });
  }
  return result;
}
