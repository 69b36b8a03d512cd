import type { z } from 'zod';
import type { common } from '@runplane/proto';
import type { ValidatedSession } from '../session/validation-cache.js';
import type { WireClientState } from './client-state.js';

/** Whether an action needs a session. */
export const SessionPolicy = {
  /** No session is looked at (login). */
  None: 'none',
  /** A valid session is needed; without one the answer is 401. */
  Required: 'required',
  /**
   * A valid session is used; without one, an anonymous session is opened when the model
   * allows anonymous users (401 otherwise).
   */
  AllowAnonymous: 'allow-anonymous',
} as const;
export type SessionPolicy = (typeof SessionPolicy)[keyof typeof SessionPolicy];

/** The session of a request, for actions that have one. */
export interface RequestSession extends ValidatedSession {
  /** The session id from the cookie (or just issued); needed to log out or keep alive. */
  readonly sessionId: string;
  /** True when this request opened the session (an anonymous one). */
  readonly opened: boolean;
}

/** What an action's handler gets besides its validated params. */
export interface XasContext {
  readonly requestId: string;
  /** The client's address, as Fastify sees it. */
  readonly clientAddress: string;
  /** The request's session; undefined only for actions with SessionPolicy.None. */
  readonly session: RequestSession | undefined;
  /** The user the request acts for (the UserContext every service receives); undefined without a session. */
  readonly user: common.UserContext | undefined;
  /** The session id in the request's cookie, whether valid or not (login ends it). */
  readonly cookieSessionId: string | undefined;
  /** The client's uncommitted objects sent with the request (actions that take state; else empty). */
  readonly state: WireClientState;
  /** Epoch ms by which the request must be answered: calls to other services get what is left. */
  readonly deadlineAtMs: number;
  /** Hands a session id to the browser in the HttpOnly session cookie. */
  setSessionCookie(sessionId: string): void;
  /** Removes the session cookie. */
  clearSessionCookie(): void;
}

/**
 * One action of `POST /xas/`. Its params are checked with `params` before anything else
 * (bad input → 400 `INVALID_PARAMS`); `result` documents the answer (and tests check
 * answers against it). An action that changes state needs the session's CSRF token in the
 * `X-Csrf-Token` header whenever it runs with a session.
 */
export interface XasAction<P = unknown, R = unknown> {
  /** The `action` value, snake_case as Mendix names its client actions. */
  readonly name: string;
  /** One line for the protocol document. */
  readonly summary: string;
  readonly params: z.ZodType<P>;
  /** The answer's schema, for the protocol document and tests (answers are not checked at run time). */
  readonly result: z.ZodType;
  readonly session: SessionPolicy;
  readonly changesState: boolean;
  /** True when the request may carry the client's state (`state` in the envelope). */
  readonly takesState?: boolean;
  handle(params: P, ctx: XasContext): Promise<R>;
}

/** Declares an action with its params and result types inferred from the schemas. */
export function defineAction<PS extends z.ZodType, RS extends z.ZodType>(action: {
  readonly name: string;
  readonly summary: string;
  readonly params: PS;
  readonly result: RS;
  readonly session: SessionPolicy;
  readonly changesState: boolean;
  readonly takesState?: boolean;
  handle(params: z.output<PS>, ctx: XasContext): Promise<z.input<RS>>;
}): XasAction<z.output<PS>, z.input<RS>> {
  // A schema's own type parameter is its output type; zod's generic ZodType cannot say so.
  return { ...action, params: action.params as z.ZodType<z.output<PS>> };
}
