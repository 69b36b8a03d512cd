import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  ErrorStatus,
  OperationalError,
  UnexpectedError,
  UserError,
  fromGrpcError,
  fromNatsErrorHeaders,
  httpStatusOf,
  toGrpcError,
  toHttpError,
  toNatsErrorHeaders,
} from './index.js';

function serviceErrorFrom(status: ReturnType<typeof toGrpcError>): ServiceError {
  return Object.assign(new Error(status.details), {
    code: status.code ?? GrpcStatus.UNKNOWN,
    details: status.details ?? '',
    metadata: status.metadata ?? new Metadata(),
  });
}

describe('the error taxonomy', () => {
  it('maps every category to an HTTP status', () => {
    for (const status of Object.values(ErrorStatus)) {
      expect(httpStatusOf[status]).toBeGreaterThanOrEqual(400);
    }
    expect(toHttpError(new UserError({ code: 'BAD', message: 'bad' })).statusCode).toBe(400);
    expect(
      toHttpError(new UserError({ code: 'NOPE', message: 'no', status: ErrorStatus.PermissionDenied }))
        .statusCode,
    ).toBe(403);
    expect(toHttpError(new OperationalError({ code: 'DOWN', message: 'down' })).statusCode).toBe(503);
  });

  it('shows user errors as they are, with code and details', () => {
    const err = new UserError({
      code: 'VALIDATION',
      status: ErrorStatus.ValidationFailed,
      message: 'Total must be positive',
      details: { member: 'Total' },
    });
    expect(toHttpError(err)).toEqual({
      statusCode: 422,
      body: { code: 'VALIDATION', message: 'Total must be positive', details: { member: 'Total' } },
    });
  });

  it('never leaks the message of an unexpected error or a foreign exception to HTTP', () => {
    const secret = 'relation "sales$order" does not exist at /srv/app/node_modules/pg';
    for (const err of [
      new UnexpectedError({ code: 'BUG', message: secret }),
      new TypeError(secret),
      secret,
    ]) {
      const { statusCode, body } = toHttpError(err);
      expect(statusCode).toBe(500);
      expect(body.code).toBe('INTERNAL');
      expect(JSON.stringify(body)).not.toContain('sales$order');
    }
  });

  it('carries an error across gRPC with its class, code, status and details', () => {
    const original = new UserError({
      code: 'ACCESS_DENIED',
      status: ErrorStatus.PermissionDenied,
      message: 'You may not read Sales.Order',
      details: { entity: 'Sales.Order' },
    });
    const status = toGrpcError(original);
    expect(status.code).toBe(GrpcStatus.PERMISSION_DENIED);
    const rebuilt = fromGrpcError(serviceErrorFrom(status), 'microflow-executor');
    expect(rebuilt).toBeInstanceOf(UserError);
    expect(rebuilt.toJSON()).toEqual(original.toJSON());
  });

  it('turns a transport failure into an operational error naming the service', () => {
    const err = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: GrpcStatus.UNAVAILABLE,
      details: 'No connection established',
      metadata: new Metadata(),
    });
    const rebuilt = fromGrpcError(err, 'session');
    expect(rebuilt).toBeInstanceOf(OperationalError);
    expect(rebuilt.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(rebuilt.message).toContain('session');
    expect(toHttpError(rebuilt).statusCode).toBe(503);
  });

  it('carries an error across NATS service headers', () => {
    const original = new OperationalError({ code: 'DB_DOWN', message: 'database unreachable' });
    const headers = toNatsErrorHeaders(original);
    expect(headers['Nats-Service-Error-Code']).toBe('503');
    const rebuilt = fromNatsErrorHeaders((name) => headers[name]);
    expect(rebuilt?.toJSON()).toEqual(original.toJSON());
    expect(fromNatsErrorHeaders(() => undefined)).toBeUndefined();
  });

  it('keeps the cause and names the class', () => {
    const cause = new Error('root');
    const err = new OperationalError({ code: 'X', message: 'wrapped', cause });
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('OperationalError');
  });
});
