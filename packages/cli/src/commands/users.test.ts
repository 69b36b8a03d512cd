import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busNames, connectNats, type Bus } from '@runplane/bus';
import { loadModelOrThrow } from '@runplane/model';
import { openDatabase } from '@runplane/persistence';
import { session } from '@runplane/proto';
import { main } from '../main.js';
import { memoryIo } from '../testing.js';

const ADMIN_URL = process.env.RUNPLANE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.RUNPLANE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const orders = fileURLToPath(new URL('../../../../examples/orders', import.meta.url));

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// Each run opens the database, checks its schema and connects to NATS: slower than vitest's default.
describe('runplane users', { timeout: 30_000 }, () => {
  const dbName = `cli_users_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const namespace = `cli-${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const db = ['--model', orders, '--database-url', url.toString()];
  let bus: Bus;
  const events: session.SessionEvent[] = [];
  let saved: Record<string, string | undefined>;

  beforeAll(async () => {
    await admin(`CREATE DATABASE "${dbName}"`);
    const database = await openDatabase(await loadModelOrThrow(orders), {
      kind: 'postgres',
      url: url.toString(),
    });
    await database.close();
    saved = { ns: process.env.RUNPLANE_NATS_NAMESPACE, nats: process.env.RUNPLANE_NATS_URL };
    process.env.RUNPLANE_NATS_NAMESPACE = namespace;
    process.env.RUNPLANE_NATS_URL = NATS_URL;
    bus = await connectNats({ servers: NATS_URL, name: 'cli-users-test' });
    await bus.subscribe(busNames(namespace).subjects.sessionEvents, (m) => {
      events.push(session.SessionEvent.decode(m.data));
    });
  }, 60_000);

  afterAll(async () => {
    process.env.RUNPLANE_NATS_NAMESPACE = saved.ns;
    process.env.RUNPLANE_NATS_URL = saved.nats;
    await bus.close();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  async function run(
    args: readonly string[],
    stdin: readonly string[] = [],
  ): Promise<{ code: number; out: string; err: string }> {
    const io = memoryIo(stdin);
    const code = await main([...args], io);
    return { code, out: io.stdout(), err: io.stderr() };
  }

  it('adds a user with the password from standard input and lists it', async () => {
    const added = await run(['users', 'add', 'olivia', '--role', 'Sales', ...db], ['Password1!']);
    expect(added).toMatchObject({ code: 0, out: 'Added olivia (System.User) with roles Sales.\n' });
    const list = await run(['users', 'list', ...db]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^NAME\s+ROLES\s+ENTITY\s+STATE\s+LAST LOGIN\n/);
    expect(list.out).toMatch(/\nolivia\s+Sales\s+System\.User\s+active\s+never\n/);
    expect(list.out).not.toContain('Password1!');
  });

  it('refuses a password the policy does not accept, naming the rule', async () => {
    const res = await run(['users', 'add', 'weak', '--role', 'Sales', ...db], ['password']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^PASSWORD_POLICY: The password has no digit\./);
  });

  it('blocks and unblocks a user, and announces the block to the gateways', async () => {
    await run(['users', 'add', 'pete', '--role', 'Sales', ...db], ['Password1!']);
    const before = events.length;
    expect(await run(['users', 'block', 'pete', ...db])).toMatchObject({
      code: 0,
      out: 'Blocked pete; their sessions have ended.\n',
    });
    expect((await run(['users', 'list', ...db])).out).toMatch(/\npete\s+Sales\s+System\.User\s+blocked\s/);
    await expect.poll(() => events.slice(before).map((e) => e.kind)).toEqual(['user-blocked']);
    expect((await run(['users', 'unblock', 'pete', ...db])).code).toBe(0);
    expect((await run(['users', 'list', ...db])).out).toMatch(/\npete\s+Sales\s+System\.User\s+active\s/);
  });

  it('sets a password and roles', async () => {
    await run(['users', 'add', 'quinn', '--role', 'Sales', ...db], ['Password1!']);
    expect((await run(['users', 'set-password', 'quinn', ...db], ['Another2?'])).code).toBe(0);
    expect(
      await run(['users', 'set-roles', 'quinn', '--role', 'Administrator', '--role', 'Sales', ...db]),
    ).toMatchObject({
      code: 0,
      out: 'quinn now has the roles Administrator, Sales.\n',
    });
    expect((await run(['users', 'list', ...db])).out).toMatch(/\nquinn\s+Administrator, Sales\s/);
  });

  it('answers a bad command line with the usage and exit code 2, and an unknown user with 1', async () => {
    expect((await run(['users'])).code).toBe(2);
    expect((await run(['users', 'frobnicate'])).code).toBe(2);
    expect((await run(['users', 'add', 'x', ...db], ['Password1!'])).err).toMatch(
      /needs at least one --role/,
    );
    const missing = await run(['users', 'block', 'nobody', ...db]);
    expect(missing).toMatchObject({ code: 1, err: "USER_NOT_FOUND: There is no user named 'nobody'.\n" });
  });
});
