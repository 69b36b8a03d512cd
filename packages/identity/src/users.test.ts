import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunplaneDatabase } from '@runplane/persistence';
import { checkPasswordPolicy } from './policy.js';
import {
  clubModel,
  createTestDatabase,
  exampleModel,
  testIdentity,
  uniqueUser,
  type TestDatabase,
  type TestIdentity,
} from './test-support.js';

const PASSWORD = 'Right-Pass1';

describe('users on a real database', () => {
  let db: TestDatabase;
  let database: RunplaneDatabase;
  let identity: TestIdentity;

  beforeAll(async () => {
    db = await createTestDatabase('identity_users');
    database = await db.open(clubModel());
    identity = testIdentity(database);
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('operations', () => {
    it('adds a user of a specialised entity with its roles, never showing the password', async () => {
      const name = uniqueUser();
      const added = await identity.users.add({
        name,
        password: PASSWORD,
        roles: ['Member', 'Admin'],
        entity: 'Club.Member',
      });
      expect(added).toMatchObject({
        name,
        entity: 'Club.Member',
        roles: ['Admin', 'Member'],
        active: true,
        blocked: false,
        failedLogins: 0,
        anonymous: false,
      });
      expect(JSON.stringify(added)).not.toContain(PASSWORD);
      expect((await identity.users.list()).map((u) => u.name)).toContain(name);
      const { rows } = await db.sql.query<{ n: string }>(
        'SELECT count(*) AS n FROM "club$member" WHERE id = $1',
        [added.id],
      );
      expect(rows[0]?.n).toBe('1');
    });

    it.each([
      ['a weak password', { password: 'weak' }, 'PASSWORD_POLICY'],
      ['an unknown role', { roles: ['Wizard'] }, 'UNKNOWN_USER_ROLE'],
      ['no role at all', { roles: [] }, 'UNKNOWN_USER_ROLE'],
      ['an entity that is no user', { entity: 'System.Session' }, 'NOT_A_USER_ENTITY'],
      ['a name with outer spaces', { name: ' padded ' }, 'INVALID_USER_NAME'],
      ['the anonymous prefix', { name: 'Anonymous_x' }, 'INVALID_USER_NAME'],
      ['an empty name', { name: '' }, 'INVALID_USER_NAME'],
    ])('refuses to add a user with %s', async (_what, change, code) => {
      await expect(
        identity.users.add({ name: uniqueUser(), password: PASSWORD, roles: ['Member'], ...change }),
      ).rejects.toMatchObject({ code });
    });

    it('refuses a second user with a taken name', async () => {
      const name = uniqueUser();
      await identity.users.add({ name, password: PASSWORD, roles: ['Member'] });
      await expect(identity.users.add({ name, password: PASSWORD, roles: ['Member'] })).rejects.toMatchObject(
        {
          code: 'USER_EXISTS',
          status: 'conflict',
        },
      );
    });

    it('sets a password: the old one stops working, the new one works, open sessions end', async () => {
      const name = uniqueUser();
      await identity.users.add({ name, password: PASSWORD, roles: ['Member'] });
      const open = await identity.sessions.login(name, PASSWORD);
      await expect(identity.users.setPassword(name, 'short')).rejects.toMatchObject({
        code: 'PASSWORD_POLICY',
      });
      const before = identity.events.length;
      await identity.users.setPassword(name, 'Other-Pass2');
      await expect(identity.sessions.login(name, PASSWORD)).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
      await identity.sessions.login(name, 'Other-Pass2');
      await expect(identity.sessions.validate(open.sessionId)).rejects.toMatchObject({
        code: 'SESSION_INVALID',
      });
      expect(identity.events.slice(before)).toEqual([
        expect.objectContaining({ kind: 'user-changed', userIds: [open.user.userId] }),
      ]);
    });

    it('blocks a user: open sessions end, logins fail, the caches hear of it; unblock lets them in again', async () => {
      const name = uniqueUser();
      await identity.users.add({ name, password: PASSWORD, roles: ['Member'] });
      const open = await identity.sessions.login(name, PASSWORD);
      const before = identity.events.length;
      await identity.users.block(name);
      await expect(identity.sessions.validate(open.sessionId)).rejects.toMatchObject({
        code: 'SESSION_INVALID',
      });
      await expect(identity.sessions.login(name, PASSWORD)).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
      expect(identity.events.slice(before)).toEqual([
        expect.objectContaining({ kind: 'user-blocked', userIds: [open.user.userId] }),
      ]);
      await identity.users.unblock(name);
      await identity.sessions.login(name, PASSWORD);
    });

    it('changes roles: validations show the new ones and the caches hear of it', async () => {
      const name = uniqueUser();
      await identity.users.add({ name, password: PASSWORD, roles: ['Member'] });
      const open = await identity.sessions.login(name, PASSWORD);
      const before = identity.events.length;
      await identity.users.setRoles(name, ['Admin']);
      expect((await identity.sessions.validate(open.sessionId)).user.userRoles).toEqual(['Admin']);
      expect(identity.events.slice(before)).toEqual([
        expect.objectContaining({ kind: 'user-roles-changed', userIds: [open.user.userId] }),
      ]);
    });

    it('answers USER_NOT_FOUND for operations on a user that does not exist', async () => {
      for (const op of [
        () => identity.users.get('nobody'),
        () => identity.users.block('nobody'),
        () => identity.users.unblock('nobody'),
        () => identity.users.setPassword('nobody', 'Other-Pass2'),
        () => identity.users.setRoles('nobody', ['Member']),
      ]) {
        await expect(op()).rejects.toMatchObject({ code: 'USER_NOT_FOUND', status: 'not_found' });
      }
    });
  });
});

describe('start-up provisioning', () => {
  const dbs: TestDatabase[] = [];
  async function fresh(model = clubModel()): Promise<{ db: TestDatabase; database: RunplaneDatabase }> {
    const db = await createTestDatabase('identity_provision');
    dbs.push(db);
    return { db, database: await db.open(model) };
  }
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  it('creates the first administrator with the administrator role, once', async () => {
    const { database } = await fresh();
    const identity = testIdentity(database);
    const settings = {
      administrator: { name: 'MxAdmin', password: 'Admin-Pass1', generatePassword: false },
      demoUsers: false,
    };
    const first = await identity.provision(settings);
    expect(first.administrator).toEqual({
      outcome: 'created',
      name: 'MxAdmin',
      generatedPassword: undefined,
    });
    const admin = await identity.sessions.login('MxAdmin', 'Admin-Pass1');
    expect(admin.user.userRoles).toEqual(['Admin']);
    expect((await identity.provision(settings)).alreadyDone).toBe(true);
  });

  it('generates a password the policy accepts when none is set, hands it over once, and it works', async () => {
    const { database } = await fresh();
    const identity = testIdentity(database);
    const result = await identity.provision({
      administrator: { name: 'root', password: undefined, generatePassword: true },
      demoUsers: false,
    });
    expect(result.administrator.outcome).toBe('created');
    const generated =
      result.administrator.outcome === 'created' ? result.administrator.generatedPassword : undefined;
    expect(generated).toBeDefined();
    checkPasswordPolicy(generated ?? '', clubModel().security.passwordPolicy);
    await identity.sessions.login('root', generated ?? '');
    const again = testIdentity(database);
    const second = await again.provision({
      administrator: { name: 'root', password: undefined, generatePassword: true },
      demoUsers: false,
    });
    expect(JSON.stringify(second)).not.toContain(generated);
  });

  it('leaves an existing administrator and its password alone', async () => {
    const { database } = await fresh();
    const identity = testIdentity(database);
    await identity.users.add({ name: 'MxAdmin', password: 'Mine-Pass1', roles: ['Member'] });
    const result = await identity.provision({
      administrator: { name: 'MxAdmin', password: 'Admin-Pass1', generatePassword: false },
      demoUsers: false,
    });
    expect(result.administrator).toEqual({ outcome: 'exists', name: 'MxAdmin' });
    await identity.sessions.login('MxAdmin', 'Mine-Pass1');
  });

  it('creates no administrator without a password, and refuses one the policy does not accept', async () => {
    const { database } = await fresh();
    const identity = testIdentity(database);
    const result = await identity.provision({
      administrator: { name: 'MxAdmin', password: undefined, generatePassword: false },
      demoUsers: false,
    });
    expect(result.administrator).toMatchObject({
      outcome: 'skipped',
      reason: 'RUNPLANE_ADMIN_PASSWORD is not set',
    });
    await expect(
      identity.provision({
        administrator: { name: 'MxAdmin', password: 'weak', generatePassword: false },
        demoUsers: true,
      }),
    ).rejects.toMatchObject({
      code: 'PASSWORD_POLICY',
      message: expect.stringMatching(
        /^RUNPLANE_ADMIN_PASSWORD: The password is shorter than 8 characters\./,
      ) as unknown,
      details: { variable: 'RUNPLANE_ADMIN_PASSWORD' },
    });
  });

  it('creates the model’s demo users only when asked, with their entity and roles', async () => {
    const helpdesk = await exampleModel('helpdesk');
    const { database } = await fresh(helpdesk);
    const identity = testIdentity(database);
    const admin = { name: 'MxAdmin', password: 'admin-password-1', generatePassword: false };
    const without = await identity.provision({ administrator: admin, demoUsers: false });
    expect(without.demoUsers.created).toEqual([]);
    await expect(identity.sessions.login('ann', 'agent-password-1')).rejects.toMatchObject({
      code: 'LOGIN_FAILED',
    });
    const withDemo = await identity.provision({ administrator: admin, demoUsers: true });
    expect(withDemo.demoUsers).toEqual({ created: ['ann', 'max'], existing: [], failed: [] });
    const ann = await identity.sessions.login('ann', 'agent-password-1');
    expect(ann.user.userRoles).toEqual(['Agent']);
    expect((await identity.users.get('max')).entity).toBe('Helpdesk.Agent');
  });

  it('deletes user roles the model no longer declares and tells the caches whose roles changed', async () => {
    const { db, database } = await fresh(clubModel({ withGuest: true }));
    const before = testIdentity(database);
    await before.users.add({ name: 'guesty', password: PASSWORD, roles: ['Guest', 'Member'] });
    await before.users.add({ name: 'onlyguest', password: PASSWORD, roles: ['Guest'] });
    const after = testIdentity(await db.open(clubModel({ withGuest: false })));
    const result = await after.provision({
      administrator: { name: 'MxAdmin', password: undefined, generatePassword: false },
      demoUsers: false,
    });
    expect(result.roles.removed).toEqual(['Guest']);
    expect(result.roles.affectedUserIds).toHaveLength(2);
    expect((await after.users.get('guesty')).roles).toEqual(['Member']);
    expect((await after.users.get('onlyguest')).roles).toEqual([]);
    expect(after.events.map((e) => [e.kind, [...e.userIds].sort()])).toEqual([
      ['user-roles-changed', [...result.roles.affectedUserIds].sort()],
    ]);
    const { rows } = await db.sql.query<{ name: string }>('SELECT name FROM "system$userrole" ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['Admin', 'Member']);
  });

  it('provisions once when two replicas start at the same moment', async () => {
    const { db } = await fresh();
    const [a, b] = [testIdentity(await db.open(clubModel())), testIdentity(await db.open(clubModel()))];
    const settings = {
      administrator: { name: 'MxAdmin', password: 'Admin-Pass1', generatePassword: false },
      demoUsers: true,
    };
    const results = await Promise.all([a.provision(settings), b.provision(settings)]);
    expect(results.map((r) => r.alreadyDone).sort()).toEqual([false, true]);
    const users = await db.sql.query<{ name: string }>('SELECT name FROM "system$user" ORDER BY name');
    expect(users.rows.map((r) => r.name)).toEqual(['MxAdmin', 'demo']);
    const roles = await db.sql.query<{ name: string }>('SELECT name FROM "system$userrole" ORDER BY name');
    expect(roles.rows.map((r) => r.name)).toEqual(['Admin', 'Guest', 'Member']);
  });
});
