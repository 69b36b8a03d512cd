import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptJsonOnly } from '../http/json-body.js';
import { ErrorStatus, UserError, isRunplaneError } from '@runplane/errors';
import {
  clearedSessionCookie,
  readSessionCookie,
  sessionCookie,
  type CookieSettings,
} from '../session/cookies.js';
import { SESSION_REFUSALS, csrfTokenInvalid, notSignedIn } from '../session/errors.js';
import type { SessionLayer } from '../session/session-layer.js';
import { secretsEqual } from '../session/secrets.js';
import { SessionPolicy, type RequestSession, type XasAction, type XasContext } from './action.js';
import { EMPTY_STATE, wireStateSchema, type WireClientState } from './client-state.js';
import { XAS_SCHEMA_PATH, type XasRegistry } from './registry.js';

/** What the `/xas/` endpoint is built from. */
export interface XasRouteOptions {
  readonly registry: XasRegistry;
  readonly sessions: SessionLayer;
  readonly cookies: CookieSettings;
}

/** The header that carries the CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

function badRequest(code: string, message: string, details?: Record<string, unknown>): UserError {
  return new UserError({
    code,
    message,
    status: ErrorStatus.InvalidArgument,
    ...(details ? { details } : {}),
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): {
  path: string;
  message: string;
}[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Reads `{ action, params, state }`; anything else is a 400. */
function envelope(
  body: unknown,
  registry: XasRegistry,
): { action: XasAction; params: unknown; state: WireClientState } {
  if (!isPlainObject(body)) {
    throw badRequest(
      'INVALID_REQUEST',
      'The body must be a JSON object { "action": ..., "params": { ... } }.',
    );
  }
  const extra = Object.keys(body).filter((k) => k !== 'action' && k !== 'params' && k !== 'state');
  if (typeof body.action !== 'string' || extra.length > 0) {
    throw badRequest(
      'INVALID_REQUEST',
      'The body must be a JSON object { "action": ..., "params": { ... }, "state": { ... } } with nothing else.',
      extra.length > 0 ? { unexpected: extra } : {},
    );
  }
  const action = registry.get(body.action);
  if (action === undefined) {
    throw badRequest('UNKNOWN_ACTION', `There is no action '${body.action.slice(0, 100)}'.`, {
      action: body.action.slice(0, 100),
      known: registry.names(),
    });
  }
  if (body.params !== undefined && !isPlainObject(body.params)) {
    throw badRequest('INVALID_PARAMS', 'params must be a JSON object.', { issues: [] });
  }
  const parsed = action.params.safeParse(body.params ?? {});
  if (!parsed.success) {
    throw badRequest('INVALID_PARAMS', `The params of '${action.name}' are not valid.`, {
      issues: issuesOf(parsed.error),
    });
  }
  if (body.state === undefined) return { action, params: parsed.data, state: EMPTY_STATE };
  if (action.takesState !== true) {
    throw badRequest('INVALID_REQUEST', `The action '${action.name}' takes no state.`, {
      unexpected: ['state'],
    });
  }
  const state = wireStateSchema.safeParse(body.state);
  if (!state.success) {
    throw badRequest('INVALID_STATE', 'The state is not valid.', { issues: issuesOf(state.error) });
  }
  return { action, params: parsed.data, state: state.data };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Registers `POST /xas/` (the client API: one JSON action per request, see
 * {@link XasRegistry.protocolSchema}) and `GET /xas/schema` (that document) in their own
 * Fastify scope: JSON bodies only (anything else is a 400, which also keeps browsers from
 * sending the API cross-site without a CORS preflight), no caching of answers.
 */
export function registerXasRoutes(app: FastifyInstance, options: XasRouteOptions): void {
  const { registry, sessions, cookies } = options;

  void app.register((scope, _opts, done) => {
    acceptJsonOnly(scope);

    scope.get(XAS_SCHEMA_PATH, async (_request, reply) =>
      reply.header('cache-control', 'no-cache').send(registry.protocolSchema()),
    );

    scope.post('/xas/', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { action, params, state } = envelope(request.body, registry);
      const cookieSessionId = readSessionCookie(header(request, 'cookie'));
      const requestSession = await resolveSession(action, cookieSessionId, request, reply);
      if (action.changesState && requestSession !== undefined) {
        const sent = header(request, CSRF_HEADER) ?? '';
        if (!secretsEqual(sent, requestSession.csrfToken)) throw csrfTokenInvalid();
      }
      const ctx: XasContext = {
        requestId: request.id,
        clientAddress: request.ip,
        session: requestSession,
        user: requestSession?.user,
        cookieSessionId,
        state,
        deadlineAtMs: request.deadlineAtMs,
        setSessionCookie: (sessionId) => {
          reply.header('set-cookie', sessionCookie(sessionId, cookies));
        },
        clearSessionCookie: () => {
          reply.header('set-cookie', clearedSessionCookie(cookies));
        },
      };
      return reply.send(await action.handle(params, ctx));
    });
    done();
  });

  async function resolveSession(
    action: XasAction,
    cookieSessionId: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<RequestSession | undefined> {
    if (action.session === SessionPolicy.None) return undefined;
    if (cookieSessionId !== undefined) {
      try {
        const validated = await sessions.validate(cookieSessionId, request.id);
        return { ...validated, sessionId: cookieSessionId, opened: false };
      } catch (err) {
        if (!isRunplaneError(err) || !SESSION_REFUSALS.has(err.code)) throw err;
        reply.header('set-cookie', clearedSessionCookie(cookies));
        if (action.session === SessionPolicy.Required) throw err;
      }
    }
    if (action.session === SessionPolicy.Required) throw notSignedIn();
    const opened = await sessions.createAnonymous(request.ip, request.id);
    reply.header('set-cookie', sessionCookie(opened.sessionId, cookies));
    return { ...opened, opened: true };
  }
}
