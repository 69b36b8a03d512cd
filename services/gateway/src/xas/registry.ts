import { z } from 'zod';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { XasAction } from './action.js';
import { wireStateSchema } from './client-state.js';

/** The name of an action: lowercase words joined by `_`. */
const ACTION_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Where the protocol document is served. */
export const XAS_SCHEMA_PATH = '/xas/schema';

/**
 * The actions `POST /xas/` answers, by name. Register every action once at start;
 * another feature adds its actions the same way (see `src/xas/README.md`).
 */
export class XasRegistry {
  private readonly actions = new Map<string, XasAction>();

  /** Adds actions; a second action with a taken name is a programming error. */
  register(...actions: readonly XasAction[]): this {
    for (const action of actions) {
      if (!ACTION_NAME.test(action.name)) {
        throw new UserError({
          code: 'XAS_ACTION_NAME_INVALID',
          message: `Action names are snake_case: '${action.name}'.`,
        });
      }
      if (this.actions.has(action.name)) {
        throw new UserError({
          code: 'XAS_ACTION_DUPLICATE',
          status: ErrorStatus.Conflict,
          message: `The action '${action.name}' is registered twice.`,
        });
      }
      this.actions.set(action.name, action);
    }
    return this;
  }

  get(name: string): XasAction | undefined {
    return this.actions.get(name);
  }

  /** Action names, sorted. */
  names(): string[] {
    return [...this.actions.keys()].sort();
  }

  /**
   * The protocol as a JSON Schema document (draft 2020-12): the request envelope, and per
   * action its params, its result, whether it needs a session and whether it changes state
   * (and so needs `X-Csrf-Token`).
   */
  protocolSchema(): Record<string, unknown> {
    const actions: Record<string, unknown> = {};
    const state = z.toJSONSchema(wireStateSchema, { io: 'input', unrepresentable: 'any' });
    for (const name of this.names()) {
      const action = this.actions.get(name);
      if (action === undefined) continue;
      actions[name] = {
        summary: action.summary,
        session: action.session,
        changesState: action.changesState,
        csrfTokenRequired: action.changesState && action.session !== 'none',
        request: {
          type: 'object',
          required: ['action'],
          additionalProperties: false,
          properties: {
            action: { const: name },
            params: z.toJSONSchema(action.params, { io: 'input', unrepresentable: 'any' }),
            ...(action.takesState === true ? { state } : {}),
          },
        },
        takesState: action.takesState === true,
        response: z.toJSONSchema(action.result, { io: 'output', unrepresentable: 'any' }),
      };
    }
    return {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'runplane:xas',
      title: 'The Runplane client API: POST /xas/',
      description:
        'Every request is a JSON object { "action": <name>, "params": { ... }, "state": { "objects": [...] } } sent ' +
        'with Content-Type application/json; `state` (the client’s uncommitted objects) only for actions that take it. ' +
        'The session travels in the HttpOnly cookie XASSESSIONID; actions that change state need the header ' +
        'X-Csrf-Token with the session’s token (from login or get_session_data). The server keeps no state between ' +
        'requests: answers of state-changing actions carry the new `state`, which the client sends with its next ' +
        'request. Values: strings for String, Enumeration keys, Decimals (exact text) and object ids; numbers for ' +
        'Integer/Long (strings of digits beyond 2^53); epoch milliseconds for DateTime; arrays of ids for reference ' +
        'sets and lists; null for empty. Errors answer { "code", "message", "details" } with 400 (bad request, unknown ' +
        'action, bad params or state), 401 (no valid session), 403 (CSRF token missing or wrong, or not allowed), ' +
        '404 (an object or microflow that does not exist or is not visible), 409 (a conflict), 422 (validation: ' +
        '`details.problems` and `details.instructions` with the validation feedback to show; the client keeps the ' +
        'state it sent), 429 (too many logins from the address; Retry-After), 503 (a service is unavailable), ' +
        '504 (the request took too long).',
      type: 'object',
      required: ['action'],
      properties: {
        action: { enum: this.names() },
        params: { type: 'object' },
        state,
      },
      errorResponse: {
        type: 'object',
        required: ['code', 'message', 'details'],
        properties: {
          code: { type: 'string', description: 'Stable SCREAMING_SNAKE code; branch on it.' },
          message: { type: 'string' },
          details: { type: 'object' },
        },
      },
      actions,
    };
  }
}
