import { ErrorStatus, OperationalError, UserError, type ErrorDetails } from '@runplane/errors';

/** The stable codes of the errors this package throws. */
export const IdentityErrorCode = {
  /**
   * A login failed: unknown user, wrong password, blocked, inactive or web-service-only user.
   * One code, one message, one status for every reason, so that an answer never tells
   * which accounts exist or are blocked.
   */
  LoginFailed: 'LOGIN_FAILED',
  /** The session id is unknown, malformed, logged out or its user can no longer sign in. */
  SessionInvalid: 'SESSION_INVALID',
  /** The session timed out without activity. */
  SessionExpired: 'SESSION_EXPIRED',
  /** A state-changing request without the session's CSRF token. */
  CsrfTokenInvalid: 'CSRF_TOKEN_INVALID',
  /** The model does not allow anonymous users. */
  AnonymousDisabled: 'ANONYMOUS_DISABLED',
  /** A password the model's password policy refuses. */
  PasswordPolicy: 'PASSWORD_POLICY',
  UserNotFound: 'USER_NOT_FOUND',
  UserExists: 'USER_EXISTS',
  /** A user role the model does not declare. */
  UnknownUserRole: 'UNKNOWN_USER_ROLE',
  /** An entity that is not System.User or a specialisation of it. */
  NotAUserEntity: 'NOT_A_USER_ENTITY',
  /** A user name that is empty, too long or has control characters. */
  InvalidUserName: 'INVALID_USER_NAME',
  /** scrypt parameters out of the safe range. */
  PasswordHashInvalid: 'PASSWORD_HASH_INVALID',
  /** Password hashing failed in the crypto library. */
  PasswordHashingFailed: 'PASSWORD_HASHING_FAILED',
} as const;
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

/**
 * The one answer to every failed login. The same object shape, message and status for an
 * unknown user, a wrong password and a blocked account.
 */
export function loginFailed(): UserError {
  return new UserError({
    code: IdentityErrorCode.LoginFailed,
    status: ErrorStatus.Unauthenticated,
    message: 'The user name or password is incorrect.',
  });
}

/** The session is unknown, ended, or its user may no longer use it. */
export function sessionInvalid(): UserError {
  return new UserError({
    code: IdentityErrorCode.SessionInvalid,
    status: ErrorStatus.Unauthenticated,
    message: 'You are not signed in, or your session has ended.',
  });
}

/** The session timed out. */
export function sessionExpired(): UserError {
  return new UserError({
    code: IdentityErrorCode.SessionExpired,
    status: ErrorStatus.Unauthenticated,
    message: 'Your session has expired. Sign in again.',
  });
}

/** A state-changing request without the right CSRF token. */
export function csrfTokenInvalid(): UserError {
  return new UserError({
    code: IdentityErrorCode.CsrfTokenInvalid,
    status: ErrorStatus.PermissionDenied,
    message: 'The request lacks the session’s CSRF token (header X-Csrf-Token).',
  });
}

/** The model has no anonymous users. */
export function anonymousDisabled(): UserError {
  return new UserError({
    code: IdentityErrorCode.AnonymousDisabled,
    status: ErrorStatus.Unauthenticated,
    message: 'This app does not allow anonymous users. Sign in.',
  });
}

/** Builds a user error of this package. */
export function identityUserError(
  code: IdentityErrorCode,
  message: string,
  status: ErrorStatus = ErrorStatus.InvalidArgument,
  details?: ErrorDetails,
): UserError {
  return new UserError({ code, message, status, ...(details === undefined ? {} : { details }) });
}

/** Password hashing failed below us (out of memory, bad parameters). */
export function hashingFailed(cause: unknown): OperationalError {
  return new OperationalError({
    code: IdentityErrorCode.PasswordHashingFailed,
    message: 'Password hashing failed.',
    cause,
  });
}
