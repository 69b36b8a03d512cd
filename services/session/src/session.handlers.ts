import type { ActiveSession, Identity, OpenedSession, SessionUser } from '@runplane/identity';
import type { common, session } from '@runplane/proto';
import { unaryHandler } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';

/** A session's user as the UserContext every service receives. */
export function toUserContext(s: ActiveSession): common.UserContext {
  return userContext(s.user, s.sessionIdHash);
}

function userContext(user: SessionUser, sessionIdHash: string): common.UserContext {
  return {
    userId: user.userId,
    userName: user.userName,
    userRoles: [...user.userRoles],
    sessionIdHash,
    anonymous: user.anonymous,
    timeZone: user.timeZone,
    language: user.language,
    system: false,
  };
}

function opened(s: OpenedSession): session.LoginResponse {
  return {
    sessionId: s.sessionId,
    csrfToken: s.csrfToken,
    user: toUserContext(s),
    expiresAtMs: BigInt(s.expiresAtMs),
  };
}

/**
 * The gRPC face of the session service: proto messages in, identity calls, proto messages
 * out. Refusals travel as typed errors (LOGIN_FAILED, SESSION_INVALID, SESSION_EXPIRED,
 * CSRF_TOKEN_INVALID, ANONYMOUS_DISABLED) with their gRPC status.
 */
export function sessionHandlers(identity: Identity, logger: Logger): session.SessionServiceServer {
  const { sessions } = identity;
  return {
    login: unaryHandler(logger, 'Login', async (req: session.LoginRequest) =>
      opened(await sessions.login(req.userName, req.password)),
    ),
    authenticate: unaryHandler(logger, 'Authenticate', async (req: session.AuthenticateRequest) => ({
      user: userContext(await sessions.authenticate(req.userName, req.password), ''),
    })),
    logout: unaryHandler(logger, 'Logout', async (req: session.LogoutRequest) => {
      await sessions.logout(req.sessionId);
      return {};
    }),
    validate: unaryHandler(logger, 'Validate', async (req: session.ValidateRequest) => {
      const s = await sessions.validate(req.sessionId, {
        stateChanging: req.stateChanging,
        csrfToken: req.csrfToken,
      });
      return { user: toUserContext(s), csrfToken: s.csrfToken, expiresAtMs: BigInt(s.expiresAtMs) };
    }),
    keepAlive: unaryHandler(logger, 'KeepAlive', async (req: session.KeepAliveRequest) => {
      const s = await sessions.keepAlive(req.sessionId);
      return { expiresAtMs: BigInt(s.expiresAtMs) };
    }),
    createAnonymousSession: unaryHandler(logger, 'CreateAnonymousSession', async () =>
      opened(await sessions.createAnonymous()),
    ),
    cleanupExpired: unaryHandler(logger, 'CleanupExpired', async () => {
      const deleted = await sessions.cleanupExpired();
      if (deleted > 0) logger.info({ deleted }, 'expired sessions deleted');
      return { deleted: BigInt(deleted) };
    }),
    unblockExpired: unaryHandler(logger, 'UnblockExpired', async () => {
      const unblocked = await sessions.unblockExpired();
      if (unblocked > 0) logger.info({ unblocked }, 'blocked users unblocked');
      return { unblocked: BigInt(unblocked) };
    }),
    clearAll: unaryHandler(logger, 'ClearAll', async (req: session.ClearAllRequest) => {
      const deleted = await sessions.clearAll(req.modelVersion);
      logger.info({ deleted, modelVersion: req.modelVersion }, 'all sessions cleared');
      return { deleted: BigInt(deleted) };
    }),
  };
}
