import { ErrorStatus, UserError } from '@runplane/errors';

/** The request has no session and the action needs one. */
export function notSignedIn(): UserError {
  return new UserError({
    code: 'SESSION_INVALID',
    status: ErrorStatus.Unauthenticated,
    message: 'You are not signed in, or your session has ended.',
  });
}

/** A state-changing request without the session's CSRF token. */
export function csrfTokenInvalid(): UserError {
  return new UserError({
    code: 'CSRF_TOKEN_INVALID',
    status: ErrorStatus.PermissionDenied,
    message: 'The request lacks the session’s CSRF token (header X-Csrf-Token).',
  });
}

/** Codes with which the session service refuses a session (the cookie should go). */
export const SESSION_REFUSALS: ReadonlySet<string> = new Set(['SESSION_INVALID', 'SESSION_EXPIRED']);
