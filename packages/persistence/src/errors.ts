/**
 * The errors the persistence package throws, by stable code. Callers branch on `code`
 * (or on the class), never on the message.
 */
import { ErrorStatus, OperationalError, UnexpectedError, UserError } from '@runplane/errors';
import type { ValidationProblem } from './api.js';

/** Stable codes of the persistence package's errors. */
export const PersistenceErrorCode = {
  /** Reading a member the user may not read. */
  MemberNotReadable: 'MEMBER_NOT_READABLE',
  /** Writing a member the user may not write (or one the server sets, such as an AutoNumber). */
  MemberNotWritable: 'MEMBER_NOT_WRITABLE',
  /** Create, delete or read refused by entity access. */
  AccessDenied: 'ACCESS_DENIED',
  /** An object that does not exist, or that the user may not see. */
  ObjectNotFound: 'OBJECT_NOT_FOUND',
  /** Validation rules failed; `details.problems` lists every one. */
  ValidationFailed: 'VALIDATION_FAILED',
  /** A delete refused by an association's delete behaviour; the message is the model's. */
  DeletePrevented: 'DELETE_PREVENTED',
  /** A value that does not fit the member's type. */
  InvalidMemberValue: 'INVALID_MEMBER_VALUE',
  /** An attribute or association the entity does not have. */
  UnknownMember: 'UNKNOWN_MEMBER',
  /** An entity the model does not have (or one that is not persistable where a table is needed). */
  UnknownEntity: 'UNKNOWN_ENTITY',
  /** An XPath text that does not compile; `details.errors` carries the languages' positions. */
  XPathInvalid: 'XPATH_INVALID',
  /** An operation on an object in the wrong state (e.g. committing a deleted object). */
  InvalidObjectState: 'INVALID_OBJECT_STATE',
  /** A before-event handler returned false while the model says to raise an error. */
  EventHandlerRefused: 'EVENT_HANDLER_REFUSED',
  /** An aggregate that cannot be computed over the attribute. */
  InvalidAggregate: 'INVALID_AGGREGATE',
  /** The unit of work was completed or aborted already. */
  UnitOfWorkClosed: 'UNIT_OF_WORK_CLOSED',
  /** The database cannot be reached. */
  DatabaseUnavailable: 'DATABASE_UNAVAILABLE',
  /** A statement failed for a reason that is not the caller's. */
  DatabaseError: 'DATABASE_ERROR',
  /** The schema in the database differs from the model and `migrate` was not run. */
  MigrationRequired: 'MIGRATION_REQUIRED',
  /** The database holds objects the migration would have to overwrite. */
  MigrationConflict: 'MIGRATION_CONFLICT',
  /** A model change the migration cannot carry out (e.g. changing an entity's generalization). */
  MigrationUnsupported: 'MIGRATION_UNSUPPORTED',
  /** A migration step failed; the transaction was rolled back. */
  MigrationFailed: 'MIGRATION_FAILED',
} as const;
export type PersistenceErrorCode = (typeof PersistenceErrorCode)[keyof typeof PersistenceErrorCode];

/** `MEMBER_NOT_READABLE`: the user may not read the member. */
export function memberNotReadable(entity: string, member: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.MemberNotReadable,
    status: ErrorStatus.PermissionDenied,
    message: `You may not read ${member} of ${entity}.`,
    details: { entity, member },
  });
}

/** `MEMBER_NOT_WRITABLE`: the user may not write the member. */
export function memberNotWritable(entity: string, member: string, reason?: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.MemberNotWritable,
    status: ErrorStatus.PermissionDenied,
    message: reason ?? `You may not change ${member} of ${entity}.`,
    details: { entity, member },
  });
}

/** `ACCESS_DENIED`: entity access refuses the operation. */
export function accessDenied(
  operation: 'create' | 'delete' | 'read' | 'write',
  entity: string,
  objectId?: string,
): UserError {
  const verbs = { create: 'create', delete: 'delete', read: 'read', write: 'change' } as const;
  return new UserError({
    code: PersistenceErrorCode.AccessDenied,
    status: ErrorStatus.PermissionDenied,
    message:
      objectId === undefined
        ? `You may not ${verbs[operation]} objects of ${entity}.`
        : `You may not ${verbs[operation]} this ${entity} object.`,
    details: { operation, entity, ...(objectId === undefined ? {} : { objectId }) },
  });
}

/** `OBJECT_NOT_FOUND`: no such object, or one the user may not see. */
export function objectNotFound(entity: string, id: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.ObjectNotFound,
    status: ErrorStatus.NotFound,
    message: `There is no ${entity} object with id ${id}, or you may not see it.`,
    details: { entity, id },
  });
}

/** `VALIDATION_FAILED` with every problem found. */
export function validationFailed(problems: readonly ValidationProblem[]): UserError {
  const first = problems[0];
  return new UserError({
    code: PersistenceErrorCode.ValidationFailed,
    status: ErrorStatus.ValidationFailed,
    message:
      problems.length === 1 && first !== undefined
        ? first.message
        : `${problems.length} validation rules failed: ${problems.map((p) => p.message).join(' ')}`,
    details: { problems },
  });
}

/** `DELETE_PREVENTED`: the model's message of a prevent delete behaviour. */
export function deletePrevented(
  entity: string,
  objectId: string,
  association: string,
  message: string,
): UserError {
  return new UserError({
    code: PersistenceErrorCode.DeletePrevented,
    status: ErrorStatus.Conflict,
    message,
    details: { entity, objectId, association },
  });
}

/** `INVALID_MEMBER_VALUE`: the value does not fit. */
export function invalidMemberValue(entity: string, member: string, message: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.InvalidMemberValue,
    message,
    details: { entity, member },
  });
}

/** `UNKNOWN_MEMBER`: the entity has no such member. */
export function unknownMember(entity: string, member: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.UnknownMember,
    message: `${entity} has no member '${member}'.`,
    details: { entity, member },
  });
}

/** `UNKNOWN_ENTITY`: the model has no such entity (or it has no table where one is needed). */
export function unknownEntity(entity: string, reason?: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.UnknownEntity,
    message: reason ?? `The model has no entity ${entity}.`,
    details: { entity },
  });
}

/** `INVALID_OBJECT_STATE`: the operation does not fit the object's state. */
export function invalidObjectState(entity: string, id: string, message: string): UserError {
  return new UserError({
    code: PersistenceErrorCode.InvalidObjectState,
    message,
    details: { entity, id },
  });
}

/** `UNIT_OF_WORK_CLOSED`: the unit of work is finished. */
export function unitOfWorkClosed(): UnexpectedError {
  return new UnexpectedError({
    code: PersistenceErrorCode.UnitOfWorkClosed,
    message: 'The unit of work was completed or aborted already.',
  });
}

/** `DATABASE_UNAVAILABLE`: the database cannot be reached. */
export function databaseUnavailable(location: string, cause: unknown): OperationalError {
  return new OperationalError({
    code: PersistenceErrorCode.DatabaseUnavailable,
    status: ErrorStatus.Unavailable,
    message: `The database at ${location} cannot be reached: ${cause instanceof Error ? cause.message : String(cause)}`,
    details: { location },
    cause,
  });
}

/** PostgreSQL error fields the package reads. */
export interface PgErrorFields {
  readonly code?: string;
  readonly constraint?: string;
  readonly table?: string;
  readonly message?: string;
}

/** The SQLSTATE fields of a driver error, if it is one. */
export function pgErrorFields(error: unknown): PgErrorFields | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return undefined;
  return {
    code: e.code,
    constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
    table: typeof e.table === 'string' ? e.table : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
  };
}

const CONNECTION_STATES = ['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300'];
const SOCKET_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'];

/** A driver error as a Runplane error: connection failures are operational, the rest unexpected. */
export function databaseError(error: unknown, sqlText?: string): OperationalError | UnexpectedError {
  const fields = pgErrorFields(error);
  const message = error instanceof Error ? error.message : String(error);
  const errno =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : undefined;
  // pg reports a lost connection as a plain Error without a SQLSTATE; every statement error has one.
  const connectionLost =
    fields === undefined
      ? errno === undefined || SOCKET_CODES.includes(errno)
      : CONNECTION_STATES.includes(fields.code ?? '');
  if (connectionLost) {
    return new OperationalError({
      code: PersistenceErrorCode.DatabaseUnavailable,
      message: `The database connection failed: ${message}`,
      details: { sqlState: fields?.code ?? null },
      cause: error,
    });
  }
  return new UnexpectedError({
    code: PersistenceErrorCode.DatabaseError,
    message: `A database statement failed: ${message}`,
    details: { sqlState: fields?.code ?? null, ...(sqlText === undefined ? {} : { sql: sqlText }) },
    cause: error,
  });
}
