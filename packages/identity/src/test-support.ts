/** Helpers for this package's tests: a database of each suite's own, models, table reads. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { loadModelFromFiles, loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { openDatabase, type RunplaneDatabase } from '@runplane/persistence';
import { createIdentity, type Identity } from './identity.js';
import type { IdentitySettings } from './context.js';
import { PasswordHasher } from './password.js';
import type { SessionEvent } from './events.js';

const ADMIN_URL = process.env.RUNPLANE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The example models. */
export const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

/** A small app: members, an admin role, anonymous guests, a strict password policy and a demo user. */
export function clubModel(
  options: { anonymous?: boolean; withGuest?: boolean; level?: string } = {},
): CompiledModel {
  const withGuest = options.withGuest ?? true;
  const anonymous = options.anonymous ?? true;
  const files = [
    {
      path: 'Club.yaml',
      text: `module: Club
moduleRoles: [Member, Admin]
entities:
  Member:
    generalization: System.User
    attributes:
      Nick: { type: String, length: 50 }
`,
    },
    {
      path: 'app.yaml',
      text: `app: Club
security:
  level: ${options.level ?? 'production'}
  userRoles:
    Member: { moduleRoles: [Club.Member] }
    Admin: { moduleRoles: [Club.Admin, System.Administrator] }
${withGuest ? '    Guest: { moduleRoles: [Club.Member] }\n' : ''}  anonymous: ${anonymous && withGuest ? '{ enabled: true, userRole: Guest }' : '{ enabled: false }'}
  passwordPolicy: { minLength: 8, requireDigit: true, requireUppercase: true, requireLowercase: true, requireSymbol: true }
  demoUsers:
    demo: { password: Demo-Pass1, roles: [Member], entity: Club.Member }
settings:
  defaultTimeZone: Europe/Amsterdam
`,
    },
  ];
  const result = loadModelFromFiles(files);
  if (!result.ok) throw new TypeError(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result.model;
}

/** An example model by folder name. */
export function exampleModel(name: 'orders' | 'helpdesk'): Promise<CompiledModel> {
  return loadModelOrThrow(join(EXAMPLES, name));
}

/** A PostgreSQL database of a suite's own, created now and dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  /** A plain connection, to read tables as they are stored. */
  readonly sql: pg.Client;
  open(model: CompiledModel): Promise<RunplaneDatabase>;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'identity'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = new pg.Client({ connectionString: url.toString() });
  await sql.connect();
  const opened: RunplaneDatabase[] = [];
  return {
    url: url.toString(),
    sql,
    async open(model) {
      const db = await openDatabase(model, { kind: 'postgres', url: url.toString(), poolSize: 4 });
      opened.push(db);
      return db;
    },
    async drop() {
      await Promise.all(opened.map((db) => db.close()));
      await sql.end();
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** An identity over a database, recording the events it emits; the clock can be moved. */
export interface TestIdentity extends Identity {
  readonly events: SessionEvent[];
  /** Moves the injected clock forward. */
  advance(ms: number): void;
}

/** A cheap scrypt cost for functional tests; the timing test uses the default. */
export const FAST_HASHER = new PasswordHasher({ log2N: 11, r: 8, p: 1 });

export function testIdentity(
  database: RunplaneDatabase,
  settings: Partial<IdentitySettings> = {},
  options: { readonly realClock?: boolean; readonly hasher?: PasswordHasher } = {},
): TestIdentity {
  const events: SessionEvent[] = [];
  let offsetMs = 0;
  const identity = createIdentity({
    database,
    settings,
    events: (e) => events.push(e),
    clock: options.realClock === true ? Date.now : () => Date.now() + offsetMs,
    passwordHasher: options.hasher ?? FAST_HASHER,
  });
  return {
    ...identity,
    events,
    advance(ms) {
      offsetMs += ms;
    },
  };
}

/** A user name no other test uses. */
export function uniqueUser(prefix = 'user'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
