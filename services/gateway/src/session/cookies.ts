import { parse, serialize } from 'cookie';

/** The session cookie's name, as Mendix names it. */
export const SESSION_COOKIE = 'XASSESSIONID';

/** How the session cookie is set. */
export interface CookieSettings {
  /** Send the cookie over HTTPS only (`RUNPLANE_COOKIE_SECURE`). */
  readonly secure: boolean;
}

/** The session id in a request's `Cookie` header, or undefined. */
export function readSessionCookie(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const value = parse(header)[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The `Set-Cookie` value that hands a session id to the browser: HttpOnly (scripts never
 * see it), SameSite=Strict (never sent on requests other sites start; the client API is
 * only called from the app's own pages, so Strict costs nothing and is Mendix's default),
 * Path=/, Secure when configured; no expiry, so it ends with the browser session.
 */
export function sessionCookie(sessionId: string, settings: CookieSettings): string {
  return serialize(SESSION_COOKIE, sessionId, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: settings.secure,
  });
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(settings: CookieSettings): string {
  return serialize(SESSION_COOKIE, '', {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: settings.secure,
    maxAge: 0,
    expires: new Date(0),
  });
}
