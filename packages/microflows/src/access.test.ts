import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_CONTEXT } from '@runplane/persistence';
import type { MicroflowError } from './errors.js';
import { MicroflowErrorCode } from './errors.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  userWith,
  type TestDatabase,
} from './testing/harness.js';

const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Secret:
    attributes:
      Name: String
      Value: String
    access:
      - roles: [Admin]
        create: true
        delete: true
        defaultMemberAccess: readWrite
      - roles: [Clerk]
        xpath: "[Name != 'hidden']"
        members: { Name: read, Value: none }
`;

const retrieveCount = (name: string, applyEntityAccess: boolean): string => `
  ${name}:
    applyEntityAccess: ${applyEntityAccess}
    allowedRoles: [Admin, Clerk]
    returnType: Integer
    start: all
    nodes:
      all: { kind: retrieve, entity: Secret, output: All, next: count }
      count: { kind: aggregate, list: $All, function: count, output: N, next: done }
      done: { kind: end, value: $N }
`;

const FLOWS = `module: App
microflows:
${retrieveCount('CountWithAccess', true)}
${retrieveCount('CountWithoutAccess', false)}
  ValueWithAccess:
    applyEntityAccess: true
    allowedRoles: [Admin, Clerk]
    returnType: String
    start: first
    nodes:
      first: { kind: retrieve, entity: Secret, xpath: "[Name = 'open']", range: first, output: S, next: done }
      done: { kind: end, value: $S/Value }
  ValueWithoutAccess:
    allowedRoles: [Admin, Clerk]
    returnType: String
    start: first
    nodes:
      first: { kind: retrieve, entity: Secret, xpath: "[Name = 'open']", range: first, output: S, next: done }
      done: { kind: end, value: $S/Value }
  CreateWithAccess:
    applyEntityAccess: true
    allowedRoles: [Admin, Clerk]
    start: make
    nodes:
      make: { kind: create, entity: Secret, members: { Name: "'new'" }, output: S, next: done }
      done: { kind: end }
  CreateWithoutAccess:
    allowedRoles: [Admin, Clerk]
    start: make
    nodes:
      make: { kind: create, entity: Secret, members: { Name: "'new'" }, output: S, next: done }
      done: { kind: end }
  AdminOnly:
    allowedRoles: [Admin]
    returnType: String
    start: done
    nodes:
      done: { kind: end, value: "'admin work done'" }
  ClerkEntry:
    allowedRoles: [Clerk]
    returnType: String
    start: call
    nodes:
      call: { kind: callMicroflow, microflow: AdminOnly, output: R, next: done }
      done: { kind: end, value: $R }
`;

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS });
const { engine } = testEngine(model);
const clerk = userWith(['Clerk']);
const admin = userWith(['Admin']);
let database: TestDatabase;

beforeAll(async () => {
  database = await testDatabase(model, 'access');
  await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
    for (const [name, value] of [
      ['open', 'the value'],
      ['hidden', 'hidden value'],
    ]) {
      const secret = await uow.instantiate('App.Secret');
      secret.set('Name', name ?? '');
      secret.set('Value', value ?? '');
      await uow.commit([secret]);
    }
  });
});
afterAll(async () => {
  await database.drop();
});

describe('apply entity access', () => {
  it('limits retrieves to the rows the user may see only when the microflow applies entity access', async () => {
    expect(
      (await resultOf(engine, database.db, { microflow: 'App.CountWithAccess', user: clerk })).result,
    ).toBe(1n);
    expect(
      (await resultOf(engine, database.db, { microflow: 'App.CountWithoutAccess', user: clerk })).result,
    ).toBe(2n);
    expect(
      (await resultOf(engine, database.db, { microflow: 'App.CountWithAccess', user: admin })).result,
    ).toBe(2n);
  });

  it('refuses to read a member the user may not read only when the microflow applies entity access', async () => {
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.ValueWithAccess',
      user: clerk,
    })) as MicroflowError;
    expect(error.details.causeCode).toBe('MEMBER_NOT_READABLE');
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.ValueWithoutAccess',
      user: clerk,
    });
    expect(result).toBe('the value');
  });

  it('checks the create right only when the microflow applies entity access', async () => {
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.CreateWithAccess',
      user: clerk,
    })) as MicroflowError;
    expect(error.details.causeCode).toBe('ACCESS_DENIED');
    await resultOf(engine, database.db, { microflow: 'App.CreateWithoutAccess', user: clerk });
  });
});

describe('allowed roles', () => {
  it('refuses a client call from a user without an allowed role', async () => {
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.AdminOnly',
      user: clerk,
      fromClient: true,
    })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.Forbidden);
    expect(error.status).toBe('permission_denied');
  });

  it('lets a user with an allowed role call it from the client', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.AdminOnly',
      user: admin,
      fromClient: true,
    });
    expect(result).toBe('admin work done');
  });

  it('does not check roles of microflows called from another microflow, nor of runs not started by a client', async () => {
    const viaClerk = await resultOf(engine, database.db, {
      microflow: 'App.ClerkEntry',
      user: clerk,
      fromClient: true,
    });
    expect(viaClerk.result).toBe('admin work done');
    const direct = await resultOf(engine, database.db, {
      microflow: 'App.AdminOnly',
      user: clerk,
      fromClient: false,
    });
    expect(direct.result).toBe('admin work done');
  });
});
