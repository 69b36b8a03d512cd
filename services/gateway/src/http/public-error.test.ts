import { describe, expect, it } from 'vitest';
import { ErrorStatus, OperationalError, UnexpectedError, UserError } from '@runplane/errors';
import { publicHttpError } from './public-error.js';

describe('errors as clients see them', () => {
  it('answers a validation failure inside a microflow as a 422 with the problems and feedback instructions', () => {
    const problem = {
      objectId: 'o1',
      entity: 'Sales.Order',
      member: 'Total',
      message: 'The total cannot be negative.',
    };
    const err = new UserError({
      code: 'MICROFLOW_FAILED',
      status: ErrorStatus.ValidationFailed,
      message: "The total cannot be negative. (Sales.PlaceOrder, node 'markPlaced')",
      details: {
        callStack: [{ microflow: 'Sales.PlaceOrder', node: 'markPlaced' }],
        microflow: 'Sales.PlaceOrder',
        node: 'markPlaced',
        causeCode: 'VALIDATION_FAILED',
        causeDetails: { problems: [problem] },
      },
    });
    expect(publicHttpError(err)).toEqual({
      statusCode: 422,
      body: {
        code: 'VALIDATION_FAILED',
        message: 'The total cannot be negative.',
        details: { problems: [problem], instructions: [{ type: 'validationFeedback', ...problem }] },
      },
    });
  });

  it('drops call stacks, SQL and addresses from details at any depth', () => {
    const err = new UserError({
      code: 'ACCESS_DENIED',
      status: ErrorStatus.PermissionDenied,
      message: 'You may not delete this Sales.Order object.',
      details: {
        entity: 'Sales.Order',
        nested: { sql: 'SELECT 1', callStack: [], keep: 1 },
        list: [{ location: 'x' }],
      },
    });
    expect(publicHttpError(err)).toEqual({
      statusCode: 403,
      body: {
        code: 'ACCESS_DENIED',
        message: 'You may not delete this Sales.Order object.',
        details: { entity: 'Sales.Order', nested: { keep: 1 }, list: [{}] },
      },
    });
  });

  it('keeps where a microflow stopped out of a limit error, and the limit in', () => {
    const err = new UserError({
      code: 'MICROFLOW_LIMIT_EXCEEDED',
      status: ErrorStatus.LimitExceeded,
      message: 'A loop ran more than 1000 iterations.',
      details: {
        callStack: [{ microflow: 'Sales.Spin', node: 'loop' }],
        microflow: 'Sales.Spin',
        node: 'loop',
        limit: 'loopIterations',
      },
    });
    expect(publicHttpError(err)).toEqual({
      statusCode: 422,
      body: {
        code: 'MICROFLOW_LIMIT_EXCEEDED',
        message: 'A loop ran more than 1000 iterations.',
        details: { limit: 'loopIterations' },
      },
    });
  });

  it('answers a dependency that is down with 503 and one that is slow with 504, saying nothing about either', () => {
    const down = new OperationalError({
      code: 'DATABASE_UNAVAILABLE',
      message: 'The database at postgres://db:5432/app cannot be reached: ECONNREFUSED',
      details: { location: 'postgres://db:5432/app' },
    });
    expect(publicHttpError(down)).toEqual({
      statusCode: 503,
      body: {
        code: 'DEPENDENCY_UNAVAILABLE',
        message: expect.not.stringContaining('postgres') as unknown,
        details: {},
      },
    });
    const slow = new OperationalError({
      code: 'DEPENDENCY_TIMEOUT',
      status: ErrorStatus.Timeout,
      message: 'x did not answer',
    });
    expect(publicHttpError(slow).statusCode).toBe(504);
    expect(publicHttpError(slow).body.code).toBe('DEPENDENCY_TIMEOUT');
  });

  it('answers bugs with 500 and a generic message, also when a microflow failed because of one', () => {
    const bug = new UnexpectedError({
      code: 'DATABASE_ERROR',
      message: 'A database statement failed: relation "sales$order"',
    });
    const wrapped = new UserError({
      code: 'MICROFLOW_FAILED',
      status: ErrorStatus.Internal,
      message: 'A database statement failed (Sales.X, node y)',
      details: { causeCode: 'DATABASE_ERROR' },
    });
    for (const e of [bug, new Error('boom at /work/main/x.ts:1')]) {
      const { statusCode, body } = publicHttpError(e);
      expect(statusCode).toBe(500);
      expect(body.code).toBe('INTERNAL');
      expect(JSON.stringify(body)).not.toMatch(/sales\$order|\/work\/|boom/);
    }
    expect(publicHttpError(wrapped).statusCode).toBe(500);
  });
});
