import { z } from 'zod';
import { isRunplaneError } from '@runplane/errors';
import type { Logger } from '@runplane/telemetry';
import type { RateLimiter } from '../http/rate-limit.js';
import { notSignedIn } from '../session/errors.js';
import type { SessionLayer } from '../session/session-layer.js';
import type { ValidatedSession } from '../session/validation-cache.js';
import { SessionPolicy, defineAction, type XasAction } from './action.js';

/** The user of a session, as the client sees it. */
export const sessionUserSchema = z
  .object({
    id: z.string().describe('Id of the System.User object ([%CurrentUser%]).'),
    name: z.string(),
    roles: z.array(z.string()).describe('User role names as the model names them.'),
    anonymous: z.boolean(),
    timeZone: z.string().describe('IANA time zone; empty means UTC.'),
    language: z.string().describe('Language code; empty means the app default.'),
  })
  .strict();

/** A session as login and get_session_data answer it. */
export const sessionDataSchema = z
  .object({
    user: sessionUserSchema,
    csrfToken: z.string().describe('Send it as the X-Csrf-Token header with every state-changing action.'),
    expiresAtMs: z.number().int().describe('When the session ends without activity, epoch ms.'),
  })
  .strict();

function sessionData(session: ValidatedSession): z.input<typeof sessionDataSchema> {
  const { user } = session;
  return {
    user: {
      id: user.userId,
      name: user.userName,
      roles: [...user.userRoles],
      anonymous: user.anonymous,
      timeZone: user.timeZone,
      language: user.language,
    },
    csrfToken: session.csrfToken,
    expiresAtMs: session.expiresAtMs,
  };
}

/**
 * The session actions of `/xas/`: `login`, `logout`, `get_session_data` and `keepalive`.
 * Logins spend a token of the client address's bucket in `passwordChecks` first.
 */
export function sessionActions(
  sessions: SessionLayer,
  logger: Logger,
  passwordChecks: RateLimiter,
): XasAction[] {
  const login = defineAction({
    name: 'login',
    summary:
      'Signs in with a user name and password: sets the session cookie and answers the session (with its CSRF token). ' +
      'Every failure answers 401 LOGIN_FAILED, the same for an unknown user, a wrong password and a blocked account. ' +
      'Too many attempts from one address answer 429 RATE_LIMITED with Retry-After.',
    params: z
      .object({
        username: z.string().min(1).max(100),
        password: z.string().min(1).max(1024),
      })
      .strict(),
    result: sessionDataSchema,
    session: SessionPolicy.None,
    changesState: true,
    async handle({ username, password }, ctx) {
      passwordChecks.check(ctx.clientAddress, 'sign-in attempts');
      // A fresh id on every login (no session fixation); the session the browser had ends.
      const previous = ctx.cookieSessionId;
      if (previous !== undefined) {
        await sessions.logout(previous, ctx.requestId).catch((err: unknown) => {
          if (!isRunplaneError(err) || err.kind !== 'user') {
            logger.warn({ err }, 'could not end the previous session at login');
          }
        });
      }
      const opened = await sessions.login(username, password, ctx.clientAddress, ctx.requestId);
      ctx.setSessionCookie(opened.sessionId);
      return sessionData(opened);
    },
  });

  const logout = defineAction({
    name: 'logout',
    summary: 'Ends the session on every gateway and removes the session cookie.',
    params: z.object({}).strict(),
    result: z.object({ loggedOut: z.literal(true) }).strict(),
    session: SessionPolicy.Required,
    changesState: true,
    async handle(_params, ctx) {
      if (ctx.session === undefined) throw notSignedIn();
      await sessions.logout(ctx.session.sessionId, ctx.requestId);
      ctx.clearSessionCookie();
      return { loggedOut: true as const };
    },
  });

  const getSessionData = defineAction({
    name: 'get_session_data',
    summary:
      'The session: user, roles and CSRF token. Without a session, opens an anonymous one when the app allows ' +
      'anonymous users (401 ANONYMOUS_DISABLED otherwise).',
    params: z.object({}).strict(),
    result: sessionDataSchema,
    session: SessionPolicy.AllowAnonymous,
    changesState: false,
    handle(_params, ctx) {
      if (ctx.session === undefined) throw notSignedIn();
      return Promise.resolve(sessionData(ctx.session));
    },
  });

  const keepalive = defineAction({
    name: 'keepalive',
    summary: 'Renews the session’s inactivity timeout (clients call it every half timeout while open).',
    params: z.object({}).strict(),
    result: z.object({ expiresAtMs: z.number().int() }).strict(),
    session: SessionPolicy.Required,
    changesState: false,
    async handle(_params, ctx) {
      if (ctx.session === undefined) throw notSignedIn();
      return { expiresAtMs: await sessions.keepAlive(ctx.session.sessionId, ctx.requestId) };
    },
  });

  return [login, logout, getSessionData, keepalive];
}
