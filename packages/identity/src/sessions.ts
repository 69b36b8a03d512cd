import { randomUUID } from 'node:crypto';
import { asRunplaneError, isRunplaneError } from '@runplane/errors';
import {
  PersistenceErrorCode,
  type MxObject,
  type RunplaneUnitOfWork as UnitOfWork,
} from '@runplane/persistence';
import { System, count, flag, text, timeOf, type IdentityContext } from './context.js';
import {
  anonymousDisabled,
  csrfTokenInvalid,
  loginFailed,
  sessionExpired,
  sessionInvalid,
} from './errors.js';
import { SessionEventKind, type SessionEvent } from './events.js';
import { KeyedMutex } from './keyed-mutex.js';
import { verifyUserPassword } from './password.js';
import { hashSessionId, isSessionIdFormat, newCsrfToken, newSessionId, secretsEqual } from './tokens.js';
import { ANONYMOUS_NAME_PREFIX, type UserDirectory } from './users.js';

/** Who a session belongs to, as requests carry it. */
export interface SessionUser {
  /** Id of the user's System.User object (`[%CurrentUser%]`). */
  readonly userId: string;
  readonly userName: string;
  /** User role names as the model names them, sorted. */
  readonly userRoles: readonly string[];
  readonly anonymous: boolean;
  /** IANA time zone; the app's default time zone. */
  readonly timeZone: string;
  /** Language code; empty for the app's default. */
  readonly language: string;
}

/** A valid session. */
export interface ActiveSession {
  /** SHA-256 of the session id, hex: the key of the stored session, of events and caches. */
  readonly sessionIdHash: string;
  readonly csrfToken: string;
  /** When the session ends unless there is activity, epoch ms. */
  readonly expiresAtMs: number;
  readonly user: SessionUser;
}

/** A session just opened: the only time its id is known outside the client. */
export interface OpenedSession extends ActiveSession {
  readonly sessionId: string;
}

/** Options of {@link SessionRegistry.validate}. */
export interface ValidateOptions {
  /** The request changes state: `csrfToken` must be the session's. */
  readonly stateChanging?: boolean;
  readonly csrfToken?: string;
}

const BATCH = 500;

/**
 * Sessions in System.Session, keyed by the SHA-256 of a 256-bit random id (the id itself
 * is never stored): login with throttling, anonymous sessions, validation with CSRF and
 * timeout, keep-alive, logout, and the leader duties (clean-up of expired sessions,
 * unblocking, clearing all sessions on a new model version).
 *
 * Login answers every failure — unknown user, wrong password, blocked, inactive or
 * web-service user — with the same `LOGIN_FAILED` error after the same work: one full
 * scrypt verification (against a dummy for unknown users), and for every known user the
 * same write of the failed-login count. Failed logins of one user name are serialised in
 * this process so that concurrent attempts cannot lose a count.
 */
export class SessionRegistry {
  private readonly loginQueue = new KeyedMutex();
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly ctx: IdentityContext,
    private readonly users: UserDirectory,
  ) {}

  /**
   * Checks a user name and password and opens a session; `LOGIN_FAILED` for every kind of
   * failure. The answer to a failure does not wait for the failed-login count to be written:
   * every kind of failure answers after the same work (one lookup, one scrypt). The write
   * follows at once, and the next login of that name waits for it (see {@link drain}).
   */
  login(userName: string, password: string): Promise<OpenedSession> {
    return this.judge(userName, password, async (uow, user, now) => {
      if (count(user, 'FailedLogins') !== 0) user.set('FailedLogins', 0n);
      user.set('LastLogin', new Date(now));
      await uow.commit([user]);
      return this.open(uow, user, now);
    });
  }

  /**
   * Checks a user name and password without opening a session (HTTP Basic authentication of
   * published REST services): the same rules, answers and failed-login counting as
   * {@link login}, and LastLogin is not touched. Returns the user as requests carry it.
   */
  authenticate(userName: string, password: string): Promise<SessionUser> {
    return this.judge(userName, password, async (uow, user) => {
      // A success resets the count, as a login does, so that Basic calls do not block a user
      // for failures that a later right password has answered.
      if (count(user, 'FailedLogins') !== 0) {
        user.set('FailedLogins', 0n);
        await uow.commit([user]);
      }
      return this.sessionUser(uow, user);
    });
  }

  /**
   * The shared judgement of {@link login} and {@link authenticate}: one lookup and one scrypt
   * for every outcome; `accept` runs in the same transaction for a user who may sign in.
   */
  private judge<T>(
    userName: string,
    password: string,
    accept: (uow: UnitOfWork, user: MxObject, now: number) => Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolveLogin, rejectLogin) => {
      let answered = false;
      const resolve = (value: T): void => {
        answered = true;
        resolveLogin(value);
      };
      const reject = (err: unknown): void => {
        answered = true;
        rejectLogin(asRunplaneError(err));
      };
      const work = this.loginQueue.run(userName, async () => {
        const judged = await this.ctx.transaction(async (uow) => {
          const user = await this.users.findByName(uow, userName);
          const matches = await verifyUserPassword(this.ctx.hasher, uow, user, password);
          if (user === undefined) return { ok: false as const, userId: undefined };
          const mayLogIn =
            matches &&
            !flag(user, 'Blocked') &&
            flag(user, 'Active') &&
            !flag(user, 'WebServiceUser') &&
            !flag(user, 'IsAnonymous');
          if (!mayLogIn) return { ok: false as const, userId: user.id };
          const now = this.ctx.clock();
          return { ok: true as const, value: await accept(uow, user, now) };
        });
        if (judged.ok) {
          resolve(judged.value);
          return;
        }
        reject(loginFailed());
        // Still inside this name's queue: the next attempt is judged on the new count.
        if (judged.userId !== undefined) await this.countFailure(judged.userId);
      });
      const tracked = work.then(
        () => undefined,
        (err: unknown) => {
          // After the answer, only the failed-login count could not be written.
          if (answered) this.ctx.reportError(err);
          else reject(err);
        },
      );
      this.background.add(tracked);
      void tracked.finally(() => this.background.delete(tracked));
    });
  }

  /** Resolves when every failed-login count already answered has been written. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * Opens a session for a new anonymous user (`Anonymous_<uuid>`, IsAnonymous, the model's
   * anonymous user role); `ANONYMOUS_DISABLED` when the model does not allow anonymous users.
   * The user is deleted with its session.
   */
  async createAnonymous(): Promise<OpenedSession> {
    const anonymous = this.ctx.model.security.anonymous;
    if (!anonymous.enabled) throw anonymousDisabled();
    return this.ctx.transaction(async (uow) => {
      const user = await this.users.create(uow, {
        name: `${ANONYMOUS_NAME_PREFIX}${randomUUID()}`,
        entity: System.User,
        roles: [anonymous.userRole],
        passwordHash: undefined,
        webServiceUser: false,
        anonymous: true,
      });
      return this.open(uow, user, this.ctx.clock());
    });
  }

  /**
   * Resolves a session id to its user. `SESSION_INVALID` for an unknown or ended session
   * or a user who may no longer sign in; `SESSION_EXPIRED` after the timeout without
   * activity; `CSRF_TOKEN_INVALID` when the request changes state without the session's
   * token. Counts as activity: LastActive is renewed when it is older than the write interval.
   */
  async validate(sessionId: string, options: ValidateOptions = {}): Promise<ActiveSession> {
    if (!isSessionIdFormat(sessionId)) throw sessionInvalid();
    const hash = hashSessionId(sessionId);
    return this.ctx.transaction(async (uow) => {
      const { session, user } = await this.load(uow, hash);
      const csrfToken = text(session, 'CSRFToken');
      if (options.stateChanging === true && !secretsEqual(options.csrfToken ?? '', csrfToken)) {
        throw csrfTokenInvalid();
      }
      const now = this.ctx.clock();
      let lastActive = timeOf(session, 'LastActive') ?? 0;
      if (now - lastActive >= this.ctx.settings.activityWriteIntervalMs) {
        session.set('LastActive', new Date(now));
        await this.commitSession(uow, session);
        lastActive = now;
      }
      return this.active(uow, hash, csrfToken, lastActive, user);
    });
  }

  /** Renews a session's timeout now (the client's keep-alive); the same refusals as {@link validate}. */
  async keepAlive(sessionId: string): Promise<ActiveSession> {
    if (!isSessionIdFormat(sessionId)) throw sessionInvalid();
    const hash = hashSessionId(sessionId);
    return this.ctx.transaction(async (uow) => {
      const { session, user } = await this.load(uow, hash);
      const now = this.ctx.clock();
      session.set('LastActive', new Date(now));
      await this.commitSession(uow, session);
      return this.active(uow, hash, text(session, 'CSRFToken'), now, user);
    });
  }

  /** Ends a session (and its user, when anonymous). Ending an unknown session does nothing. */
  async logout(sessionId: string): Promise<void> {
    if (!isSessionIdFormat(sessionId)) return;
    const hash = hashSessionId(sessionId);
    const ended = await this.ctx.transaction(async (uow) => {
      const session = await this.findSession(uow, hash);
      if (session === undefined) return false;
      await this.end(uow, [session]);
      return true;
    });
    if (ended) this.ctx.emit(this.event(SessionEventKind.Logout, [hash], []));
  }

  /**
   * Leader duty: deletes sessions without activity for the timeout (and their anonymous
   * users). Idempotent; returns how many sessions it deleted.
   */
  async cleanupExpired(): Promise<number> {
    const cutoff = new Date(this.ctx.clock() - this.ctx.settings.sessionTimeoutMs);
    return this.deleteSessions(
      '[LastActive <= $cutoff or LastActive = empty]',
      new Map([['cutoff', cutoff]]),
    );
  }

  /**
   * Leader duty: unblocks users that failed logins blocked at least the configured time
   * ago, resetting their counts. Blocks set by an operator stay. Returns how many.
   */
  async unblockExpired(): Promise<number> {
    const cutoff = new Date(this.ctx.clock() - this.ctx.settings.unblockAfterMs);
    let total = 0;
    for (;;) {
      const done = await this.ctx.transaction(async (uow) => {
        const { objects } = await uow.retrieve({
          entity: System.User,
          xpath: '[Blocked = true()][BlockedSince <= $cutoff]',
          variables: new Map([['cutoff', cutoff]]),
          amount: BATCH,
        });
        for (const user of objects) {
          user.set('Blocked', false);
          user.set('BlockedSince', null);
          user.set('FailedLogins', 0n);
        }
        if (objects.length > 0) await uow.commit(objects);
        return objects.length;
      });
      total += done;
      if (done < BATCH) return total;
    }
  }

  /**
   * Leader duty on a new model version: ends the sessions opened before the version was
   * deployed (anonymous users with them), because they belong to the model they were opened
   * under — as Mendix clears persistent sessions when a new model starts. Sessions opened
   * since the deployment stay, however late the duty runs. Once per deployment: a second call
   * for the same version (a retry, a new leader) ends nothing. A version this database never
   * recorded (or none given) ends every session. Returns how many sessions it ended.
   */
  async clearAll(modelVersion = ''): Promise<number> {
    const deployedAt =
      modelVersion === '' ? undefined : await this.ctx.database.modelVersionDeployedAt(modelVersion);
    const claim = `identity.clear-all:${modelVersion}${deployedAt === undefined ? '' : `@${deployedAt}`}`;
    const deleted = await this.ctx.transaction(async (uow) => {
      if (modelVersion !== '' && !(await uow.claimIdempotencyKey(claim))) return undefined;
      let total = 0;
      for (;;) {
        const { objects } = await uow.retrieve({
          entity: System.Session,
          ...(deployedAt === undefined
            ? {}
            : {
                xpath: '[createdDate < $deployedAt]',
                variables: new Map([['deployedAt', new Date(deployedAt)]]),
              }),
          amount: BATCH,
        });
        await this.end(uow, objects);
        total += objects.length;
        if (objects.length < BATCH) return total;
      }
    });
    if (deleted === undefined) return 0;
    this.ctx.emit({
      kind: SessionEventKind.AllCleared,
      sessionIdHashes: [],
      userIds: [],
      all: true,
      atMs: this.ctx.clock(),
    });
    return deleted;
  }

  private async deleteSessions(xpath: string, variables: Map<string, Date>): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.ctx.transaction(async (uow) => {
        const { objects } = await uow.retrieve({ entity: System.Session, xpath, variables, amount: BATCH });
        await this.end(uow, objects);
        return objects.length;
      });
      total += done;
      if (done < BATCH) return total;
    }
  }

  /** Deletes sessions; an anonymous user goes with its session (which deletes the session too). */
  private async end(uow: UnitOfWork, sessions: readonly MxObject[]): Promise<void> {
    if (sessions.length === 0) return;
    const userIds = [
      ...new Set(sessions.map((s) => s.getReference(System.SessionUser)).filter((id) => id !== null)),
    ];
    const anonymousUsers = (await uow.retrieveByIds(userIds, System.User)).filter((u) =>
      flag(u, 'IsAnonymous'),
    );
    const anonymousIds = new Set(anonymousUsers.map((u) => u.id));
    const plain = sessions.filter((s) => !anonymousIds.has(s.getReference(System.SessionUser) ?? ''));
    if (plain.length > 0) await uow.delete(plain);
    if (anonymousUsers.length > 0) await uow.delete(anonymousUsers);
  }

  /** Counts a failed login of a known user in its own transaction; blocks at the limit and tells the caches. */
  private async countFailure(userId: string): Promise<void> {
    if (!this.ctx.settings.throttleLogins) return;
    const blocked = await this.ctx.transaction(async (uow) => {
      // Locked: failures counted at once by other replicas wait for this one, and count on from it.
      const [user] = await uow.lockByIds([userId], System.User);
      if (user === undefined || flag(user, 'IsAnonymous')) return false;
      const failures = count(user, 'FailedLogins') + 1;
      user.set('FailedLogins', BigInt(failures));
      // Counting on while blocked keeps the work of every failure the same; BlockedSince stays.
      let blockedNow = false;
      if (!flag(user, 'Blocked') && failures >= this.ctx.settings.maxFailedLogins) {
        user.set('Blocked', true);
        user.set('BlockedSince', new Date(this.ctx.clock()));
        blockedNow = true;
      }
      await uow.commit([user]);
      if (blockedNow) await this.users.endSessionsOf(uow, user);
      return blockedNow;
    });
    if (blocked) this.ctx.emit(this.event(SessionEventKind.UserBlocked, [], [userId]));
  }

  private async open(uow: UnitOfWork, user: MxObject, now: number): Promise<OpenedSession> {
    const sessionId = newSessionId();
    const sessionIdHash = hashSessionId(sessionId);
    const csrfToken = newCsrfToken();
    const session = await uow.instantiate(System.Session);
    session.set('SessionId', sessionIdHash);
    session.set('CSRFToken', csrfToken);
    session.set('LastActive', new Date(now));
    session.setReference(System.SessionUser, user.id);
    await uow.commit([session]);
    return { sessionId, ...(await this.active(uow, sessionIdHash, csrfToken, now, user)) };
  }

  /** Writes a session's LastActive; a session logged out meanwhile (its row gone) is refused as ended. */
  private async commitSession(uow: UnitOfWork, session: MxObject): Promise<void> {
    try {
      await uow.commit([session]);
    } catch (err) {
      if (isRunplaneError(err) && err.code === PersistenceErrorCode.ObjectNotFound) throw sessionInvalid();
      throw err;
    }
  }

  private async findSession(uow: UnitOfWork, hash: string): Promise<MxObject | undefined> {
    const { objects } = await uow.retrieve({
      entity: System.Session,
      xpath: '[SessionId = $hash]',
      variables: new Map([['hash', hash]]),
      amount: 1,
    });
    return objects[0];
  }

  /** The session and its user, or the refusal a request gets. */
  private async load(uow: UnitOfWork, hash: string): Promise<{ session: MxObject; user: MxObject }> {
    const session = await this.findSession(uow, hash);
    if (session === undefined) throw sessionInvalid();
    const lastActive = timeOf(session, 'LastActive');
    if (lastActive === undefined || this.ctx.clock() - lastActive >= this.ctx.settings.sessionTimeoutMs) {
      throw sessionExpired();
    }
    const userId = session.getReference(System.SessionUser);
    const [user] = userId === null ? [] : await uow.retrieveByIds([userId], System.User);
    if (user === undefined || !flag(user, 'Active') || flag(user, 'Blocked')) throw sessionInvalid();
    return { session, user };
  }

  private async active(
    uow: UnitOfWork,
    sessionIdHash: string,
    csrfToken: string,
    lastActiveMs: number,
    user: MxObject,
  ): Promise<ActiveSession> {
    return {
      sessionIdHash,
      csrfToken,
      expiresAtMs: lastActiveMs + this.ctx.settings.sessionTimeoutMs,
      user: await this.sessionUser(uow, user),
    };
  }

  private async sessionUser(uow: UnitOfWork, user: MxObject): Promise<SessionUser> {
    return {
      userId: user.id,
      userName: text(user, 'Name'),
      userRoles: await this.users.roleNamesOf(uow, user),
      anonymous: flag(user, 'IsAnonymous'),
      timeZone: this.ctx.timeZone,
      language: '',
    };
  }

  private event(kind: SessionEventKind, sessionIdHashes: string[], userIds: string[]): SessionEvent {
    return { kind, sessionIdHashes, userIds, all: false, atMs: this.ctx.clock() };
  }
}
