import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ErrorStatus, UserError, isRunplaneError } from '@runplane/errors';
import type { Logger, Metrics } from '@runplane/telemetry';
import type { Readiness } from '../readiness.js';
import { registerXasRoutes, type XasRouteOptions } from '../xas/route.js';
import { registerHygiene, type HttpSettings } from './hygiene.js';
import { publicHttpError } from './public-error.js';

/** What the HTTP edge is built from. */
export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly http: HttpSettings;
  /** The client API (`POST /xas/`, `GET /xas/schema`); absent, those routes are not served. */
  readonly xas?: XasRouteOptions;
  /** More routes (published REST, /api-doc), registered after the built-in ones. */
  readonly routes?: readonly ((app: FastifyInstance) => void)[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's own refusals as Runplane errors: stable codes of ours, never Fastify's names. */
function fromFastifyError(error: unknown, bodyLimitBytes: number): unknown {
  if (isRunplaneError(error) || !(error instanceof Error)) return error;
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  const code = (error as { code?: unknown }).code;
  if (typeof statusCode !== 'number' || statusCode >= 500) return error;
  const bad = (c: string, message: string, status: ErrorStatus = ErrorStatus.InvalidArgument): UserError =>
    new UserError({ code: c, status, message });
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) {
    return new UserError({
      code: 'PAYLOAD_TOO_LARGE',
      status: ErrorStatus.PayloadTooLarge,
      message: `The request body is larger than ${bodyLimitBytes} bytes.`,
      details: { limitBytes: bodyLimitBytes },
    });
  }
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return bad('UNSUPPORTED_MEDIA_TYPE', 'The request’s content type is not supported here.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return bad('MALFORMED_JSON', 'The body is not valid JSON.');
    default:
      if (statusCode === 404) return bad('ROUTE_NOT_FOUND', 'No such route.', ErrorStatus.NotFound);
      return bad('BAD_REQUEST', 'The request is not valid HTTP for this route.');
  }
}

/**
 * The gateway's Fastify application: `/health` (liveness), `/ready` (every dependency
 * SERVING), `/metrics` (Prometheus), the client API, published REST and `/api-doc`; a request
 * id on every response and log line, security headers and CORS on every answer, a body limit,
 * a request deadline, and every error as `{ code, message, details }` without the server's
 * insides (see {@link publicHttpError}).
 */
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const { metrics, readiness, http } = options;
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: http.bodyLimitBytes,
    // Receiving a request may take at most the request's time (slow uploads, slow clients).
    requestTimeout: http.requestTimeoutMs,
    trustProxy:
      typeof http.trustProxy === 'number'
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(http.trustProxy)
        : http.trustProxy,
    return503OnClosing: true,
  });
  const requests = metrics.counter(
    'runplane_http_requests_total',
    'HTTP requests answered, by route and status.',
    ['method', 'route', 'status'],
  );
  const durations = metrics.histogram(
    'runplane_http_request_duration_seconds',
    'Time to answer HTTP requests.',
    ['method', 'route'],
  );
  registerHygiene(app, http);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    durations.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler(async (error, request, reply) => {
    const { statusCode, body } = publicHttpError(fromFastifyError(error, http.bodyLimitBytes));
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else if (statusCode === 429 || statusCode === 403)
      request.log.info({ code: body.code }, 'request refused');
    const retryAfterMs = body.details.retryAfterMs;
    if (statusCode === 429 && typeof retryAfterMs === 'number') {
      reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    }
    if (statusCode === 503) reply.header('retry-after', '1');
    return reply.status(statusCode).header('cache-control', 'no-store').send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const { statusCode, body } = publicHttpError(
      new UserError({
        code: 'ROUTE_NOT_FOUND',
        status: ErrorStatus.NotFound,
        message: `No route for ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`,
      }),
    );
    return reply.status(statusCode).send(body);
  });
  app.get('/health', () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const report = await readiness.check();
    return reply.status(report.ready ? 200 : 503).send({
      status: report.ready ? 'ready' : 'not_ready',
      services: report.services,
      ...(report.ready ? {} : { notServing: report.notServing }),
    });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });
  if (options.xas) registerXasRoutes(app, options.xas);
  for (const register of options.routes ?? []) register(app);
  return app;
}
