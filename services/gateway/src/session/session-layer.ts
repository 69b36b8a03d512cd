import { createHash, hash, randomBytes } from 'node:crypto';
import { busNames, type Bus, type Subscription } from '@runplane/bus';
import { session, type common } from '@runplane/proto';
import { callUnary, createClient, type CallSettings } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';
import { notSignedIn } from './errors.js';
import { ValidationCache, type ValidatedSession } from './validation-cache.js';

/** Settings of the gateway's session layer. */
export interface SessionLayerSettings {
  /** gRPC address of the session service. */
  readonly sessionAddress: string;
  /** `RUNPLANE_SESSION_CACHE_MS`: how long a validation may be reused; 0 turns the cache off. */
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  /** Deadline of every call to the session service. */
  readonly callTimeoutMs: number;
  /** `RUNPLANE_BASIC_AUTH_CACHE_MS`: how long a successful Basic verification may be reused; 0 turns it off. */
  readonly basicCacheTtlMs?: number;
  readonly clock?: () => number;
}

/** A session just opened by a login or for an anonymous user. */
export interface OpenedSession extends ValidatedSession {
  /** The session id, for the cookie; never stored by the gateway. */
  readonly sessionId: string;
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The SHA-256 (hex) of a session id, as the session service keys it. */
export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

function fromProto(
  sessionIdHash: string,
  res: { user?: ValidatedSession['user'] | undefined; csrfToken: string; expiresAtMs: bigint },
): ValidatedSession {
  if (res.user === undefined) throw notSignedIn();
  return { sessionIdHash, csrfToken: res.csrfToken, expiresAtMs: Number(res.expiresAtMs), user: res.user };
}

/**
 * The gateway's view of sessions: calls the session service over gRPC with a short
 * deadline, and keeps validations in a {@link ValidationCache} that session events from
 * NATS invalidate. Concurrent requests of one session share one Validate call.
 */
export class SessionLayer {
  readonly cache: ValidationCache;
  /** Successful HTTP Basic verifications, keyed by a keyed hash of the credentials. */
  readonly credentials: ValidationCache;
  private readonly client: session.SessionServiceClient;
  private readonly pending = new Map<string, Promise<ValidatedSession>>();
  private readonly pendingCredentials = new Map<string, Promise<ValidatedSession>>();
  /** Keys the credential hashes: they never equal a plain hash an attacker could precompute. */
  private readonly credentialKey = randomBytes(32).toString('hex');
  private readonly clock: () => number;
  private subscription: Subscription | undefined;

  constructor(
    private readonly settings: SessionLayerSettings,
    private readonly logger: Logger,
  ) {
    this.client = createClient(session.SessionServiceClient, settings.sessionAddress);
    this.clock = settings.clock ?? Date.now;
    this.cache = new ValidationCache({
      ttlMs: settings.cacheTtlMs,
      maxEntries: settings.cacheMaxEntries,
      ...(settings.clock === undefined ? {} : { clock: settings.clock }),
    });
    this.credentials = new ValidationCache({
      ttlMs: settings.basicCacheTtlMs ?? 0,
      maxEntries: settings.cacheMaxEntries,
      ...(settings.clock === undefined ? {} : { clock: settings.clock }),
    });
  }

  /**
   * The key under which credentials are cached: the SHA-256 of a random key of this process and
   * the credentials, so that the cache holds no password and its keys cannot be precomputed. The
   * user name goes in with its length, so that no two pairs share a key (a user name may end in
   * what a password begins with). One call of `hash`: an HMAC object per request cost the hot
   * path several microseconds.
   */
  credentialsKey(userName: string, password: string): string {
    return hash('sha256', `${this.credentialKey}:${userName.length}:${userName}:${password}`, 'hex');
  }

  /** The user of credentials verified a moment ago, if still cached. */
  cachedCredentials(key: string): common.UserContext | undefined {
    return this.credentials.get(key)?.user;
  }

  /** True while a verification of these credentials (see {@link authenticate}) is in flight. */
  verifying(key: string): boolean {
    return this.pendingCredentials.has(key);
  }

  /**
   * Checks a user name and password for HTTP Basic (no session is opened); successes are
   * cached under `key` (see {@link credentialsKey}) until the TTL or a session event about the
   * user. Throws LOGIN_FAILED for every kind of failure, which is never cached.
   */
  async authenticate(
    key: string,
    userName: string,
    password: string,
    clientAddress: string,
    requestId?: string,
  ): Promise<common.UserContext> {
    const cached = this.credentials.get(key);
    if (cached !== undefined) return cached.user;
    const inFlight = this.pendingCredentials.get(key);
    if (inFlight !== undefined) return (await inFlight).user;
    const ticket = this.credentials.ticket();
    const call = callUnary(
      this.client,
      'authenticate',
      { userName, password, clientAddress },
      this.callSettings(requestId),
    ).then((res) => {
      if (res.user === undefined) throw notSignedIn();
      const verified: ValidatedSession = {
        sessionIdHash: key,
        csrfToken: '',
        expiresAtMs: this.clock() + (this.settings.basicCacheTtlMs ?? 0),
        user: { ...res.user, sessionIdHash: '', system: false },
      };
      this.credentials.set(verified, ticket);
      return verified;
    });
    this.pendingCredentials.set(key, call);
    try {
      return (await call).user;
    } finally {
      if (this.pendingCredentials.get(key) === call) this.pendingCredentials.delete(key);
    }
  }

  /**
   * The session a session id belongs to: from the cache while usable, else validated by the
   * session service. Throws SESSION_INVALID or SESSION_EXPIRED (unauthenticated) otherwise.
   */
  async validate(sessionId: string, requestId?: string): Promise<ValidatedSession> {
    if (!SESSION_ID.test(sessionId)) throw notSignedIn();
    const hash = sessionIdHash(sessionId);
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached;
    const inFlight = this.pending.get(hash);
    if (inFlight !== undefined) return inFlight;
    const ticket = this.cache.ticket();
    const call = callUnary(
      this.client,
      'validate',
      { sessionId, csrfToken: '', stateChanging: false },
      this.callSettings(requestId),
    ).then((res) => {
      const validated = fromProto(hash, res);
      this.cache.set(validated, ticket);
      return validated;
    });
    this.pending.set(hash, call);
    try {
      return await call;
    } finally {
      if (this.pending.get(hash) === call) this.pending.delete(hash);
    }
  }

  /** Logs in; the new session is cached at once. Throws LOGIN_FAILED for every kind of failure. */
  async login(
    userName: string,
    password: string,
    clientAddress: string,
    requestId?: string,
  ): Promise<OpenedSession> {
    const ticket = this.cache.ticket();
    const res = await callUnary(
      this.client,
      'login',
      { userName, password, clientAddress },
      this.callSettings(requestId),
    );
    return this.opened(res, ticket);
  }

  /** Opens a session for a new anonymous user; ANONYMOUS_DISABLED when the model has none. */
  async createAnonymous(clientAddress: string, requestId?: string): Promise<OpenedSession> {
    const ticket = this.cache.ticket();
    const res = await callUnary(
      this.client,
      'createAnonymousSession',
      { clientAddress },
      this.callSettings(requestId),
    );
    return this.opened(res, ticket);
  }

  /** Ends a session: dropped from this gateway's cache at once, from the others' by the session event. */
  async logout(sessionId: string, requestId?: string): Promise<void> {
    this.forget(sessionIdHash(sessionId));
    await callUnary(this.client, 'logout', { sessionId }, this.callSettings(requestId));
  }

  /** Renews a session's timeout; returns when it now ends (epoch ms). */
  async keepAlive(sessionId: string, requestId?: string): Promise<number> {
    const res = await callUnary(this.client, 'keepAlive', { sessionId }, this.callSettings(requestId));
    return Number(res.expiresAtMs);
  }

  /** Applies a session event: drops the validations it names. */
  apply(event: session.SessionEvent): void {
    if (event.all) {
      this.cache.invalidateAll();
      this.credentials.invalidateAll();
      this.pending.clear();
      this.pendingCredentials.clear();
      return;
    }
    for (const hash of event.sessionIdHashes) this.forget(hash);
    if (event.userIds.length > 0) {
      for (const userId of event.userIds) {
        this.cache.invalidateUser(userId);
        this.credentials.invalidateUser(userId);
      }
      // A validation in flight may belong to one of these users; later requests ask again.
      this.pending.clear();
      this.pendingCredentials.clear();
    }
  }

  /** Subscribes to every session event of the namespace (all replicas receive all events). */
  async listen(bus: Bus, namespace: string): Promise<void> {
    this.subscription = await bus.subscribe(busNames(namespace).subjects.sessionEvents, (message) => {
      let event: session.SessionEvent;
      try {
        event = session.SessionEvent.decode(message.data);
      } catch (err) {
        this.logger.warn({ err, subject: message.subject }, 'ignoring a malformed session event');
        return;
      }
      this.apply(event);
    });
  }

  async close(): Promise<void> {
    await this.subscription?.unsubscribe();
    this.client.close();
  }

  private forget(hash: string): void {
    this.cache.invalidateSession(hash);
    this.pending.delete(hash);
  }

  private opened(
    res: {
      sessionId: string;
      csrfToken: string;
      user?: ValidatedSession['user'] | undefined;
      expiresAtMs: bigint;
    },
    ticket: ReturnType<ValidationCache['ticket']>,
  ): OpenedSession {
    const validated = fromProto(sessionIdHash(res.sessionId), res);
    this.cache.set(validated, ticket);
    return { ...validated, sessionId: res.sessionId };
  }

  private callSettings(requestId: string | undefined): CallSettings {
    return {
      deadlineMs: this.settings.callTimeoutMs,
      service: 'session',
      ...(requestId === undefined ? {} : { metadata: { 'x-request-id': requestId } }),
    };
  }
}
