/**
 * Opening a model's database for a suite, on either backend, and signing in its users.
 */
import { afterAll, beforeAll } from 'vitest';
import { loadModelFromFiles, loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { fileURLToPath } from 'node:url';
import {
  SYSTEM_CONTEXT,
  openDatabase,
  type DatabaseLocation,
  type RunplaneDatabase,
  type UserContext,
} from '../../src/index.js';
import { createTestDatabase, type Backend } from './databases.js';

/** The folder of an example app. */
export function exampleDir(name: 'orders' | 'helpdesk'): string {
  return fileURLToPath(new URL(`../../../../examples/${name}`, import.meta.url));
}

const models = new Map<string, Promise<CompiledModel>>();
/** An example app's model (loaded once per process). */
export function exampleModel(name: 'orders' | 'helpdesk'): Promise<CompiledModel> {
  let model = models.get(name);
  if (model === undefined) {
    model = loadModelOrThrow(exampleDir(name));
    models.set(name, model);
  }
  return model;
}

/** A model from in-memory files, which must be valid. */
export function modelOf(files: Readonly<Record<string, string>>): CompiledModel {
  const result = loadModelFromFiles(Object.entries(files).map(([path, text]) => ({ path, text })));
  if (!result.ok) {
    throw new TypeError(result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.message}`).join('\n'));
  }
  return result.model;
}

/** A database opened for a suite, migrated to the model; closed and dropped after it. */
export interface SuiteDatabase {
  readonly db: RunplaneDatabase;
  readonly location: DatabaseLocation;
}

/** Opens a fresh database for the enclosing `describe` (in `beforeAll`), dropping it in `afterAll`. */
export function suiteDatabase(
  backend: Backend,
  label: string,
  model: () => Promise<CompiledModel> | CompiledModel,
): SuiteDatabase {
  const holder: { db?: RunplaneDatabase; drop?: () => Promise<void>; location?: DatabaseLocation } = {};
  beforeAll(async () => {
    const test = await createTestDatabase(backend, label);
    holder.drop = () => test.drop();
    holder.location = test.location;
    holder.db = await openDatabase(await model(), test.location);
  });
  afterAll(async () => {
    await holder.db?.close();
    await holder.drop?.();
  });
  return {
    get db(): RunplaneDatabase {
      if (holder.db === undefined) throw new TypeError('The database is not open yet.');
      return holder.db;
    },
    get location(): DatabaseLocation {
      if (holder.location === undefined) throw new TypeError('The database is not open yet.');
      return holder.location;
    },
  };
}

/** A signed-in user of an example app. */
export function userContext(userId: string, roles: readonly string[], timeZone = 'UTC'): UserContext {
  return { system: false, userId, userRoles: roles, timeZone };
}

export { SYSTEM_CONTEXT };
