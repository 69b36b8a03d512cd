/**
 * Authentication and role checks of published REST services, per service as the model
 * declares it: HTTP Basic against the app's users, the session cookie ("active session", with
 * the CSRF token for state-changing methods), or none.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorStatus, UserError, isRunplaneError } from '@runplane/errors';
import type { CompiledModel, RestService } from '@runplane/model';
import type { common } from '@runplane/proto';
import type { RateLimiter } from '../http/rate-limit.js';
import type { EntityAccess } from '../security/entity-access.js';
import { readSessionCookie } from '../session/cookies.js';
import { SESSION_REFUSALS, csrfTokenInvalid } from '../session/errors.js';
import { secretsEqual } from '../session/secrets.js';
import type { SessionLayer } from '../session/session-layer.js';

/** The header that carries the CSRF token. */
const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How a caller was recognised. */
export type RestAuthMethod = 'basic' | 'session' | 'none' | 'anonymous';

/** Who calls a REST operation. */
export interface RestCaller {
  readonly user: common.UserContext;
  readonly via: RestAuthMethod;
}

/** 401 for a request no method of the service recognised. */
export function authenticationRequired(service: RestService): UserError {
  return new UserError({
    code: 'AUTHENTICATION_REQUIRED',
    status: ErrorStatus.Unauthenticated,
    message: `This service needs ${service.authentication
      .map((m) => (m === 'basic' ? 'a user name and password (HTTP Basic)' : 'a signed-in session'))
      .join(' or ')}.`,
    details: { methods: [...service.authentication] },
  });
}

/** 403 for a user none of whose roles may use the service. */
export function serviceForbidden(): UserError {
  return new UserError({
    code: 'SERVICE_FORBIDDEN',
    status: ErrorStatus.PermissionDenied,
    message: 'You may not use this service.',
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** User name and password of a `Basic` Authorization header; undefined when it is not one. */
export function basicCredentials(value: string): { userName: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(value);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const userName = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (userName.length > 100 || password.length === 0 || password.length > 1024) return undefined;
  return { userName, password };
}

/** What REST authentication needs. */
export interface RestAuthDependencies {
  readonly model: CompiledModel;
  readonly access: EntityAccess;
  readonly sessions: SessionLayer;
  /** Password checks per client address (Basic verifications that miss the cache). */
  readonly passwordChecks: RateLimiter;
}

/**
 * Authenticates REST callers and checks the service's allowed roles. Methods are tried in the
 * order Basic (when the request has an Authorization header), session cookie, then anonymous:
 * `none` services run as the model's anonymous user role (or without any role), and a Basic
 * service lets requests without credentials in as the anonymous role when the app allows
 * anonymous users and that role may use the service (as Mendix does).
 *
 * When no method recognises the caller the answer is 401 `AUTHENTICATION_REQUIRED`, with
 * `WWW-Authenticate: Basic` for Basic services — deliberately not Mendix's 404, so that
 * clients and tools can tell a missing login from a missing route.
 */
export class RestAuthenticator {
  constructor(private readonly deps: RestAuthDependencies) {}

  /** The anonymous caller (no session, no user object): the anonymous role when the app has one. */
  anonymousUser(): common.UserContext {
    const anonymous = this.deps.model.security.anonymous;
    return {
      userId: '',
      userName: '',
      userRoles: anonymous.enabled ? [anonymous.userRole] : [],
      sessionIdHash: '',
      anonymous: true,
      timeZone: this.deps.model.settings.defaultTimeZone,
      language: '',
      system: false,
    };
  }

  /** True when a user with these roles may use the service. */
  allowed(service: RestService, userRoles: readonly string[]): boolean {
    if (service.allowedRoles.length === 0) return true;
    const roles = this.deps.access.moduleRoles(userRoles);
    return service.allowedRoles.some((r) => roles.has(r));
  }

  /** Recognises the caller of a request and checks the service's roles; throws 401/403/429. */
  async authenticate(
    service: RestService,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<RestCaller> {
    const caller = await this.recognise(service, request, reply);
    if (!this.allowed(service, caller.user.userRoles)) throw serviceForbidden();
    return caller;
  }

  private async recognise(
    service: RestService,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<RestCaller> {
    const methods = service.authentication;
    const basic = methods.includes('basic');
    const refuse = (error: Error = authenticationRequired(service)): Error => {
      if (basic) reply.header('www-authenticate', `Basic realm="${service.shortName}", charset="UTF-8"`);
      return error;
    };
    if (methods.includes('none')) return { user: this.anonymousUser(), via: 'none' };
    const authorization = header(request, 'authorization');
    if (basic && authorization !== undefined) {
      const credentials = basicCredentials(authorization);
      if (credentials === undefined) throw refuse();
      const { sessions, passwordChecks } = this.deps;
      const key = sessions.credentialsKey(credentials.userName, credentials.password);
      const cached = sessions.cachedCredentials(key);
      if (cached !== undefined) return { user: cached, via: 'basic' };
      // One password check per credentials at a time: requests that arrive while it runs (a
      // busy client whose cached entry just expired) wait for it and are no check of their own.
      if (!sessions.verifying(key)) passwordChecks.check(request.ip, 'password checks');
      try {
        const user = await sessions.authenticate(
          key,
          credentials.userName,
          credentials.password,
          request.ip,
          request.id,
        );
        return { user, via: 'basic' };
      } catch (err) {
        if (isRunplaneError(err) && err.code === 'LOGIN_FAILED') throw refuse(err);
        throw err;
      }
    }
    if (methods.includes('session')) {
      const sessionId = readSessionCookie(header(request, 'cookie'));
      if (sessionId !== undefined) {
        try {
          const validated = await this.deps.sessions.validate(sessionId, request.id);
          if (!SAFE_METHODS.has(request.method)) {
            const sent = header(request, CSRF_HEADER) ?? '';
            if (!secretsEqual(sent, validated.csrfToken)) throw csrfTokenInvalid();
          }
          return { user: validated.user, via: 'session' };
        } catch (err) {
          if (!isRunplaneError(err) || !SESSION_REFUSALS.has(err.code)) throw err;
        }
      }
    }
    const anonymous = this.deps.model.security.anonymous;
    if (basic && anonymous.enabled && this.allowed(service, [anonymous.userRole])) {
      return { user: this.anonymousUser(), via: 'anonymous' };
    }
    throw refuse();
  }
}
