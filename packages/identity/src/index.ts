/**
 * Users and sessions of a Runplane app, as the Mendix runtime has them: System.User with
 * user roles from the model, scrypt password hashes, the password policy, login with
 * throttling and constant-time answers, 256-bit session ids stored only as SHA-256
 * hashes, CSRF tokens, inactivity timeouts with batched activity writes, anonymous
 * sessions, the first administrator, demo users and the leader duties over sessions.
 * Used by the session service and the `runplane users` command; testable without a process.
 */
export { createIdentity, type Identity } from './identity.js';
export {
  System,
  identitySettings,
  type Clock,
  type IdentityOptions,
  type IdentitySettings,
} from './context.js';
export { IdentityErrorCode, loginFailed } from './errors.js';
export { SessionEventKind, type SessionEvent, type SessionEventSink } from './events.js';
export { publishSessionEvents } from './bus-events.js';
export {
  DEFAULT_SCRYPT_PARAMETERS,
  MAX_PASSWORD_LENGTH,
  PasswordHasher,
  type ScryptParameters,
} from './password.js';
export { checkPasswordPolicy, generatePassword } from './policy.js';
export {
  administratorRole,
  type AdministratorSettings,
  type ProvisionResult,
  type ProvisionSettings,
} from './provision.js';
export {
  SessionRegistry,
  type ActiveSession,
  type OpenedSession,
  type SessionUser,
  type ValidateOptions,
} from './sessions.js';
export {
  CSRF_TOKEN_BYTES,
  SESSION_ID_BYTES,
  hashSessionId,
  isSessionIdFormat,
  newCsrfToken,
  newSessionId,
  secretsEqual,
} from './tokens.js';
export {
  ANONYMOUS_NAME_PREFIX,
  UserDirectory,
  checkUserName,
  type NewUser,
  type RoleSyncResult,
  type UserSummary,
} from './users.js';
