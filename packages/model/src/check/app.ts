/** The app file: user roles, anonymous access, password policy, demo users, settings, navigation. */
import { ModelErrorCode } from '../errors.js';
import type {
  DemoUser,
  MenuItem,
  Navigation,
  NavigationTarget,
  PasswordPolicy,
  Security,
  Settings,
  UserRole,
} from '../compiled/types.js';
import type { RawMenuItem, RawNavigationTarget } from '../raw.js';
import type { MxValue } from '../languages.js';
import { at, type Loc } from './diagnostics.js';
import { entries, type Context } from './context.js';
import { didYouMean } from './spelling.js';
import { readLiteral } from './values.js';

/** Attributes of a user object that the runtime sets itself. */
const RUNTIME_USER_ATTRIBUTES = new Set(['Name', 'Password']);

/** What the app file compiles to. */
export interface AppParts {
  readonly app: { readonly name: string; readonly version: string; readonly documentation: string };
  readonly security: Security;
  readonly settings: Settings;
  readonly navigation: Navigation;
}

/** The module role every user role has, as in Mendix. */
const SYSTEM_USER_ROLE = 'System.User';

/** Checks whether a password satisfies a policy; returns the first rule it breaks. */
export function passwordProblem(password: string, policy: PasswordPolicy): string | undefined {
  if (password.length < policy.minLength) return `is shorter than ${policy.minLength} characters`;
  if (policy.requireDigit && !/\d/.test(password)) return 'has no digit';
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) return 'has no uppercase letter';
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) return 'has no lowercase letter';
  if (policy.requireSymbol && !/[^\p{L}\p{N}]/u.test(password)) return 'has no symbol';
  return undefined;
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Compiles the app file (or the defaults when there is none). */
export function compileApp(ctx: Context): AppParts {
  const raw = ctx.app?.raw;
  const loc: Loc | undefined = ctx.app?.loc;
  const security = raw?.security;
  const userRoles = new Map<string, UserRole>();
  for (const [name, role] of entries(security?.userRoles)) {
    const roleLoc = at(loc as Loc, 'security', 'userRoles', name);
    const moduleRoles = ctx.resolveModuleRoles(role.moduleRoles, undefined, at(roleLoc, 'moduleRoles'));
    if (!moduleRoles.includes(SYSTEM_USER_ROLE)) moduleRoles.push(SYSTEM_USER_ROLE);
    const manageable: string[] = [];
    (role.manageableRoles ?? []).forEach((other, i) => {
      if (ctx.resolveUserRole(other, at(roleLoc, 'manageableRoles', i)) !== undefined) manageable.push(other);
    });
    userRoles.set(name, {
      name,
      moduleRoles,
      manageableRoles: manageable,
      documentation: role.documentation ?? '',
    });
  }
  let anonymous: Security['anonymous'] = { enabled: false };
  if (security?.anonymous?.enabled === true) {
    const anonLoc = at(loc as Loc, 'security', 'anonymous');
    const role = security.anonymous.userRole;
    if (role === undefined) {
      ctx.diag.error(
        anonLoc,
        ModelErrorCode.InvalidApp,
        'Anonymous users need a user role.',
        'Add userRole: <role> under anonymous.',
        'key',
      );
    } else if (ctx.resolveUserRole(role, at(anonLoc, 'userRole')) !== undefined) {
      anonymous = { enabled: true, userRole: role };
    }
  }
  const policyRaw = security?.passwordPolicy;
  const passwordPolicy: PasswordPolicy = {
    minLength: policyRaw?.minLength ?? 1,
    requireDigit: policyRaw?.requireDigit ?? false,
    requireUppercase: policyRaw?.requireUppercase ?? false,
    requireLowercase: policyRaw?.requireLowercase ?? false,
    requireSymbol: policyRaw?.requireSymbol ?? false,
  };
  const demoUsers: DemoUser[] = [];
  for (const [name, user] of entries(security?.demoUsers)) {
    const userLoc = at(loc as Loc, 'security', 'demoUsers', name);
    const roles: string[] = [];
    user.roles.forEach((role, i) => {
      if (ctx.resolveUserRole(role, at(userLoc, 'roles', i)) !== undefined) roles.push(role);
    });
    let entity = 'System.User';
    if (user.entity !== undefined) {
      const resolved = ctx.resolve('entities', user.entity, undefined, at(userLoc, 'entity'));
      const info = resolved === undefined ? undefined : ctx.entities.get(resolved);
      if (
        info !== undefined &&
        info.name !== 'System.User' &&
        !info.generalizations.includes('System.User')
      ) {
        ctx.diag.error(
          at(userLoc, 'entity'),
          ModelErrorCode.InvalidApp,
          `${info.name} does not specialise System.User.`,
          'A user object must be a System.User.',
        );
      } else if (info !== undefined) {
        entity = info.name;
      }
    }
    const problem = passwordProblem(user.password, passwordPolicy);
    if (problem !== undefined) {
      ctx.diag.error(
        at(userLoc, 'password'),
        ModelErrorCode.InvalidApp,
        `The password of demo user '${name}' ${problem}, against the password policy.`,
        'Choose a password the policy accepts.',
      );
    }
    const attributes = new Map<string, MxValue>();
    const userEntity = ctx.entities.get(entity);
    for (const [attributeName, rawValue] of entries(user.attributes)) {
      const attrLoc = at(userLoc, 'attributes', attributeName);
      const attribute = userEntity?.allAttributes.get(attributeName);
      if (userEntity === undefined) continue;
      if (attribute === undefined) {
        ctx.diag.error(
          attrLoc,
          ModelErrorCode.UnknownAttribute,
          `${entity} has no attribute '${attributeName}'.`,
          didYouMean(attributeName, userEntity.allAttributes.keys()),
        );
        continue;
      }
      if (RUNTIME_USER_ATTRIBUTES.has(attributeName) || attribute.system || attribute.kind === 'AutoNumber') {
        ctx.diag.error(
          attrLoc,
          ModelErrorCode.InvalidApp,
          `'${attributeName}' of a demo user is set by the runtime.`,
          'Give the name as the key of the demo user and the password as its password.',
        );
        continue;
      }
      const values =
        attribute.enumeration === undefined
          ? undefined
          : ctx.enumerations.get(attribute.enumeration)?.values.map((v) => v.key);
      const read = readLiteral(attribute.kind, rawValue, attrLoc.file.scalarSource(attrLoc.path), values);
      if (!read.ok || read.currentDateTime === true) {
        ctx.diag.error(
          attrLoc,
          ModelErrorCode.InvalidValue,
          read.ok ? 'A demo user attribute needs a fixed value.' : read.message,
          read.ok ? 'Write the date itself.' : read.hint,
        );
        continue;
      }
      attributes.set(attributeName, read.value);
    }
    demoUsers.push({ name, password: user.password, userRoles: roles, entity, attributes });
  }
  const settingsRaw = raw?.settings;
  const settingsLoc = loc === undefined ? undefined : at(loc, 'settings');
  const startupMicroflow = (key: 'afterStartup' | 'beforeShutdown'): string | undefined => {
    const ref = settingsRaw?.[key];
    if (ref === undefined || settingsLoc === undefined) return undefined;
    const microflow = ctx.resolve('microflows', ref, undefined, at(settingsLoc, key));
    const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
    if (signature === undefined) return undefined;
    if (signature.parameters.length > 0) {
      ctx.diag.error(
        at(settingsLoc, key),
        ModelErrorCode.InvalidArguments,
        `The ${key} microflow ${microflow ?? ''} must have no parameters.`,
        '',
      );
    }
    if (signature.returnType.kind !== 'Void' && signature.returnType.kind !== 'Boolean') {
      ctx.diag.error(
        at(settingsLoc, key),
        ModelErrorCode.TypeMismatch,
        `The ${key} microflow ${microflow ?? ''} must return nothing or a Boolean.`,
        '',
      );
    }
    return microflow;
  };
  const defaultTimeZone = settingsRaw?.defaultTimeZone ?? 'UTC';
  if (!validTimeZone(defaultTimeZone) && settingsLoc !== undefined) {
    ctx.diag.error(
      at(settingsLoc, 'defaultTimeZone'),
      ModelErrorCode.InvalidApp,
      `'${defaultTimeZone}' is not a time zone.`,
      'Use an IANA name like Europe/Amsterdam or UTC.',
    );
  }
  const settings: Settings = {
    sessionTimeoutMs: settingsRaw?.sessionTimeoutMs ?? 600_000,
    roundingMode: settingsRaw?.roundingMode ?? 'HalfAwayFromZero',
    defaultTimeZone,
    afterStartup: startupMicroflow('afterStartup'),
    beforeShutdown: startupMicroflow('beforeShutdown'),
    maxFailedLogins: settingsRaw?.maxFailedLogins ?? 3,
    blockedUserTimeoutMs: settingsRaw?.blockedUserTimeoutMs ?? 300_000,
  };
  const navigation = compileNavigation(ctx, userRoles, loc);
  return {
    app: {
      name: raw?.app ?? 'App',
      version: raw?.version ?? '0.0.0',
      documentation: raw?.documentation ?? '',
    },
    security: { level: security?.level ?? 'production', userRoles, anonymous, passwordPolicy, demoUsers },
    settings,
    navigation,
  };
}

function compileNavigation(
  ctx: Context,
  userRoles: ReadonlyMap<string, UserRole>,
  loc: Loc | undefined,
): Navigation {
  const raw = ctx.app?.raw.navigation;
  if (raw === undefined || loc === undefined)
    return { homePage: undefined, roleHomePages: new Map(), menu: [] };
  const navLoc = at(loc, 'navigation');
  const target = (value: RawNavigationTarget, where: Loc): NavigationTarget | undefined => {
    if (typeof value === 'string' || 'page' in value) {
      const ref = typeof value === 'string' ? value : value.page;
      const page = ctx.resolve(
        'pages',
        ref,
        undefined,
        typeof value === 'string' ? where : at(where, 'page'),
      );
      if (page === undefined) return undefined;
      if ((ctx.pageParameters.get(page) ?? []).length > 0) {
        ctx.diag.error(
          where,
          ModelErrorCode.InvalidArguments,
          `Page ${page} has parameters; navigation can only open pages without.`,
          'Open it from a button or microflow that has the object.',
        );
        return undefined;
      }
      return { kind: 'page', page };
    }
    const microflow = ctx.resolve('microflows', value.microflow, undefined, at(where, 'microflow'));
    if (microflow === undefined) return undefined;
    if ((ctx.microflowSignatures.get(microflow)?.parameters.length ?? 0) > 0) {
      ctx.diag.error(
        at(where, 'microflow'),
        ModelErrorCode.InvalidArguments,
        `Microflow ${microflow} has parameters; navigation passes none.`,
        '',
      );
      return undefined;
    }
    return { kind: 'microflow', microflow };
  };
  const allowedFor = (t: NavigationTarget): string[] => {
    const allowed =
      t.kind === 'page'
        ? (ctx.elements.pages.get(t.page)?.raw.allowedRoles ?? []).map((r) =>
            ctx.qualify(r, t.page.split('.')[0]),
          )
        : (ctx.elements.microflows.get(t.microflow)?.raw.allowedRoles ?? []).map((r) =>
            ctx.qualify(r, t.microflow.split('.')[0]),
          );
    return [...userRoles.values()]
      .filter((role) => role.moduleRoles.some((m) => allowed.includes(m)))
      .map((role) => role.name);
  };
  const homePage = raw.homePage === undefined ? undefined : target(raw.homePage, at(navLoc, 'homePage'));
  const roleHomePages = new Map<string, NavigationTarget>();
  for (const [role, value] of entries(raw.roleHomePages)) {
    const where = at(navLoc, 'roleHomePages', role);
    if (ctx.resolveUserRole(role, where) === undefined) continue;
    const t = target(value, where);
    if (t !== undefined) roleHomePages.set(role, t);
  }
  const items = (list: readonly RawMenuItem[] | undefined, where: Loc): MenuItem[] =>
    (list ?? []).flatMap((item, i) => {
      const itemLoc = at(where, i);
      const given = [item.page, item.microflow, item.items].filter((x) => x !== undefined).length;
      if (given !== 1) {
        ctx.diag.error(
          itemLoc,
          ModelErrorCode.InvalidApp,
          'A menu item opens a page, calls a microflow, or holds items: exactly one of them.',
          '',
          'key',
        );
        return [];
      }
      const children = items(item.items, at(itemLoc, 'items'));
      const t =
        item.page !== undefined
          ? target({ page: item.page }, itemLoc)
          : item.microflow !== undefined
            ? target({ microflow: item.microflow }, itemLoc)
            : undefined;
      if (item.items === undefined && t === undefined) return [];
      const explicit: string[] = [];
      (item.roles ?? []).forEach((role, r) => {
        if (ctx.resolveUserRole(role, at(itemLoc, 'roles', r)) !== undefined) explicit.push(role);
      });
      const roles =
        item.roles !== undefined
          ? explicit
          : t !== undefined
            ? allowedFor(t)
            : [...new Set(children.flatMap((c) => c.roles))];
      return [{ caption: item.caption, target: t, roles, items: children }];
    });
  return { homePage, roleHomePages, menu: items(raw.menu, at(navLoc, 'menu')) };
}
