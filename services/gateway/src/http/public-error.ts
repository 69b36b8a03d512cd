import {
  ErrorKind,
  ErrorStatus,
  asRunplaneError,
  httpStatusOf,
  toHttpError,
  type ErrorDetails,
  type HttpError,
} from '@runplane/errors';

/** Detail keys that describe the server's insides (call stacks, SQL, addresses): never sent out. */
const INTERNAL_KEYS = new Set([
  'callStack',
  'node',
  'stack',
  'sql',
  'sqlState',
  'location',
  'grpcCode',
  'grpcDetails',
  'service',
  'cause',
]);

const DEPENDENCY_UNAVAILABLE_MESSAGE = 'A service the request needs is unavailable. Try again shortly.';
const DEPENDENCY_TIMEOUT_MESSAGE = 'The request took too long. Try again.';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Details without the keys that describe the server's insides, at any depth. */
function cleanDetails(value: unknown, depth = 0): unknown {
  if (depth > 8) return null;
  if (Array.isArray(value)) return value.map((v: unknown) => cleanDetails(v, depth + 1));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (INTERNAL_KEYS.has(key)) continue;
    out[key] = cleanDetails(item, depth + 1);
  }
  return out;
}

interface ValidationProblemLike {
  readonly objectId: string;
  readonly entity: string;
  readonly member: string;
  readonly message: string;
}

function problemsOf(details: ErrorDetails): ValidationProblemLike[] {
  const problems = details.problems;
  if (!Array.isArray(problems)) return [];
  return problems.filter(
    (p): p is ValidationProblemLike =>
      isRecord(p) &&
      typeof p.objectId === 'string' &&
      typeof p.entity === 'string' &&
      typeof p.member === 'string' &&
      typeof p.message === 'string',
  );
}

/**
 * Any thrown value as the HTTP answer a client may see: `{ code, message, details }` with
 * nothing of the server's insides.
 *
 * - A microflow failure caused by a user-facing error answers as that error (its code, status,
 *   message and details): a commit inside a microflow that fails validation is a 422
 *   `VALIDATION_FAILED`, like a commit the client asks for. The microflow and node stay in
 *   the logs.
 * - A validation failure carries `details.problems` and, for the client to show, one
 *   `validationFeedback` instruction per problem in `details.instructions`.
 * - A dependency that is down or slow answers 503 `DEPENDENCY_UNAVAILABLE` or 504
 *   `DEPENDENCY_TIMEOUT` with a generic message (no addresses, no driver messages).
 * - Anything unexpected answers 500 `INTERNAL` with a generic message (see `toHttpError`).
 * - Call stacks, SQL, addresses and causes are dropped from details at any depth.
 */
export function publicHttpError(err: unknown): HttpError {
  const e = asRunplaneError(err);
  let code = e.code;
  let message = e.message;
  let details: ErrorDetails = e.details;
  if (e.code === 'MICROFLOW_FAILED' && typeof e.details.causeCode === 'string') {
    code = e.details.causeCode;
    details = isRecord(e.details.causeDetails) ? e.details.causeDetails : {};
    const { microflow, node } = e.details;
    // The engine appends where the error happened; that place stays in the logs.
    const place =
      typeof microflow === 'string' && typeof node === 'string' ? ` (${microflow}, node '${node}')` : '';
    if (place !== '' && message.endsWith(place)) message = message.slice(0, -place.length);
  }
  if (e.kind === ErrorKind.Unexpected) return toHttpError(e);
  if (e.kind === ErrorKind.Operational) {
    const timeout = e.status === ErrorStatus.Timeout;
    return {
      statusCode: timeout ? 504 : 503,
      body: {
        code: timeout ? 'DEPENDENCY_TIMEOUT' : 'DEPENDENCY_UNAVAILABLE',
        message: timeout ? DEPENDENCY_TIMEOUT_MESSAGE : DEPENDENCY_UNAVAILABLE_MESSAGE,
        details: {},
      },
    };
  }
  const clean = cleanDetails(details) as Record<string, unknown>;
  // With a call stack, `microflow` names where it failed, not what the client asked for.
  if ('callStack' in details) delete clean.microflow;
  if (code === 'VALIDATION_FAILED') {
    clean.instructions = problemsOf(details).map((p) => ({
      type: 'validationFeedback',
      objectId: p.objectId,
      entity: p.entity,
      member: p.member,
      message: p.message,
    }));
  }
  return { statusCode: httpStatusOf[e.status], body: { code, message, details: clean } };
}
