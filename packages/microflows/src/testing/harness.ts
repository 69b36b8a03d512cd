/**
 * Helpers for the package's tests: models from in-memory YAML, a PostgreSQL database per
 * suite (dropped afterwards), an engine whose log lines are kept, and one-shot runs.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { toStringValue, type MxValue } from '@runplane/expressions';
import { loadModelFromFiles, type CompiledModel } from '@runplane/model';
import {
  openDatabase,
  SYSTEM_CONTEXT,
  type Database,
  type UnitOfWork,
  type UserContext,
} from '@runplane/persistence';
import { createLogger, type Logger } from '@runplane/telemetry';
import { createMicroflowEngine, type MicroflowEngine } from '../engine.js';
import type { ClientInstruction, MicroflowEngineOptions, MicroflowUser } from '../types.js';

/** The server the suites make their databases on. */
export const ADMIN_DATABASE_URL =
  process.env['RUNPLANE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const APP = `app: Test
version: 1.0.0
security:
  level: production
  userRoles:
    Admin: { moduleRoles: [App.Admin] }
    Clerk: { moduleRoles: [App.Clerk] }
`;

/** A model from module files (path → YAML); an app file with roles Admin and Clerk is added unless given. */
export function testModel(files: Readonly<Record<string, string>>): CompiledModel {
  const all = { 'app.yaml': APP, ...files };
  const result = loadModelFromFiles(Object.entries(all).map(([path, text]) => ({ path, text })));
  if (!result.ok) {
    throw new TypeError(
      `invalid test model:\n${result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path} ${e.code} ${e.message}`).join('\n')}`,
    );
  }
  return result.model;
}

/** A database of its own for a suite. */
export interface TestDatabase {
  readonly db: Database;
  readonly name: string;
  drop(): Promise<void>;
}

function urlWithDatabase(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Opens (creates and migrates) a fresh database for `model`. */
export async function testDatabase(model: CompiledModel, suite: string): Promise<TestDatabase> {
  const name = `mf_${suite}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const db = await openDatabase(model, { kind: 'postgres', url: urlWithDatabase(name), poolSize: 4 });
  return {
    db,
    name,
    async drop() {
      await db.close();
      const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A logger whose JSON lines are kept in memory. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger: Logger;

  constructor(level: 'trace' | 'debug' | 'info' = 'info') {
    const lines = this.lines;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    });
    this.logger = createLogger({ service: 'microflows-test', nodeId: 'test', level, destination });
  }

  /** Lines with a message containing `text`. */
  find(text: string): Record<string, unknown>[] {
    return this.lines.filter((l) => typeof l['msg'] === 'string' && l['msg'].includes(text));
  }
}

/** An engine for tests, logging into a {@link LogCapture}. */
export function testEngine(
  model: CompiledModel,
  options: Partial<MicroflowEngineOptions> = {},
): { engine: MicroflowEngine; logs: LogCapture } {
  const logs = new LogCapture('debug');
  return { engine: createMicroflowEngine(model, { logger: logs.logger, ...options }), logs };
}

/** A user context with user roles (by name). */
export function userWith(roles: readonly string[], userId?: string): UserContext {
  return { system: false, userId, userRoles: roles, timeZone: '' };
}

/** The result of {@link runOnce}. */
export type RunResult =
  | { readonly ok: true; readonly result: MxValue; readonly instructions: readonly ClientInstruction[] }
  | { readonly ok: false; readonly error: unknown };

/**
 * Runs a microflow in a unit of work of its own that is completed when the run succeeds and
 * aborted when it fails, as the executor does.
 */
export async function runOnce(
  engine: MicroflowEngine,
  db: Database,
  request: {
    readonly microflow: string;
    readonly arguments?: Readonly<Record<string, MxValue>>;
    readonly user?: UserContext;
    readonly fromClient?: boolean;
    readonly details?: MicroflowUser;
    /** Makes the arguments in the run's unit of work (objects must belong to it). */
    readonly prepare?: (uow: UnitOfWork) => Promise<Record<string, MxValue>>;
    /** Details of the user found in the run's unit of work (e.g. the `System.User` object of `$currentUser`). */
    readonly userIn?: (uow: UnitOfWork) => Promise<MicroflowUser>;
  },
): Promise<RunResult> {
  const uow = engine.unitOfWork(db, request.user ?? SYSTEM_CONTEXT, request.details);
  try {
    const prepared = request.prepare === undefined ? {} : await request.prepare(uow);
    const details = request.userIn === undefined ? request.details : await request.userIn(uow);
    const outcome = await engine.run({
      microflow: request.microflow,
      arguments: new Map(Object.entries({ ...request.arguments, ...prepared })),
      uow,
      fromClient: request.fromClient ?? false,
      ...(details === undefined ? {} : { user: details }),
    });
    await uow.complete();
    return { ok: true, result: outcome.result, instructions: outcome.instructions };
  } catch (error) {
    await uow.abort();
    return { ok: false, error };
  } finally {
    await uow.close();
  }
}

/** Runs a microflow and returns its result; fails the test with the error otherwise. */
export async function resultOf(
  engine: MicroflowEngine,
  db: Database,
  request: Parameters<typeof runOnce>[2],
): Promise<{ result: MxValue; instructions: readonly ClientInstruction[] }> {
  const outcome = await runOnce(engine, db, request);
  if (!outcome.ok) throw outcome.error;
  return outcome;
}

/** The error of a run that must fail. */
export async function errorOf(
  engine: MicroflowEngine,
  db: Database,
  request: Parameters<typeof runOnce>[2],
): Promise<unknown> {
  const outcome = await runOnce(engine, db, request);
  if (outcome.ok)
    throw new TypeError(
      `expected ${request.microflow} to fail, it returned ${toStringValue(outcome.result)}`,
    );
  return outcome.error;
}
