import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Which origins may call the gateway from another site's pages. */
export interface CorsPolicy {
  /** `*` was configured: every origin, without credentials. */
  readonly anyOrigin: boolean;
  /** Origins allowed with credentials (the session cookie, Basic credentials). */
  readonly origins: ReadonlySet<string>;
}

/** The HTTP edge's settings. */
export interface HttpSettings {
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  /** Fastify's `trustProxy`: false, true, a hop count or proxy addresses. */
  readonly trustProxy: boolean | number | string[];
  readonly cors: CorsPolicy;
  /** Strict-Transport-Security max-age; 0 sends none. */
  readonly hstsMaxAgeMs: number;
}

/** `RUNPLANE_CORS_ORIGINS` as a policy; unset allows no other origin. */
export function corsPolicy(text: string | undefined): CorsPolicy {
  const parts = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    anyOrigin: parts.includes('*'),
    // Browsers send the origin without a trailing slash and lower-case scheme and host.
    origins: new Set(parts.filter((p) => p !== '*').map((p) => p.replace(/\/+$/, '').toLowerCase())),
  };
}

/** `RUNPLANE_TRUST_PROXY` as Fastify's trustProxy. */
export function trustProxySetting(text: string): boolean | number | string[] {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-Csrf-Token, X-Request-Id';
const EXPOSED_HEADERS = 'X-Request-Id, Location, Retry-After, WWW-Authenticate';

/** The strictest policy, for every answer that is not an HTML page: JSON needs nothing. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

declare module 'fastify' {
  interface FastifyRequest {
    /** Epoch ms by which the request must be answered (its start plus the request timeout). */
    deadlineAtMs: number;
  }
}

function allowedOrigin(policy: CorsPolicy, origin: string | undefined): 'credentials' | 'any' | undefined {
  if (origin === undefined) return undefined;
  if (policy.origins.has(origin.toLowerCase())) return 'credentials';
  return policy.anyOrigin ? 'any' : undefined;
}

function corsHeaders(reply: FastifyReply, policy: CorsPolicy, origin: string | undefined): boolean {
  const allowed = allowedOrigin(policy, origin);
  if (policy.origins.size > 0 || policy.anyOrigin) reply.header('vary', 'Origin');
  if (allowed === undefined || origin === undefined) return false;
  if (allowed === 'credentials') {
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
  } else {
    reply.header('access-control-allow-origin', '*');
  }
  reply.header('access-control-expose-headers', EXPOSED_HEADERS);
  return true;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Hooks of every request: its deadline; CORS (preflights answered before routing, allowed
 * origins echoed with credentials, `Vary: Origin`); and security headers on every answer —
 * `nosniff`, no framing, no referrer, a deny-all Content-Security-Policy unless a page set its
 * own, and HSTS when configured.
 */
export function registerHygiene(app: FastifyInstance, settings: HttpSettings): void {
  const hsts =
    settings.hstsMaxAgeMs > 0
      ? `max-age=${Math.floor(settings.hstsMaxAgeMs / 1000)}; includeSubDomains`
      : undefined;
  app.decorateRequest('deadlineAtMs', 0);

  // Callback-style hooks (not async): they run on every request, and a promise each costs.
  app.addHook('onRequest', (request, reply, done) => {
    request.deadlineAtMs = Date.now() + settings.requestTimeoutMs;
    const preflight =
      request.method === 'OPTIONS' && header(request, 'access-control-request-method') !== undefined;
    if (!preflight) {
      done();
      return;
    }
    const origin = header(request, 'origin');
    if (!corsHeaders(reply, settings.cors, origin)) {
      void reply.status(403).send({
        code: 'CORS_ORIGIN_NOT_ALLOWED',
        message: 'This origin may not call the app from the browser.',
        details: { origin: origin ?? null },
      });
      return;
    }
    void reply
      .status(204)
      .header('access-control-allow-methods', ALLOWED_METHODS)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .send();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
    if (hsts !== undefined) reply.header('strict-transport-security', hsts);
    if (!reply.hasHeader('access-control-allow-origin'))
      corsHeaders(reply, settings.cors, header(request, 'origin'));
    done(null, payload);
  });
}
