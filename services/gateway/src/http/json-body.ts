import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { ErrorStatus, UserError } from '@runplane/errors';

function badRequest(code: string, message: string, details?: Record<string, unknown>): UserError {
  return new UserError({
    code,
    message,
    status: ErrorStatus.InvalidArgument,
    ...(details ? { details } : {}),
  });
}

/**
 * Makes a Fastify scope take JSON bodies only: `application/json` parsed without prototype
 * poisoning (a `__proto__` or `constructor.prototype` key is refused), malformed JSON a 400
 * `MALFORMED_JSON`, any other content type a 400 `UNSUPPORTED_MEDIA_TYPE` (as Mendix answers
 * an unsupported content type). A browser cannot send JSON cross-site without a CORS
 * preflight, so this also shields state-changing routes from form posts.
 */
export function acceptJsonOnly(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, parsed) => {
    try {
      parsed(null, sjson.parse(body, null, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      parsed(badRequest('MALFORMED_JSON', 'The body is not valid JSON.'), undefined);
    }
  });
  scope.addContentTypeParser('*', (request, _payload, parsed) => {
    parsed(
      badRequest('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.', {
        contentType: request.headers['content-type'] ?? null,
      }),
      undefined,
    );
  });
}
