import { describe, expect, it } from 'vitest';
import type { Decimal } from '../languages.js';
import { loadErrors, loadValid, where } from '../testing/helpers.js';
import { passwordProblem } from './app.js';

const MODULE = `module: Shop
moduleRoles: [User, Admin]
entities:
  Customer:
    generalization: System.User
    attributes: { Email: { type: String, length: 200 }, Vip: Boolean, Credit: Decimal }
  Product: {}
microflows:
  Start:
    start: done
    nodes: { done: { kind: end } }
pages:
  Home: { allowedRoles: [User], widgets: [] }
  Admin: { allowedRoles: [Admin], widgets: [] }
  Detail: { parameters: { Product: Product }, widgets: [] }
`;

describe('the app file', () => {
  it('compiles user roles, anonymous access, the password policy, demo users, settings and navigation', () => {
    const model = loadValid({
      'Shop.yaml': MODULE,
      'app.yaml': `app: Shop
version: 2.1.0
security:
  userRoles:
    Customer: { moduleRoles: [Shop.User] }
    Boss: { moduleRoles: [Shop.User, Shop.Admin], manageableRoles: [Customer] }
  anonymous: { enabled: true, userRole: Customer }
  passwordPolicy: { minLength: 8, requireDigit: true }
  demoUsers:
    alice:
      password: secret123
      roles: [Customer]
      entity: Shop.Customer
      attributes: { Email: alice@example.com, Vip: true, Credit: 12.50 }
settings:
  afterStartup: Shop.Start
  roundingMode: HalfEven
navigation:
  homePage: Shop.Home
  roleHomePages: { Boss: { page: Shop.Admin } }
  menu:
    - { caption: Home, page: Shop.Home }
    - { caption: Admin, page: Shop.Admin }
`,
    });
    expect(model.app).toEqual({ name: 'Shop', version: '2.1.0', documentation: '' });
    expect(model.security.level).toBe('production');
    expect(model.security.userRoles.get('Boss')?.moduleRoles).toEqual([
      'Shop.User',
      'Shop.Admin',
      'System.User',
    ]);
    expect(model.security.anonymous).toEqual({ enabled: true, userRole: 'Customer' });
    const [alice] = model.security.demoUsers;
    expect(alice).toMatchObject({
      name: 'alice',
      password: 'secret123',
      userRoles: ['Customer'],
      entity: 'Shop.Customer',
    });
    expect(alice?.attributes.get('Email')).toBe('alice@example.com');
    expect(alice?.attributes.get('Vip')).toBe(true);
    expect((alice?.attributes.get('Credit') as Decimal | undefined)?.toString()).toBe('12.5');
    expect(model.settings).toEqual({
      sessionTimeoutMs: 600000,
      roundingMode: 'HalfEven',
      defaultTimeZone: 'UTC',
      afterStartup: 'Shop.Start',
      beforeShutdown: undefined,
      maxFailedLogins: 3,
      blockedUserTimeoutMs: 300000,
    });
    expect(model.navigation.homePage).toEqual({ kind: 'page', page: 'Shop.Home' });
    expect(model.navigation.roleHomePages.get('Boss')).toEqual({ kind: 'page', page: 'Shop.Admin' });
    expect(model.navigation.menu.map((m) => [m.caption, m.roles])).toEqual([
      ['Home', ['Customer', 'Boss']],
      ['Admin', ['Boss']],
    ]);
    expect(model.schema.userRole('Boss')).toBe(true);
  });

  it('reports unknown module roles, user roles and pages, a demo user against the password policy, and a page with parameters in the menu', () => {
    const text = `app: Shop
security:
  userRoles:
    Customer: { moduleRoles: [Shop.Usr] }
  passwordPolicy: { minLength: 12 }
  demoUsers:
    bob: { password: short, roles: [Custmer] }
navigation:
  homePage: Shop.Hom
  menu:
    - { caption: Detail, page: Shop.Detail }
`;
    const errors = loadErrors({ 'Shop.yaml': MODULE, 'app.yaml': text });
    expect(errors.map((e) => [e.code, e.path, e.line, e.column])).toEqual([
      [
        'MODEL_UNKNOWN_MODULE_ROLE',
        'app/security/userRoles/Customer/moduleRoles/0',
        ...Object.values(where(text, 'Shop.Usr')),
      ],
      ['MODEL_INVALID_APP', 'app/security/demoUsers/bob/password', ...Object.values(where(text, 'short'))],
      [
        'MODEL_UNKNOWN_USER_ROLE',
        'app/security/demoUsers/bob/roles/0',
        ...Object.values(where(text, 'Custmer')),
      ],
      ['MODEL_UNKNOWN_PAGE', 'app/navigation/homePage', ...Object.values(where(text, 'Shop.Hom'))],
      [
        'MODEL_INVALID_ARGUMENTS',
        'app/navigation/menu/0',
        ...Object.values(where(text, '{ caption: Detail')),
      ],
    ]);
    expect(errors[2]?.hint).toContain('Customer');
  });

  it('reports demo user attributes that the entity lacks, that the runtime sets, or whose value does not fit', () => {
    const text = `app: Shop
security:
  userRoles:
    Customer: { moduleRoles: [Shop.User] }
  demoUsers:
    carol:
      password: secret123
      roles: [Customer]
      entity: Shop.Customer
      attributes: { Emial: x, Name: carol, Vip: maybe }
`;
    const errors = loadErrors({ 'Shop.yaml': MODULE, 'app.yaml': text });
    expect(errors.map((e) => [e.code, e.path, e.line, e.column])).toEqual([
      [
        'MODEL_UNKNOWN_ATTRIBUTE',
        'app/security/demoUsers/carol/attributes/Emial',
        ...Object.values(where(text, 'x, Name')),
      ],
      [
        'MODEL_INVALID_APP',
        'app/security/demoUsers/carol/attributes/Name',
        ...Object.values(where(text, 'carol, Vip')),
      ],
      [
        'MODEL_INVALID_VALUE',
        'app/security/demoUsers/carol/attributes/Vip',
        ...Object.values(where(text, 'maybe')),
      ],
    ]);
    expect(errors[0]?.hint).toContain('Email');
  });

  it('reports a second app file and anonymous access without a role', () => {
    const errors = loadErrors({
      'a.yaml': 'app: One\nsecurity:\n  anonymous: { enabled: true }\n',
      'b.yaml': 'app: Two\n',
    });
    expect(errors.map((e) => [e.code, e.file, e.path])).toEqual([
      ['MODEL_INVALID_APP', 'a.yaml', 'app/security/anonymous'],
      ['MODEL_INVALID_APP', 'b.yaml', 'app/app'],
    ]);
  });

  it('checks passwords against each rule of the policy', () => {
    const policy = {
      minLength: 8,
      requireDigit: true,
      requireUppercase: true,
      requireLowercase: true,
      requireSymbol: true,
    };
    expect(passwordProblem('Password1!', policy)).toBeUndefined();
    expect(passwordProblem('Pass1!', policy)).toContain('shorter');
    expect(passwordProblem('Password!', policy)).toContain('digit');
    expect(passwordProblem('password1!', policy)).toContain('uppercase');
    expect(passwordProblem('PASSWORD1!', policy)).toContain('lowercase');
    expect(passwordProblem('Password12', policy)).toContain('symbol');
  });
});
