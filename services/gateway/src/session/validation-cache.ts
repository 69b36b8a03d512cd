import type { common } from '@runplane/proto';

/** A session as the session service validated it. */
export interface ValidatedSession {
  /** SHA-256 (hex) of the session id: the cache key and what events name. */
  readonly sessionIdHash: string;
  readonly csrfToken: string;
  /** When the session ends without activity, epoch ms (as of the validation). */
  readonly expiresAtMs: number;
  /** Who the requests of this session act for; passed on to the other services. */
  readonly user: common.UserContext;
}

/** Settings of a {@link ValidationCache}. */
export interface ValidationCacheSettings {
  /** How long an entry may be used after it was validated; 0 caches nothing. */
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number;
}

interface Entry {
  readonly session: ValidatedSession;
  /** The entry is not used from this moment: validated-at + TTL, or the session's expiry if sooner. */
  readonly usableUntilMs: number;
}

/** A ticket for storing one validation: stale when anything was invalidated after it was taken. */
export interface FillTicket {
  readonly epoch: number;
}

/**
 * Validated sessions a gateway may reuse for a short time, keyed by session-id hash:
 * bounded (least recently used out first), every entry usable for at most the TTL and
 * never past the session's own expiry, and dropped at once by invalidations (a logout, a
 * block, a role change, all sessions) that other replicas announce over NATS.
 *
 * A validation that was in flight while an invalidation arrived is not stored (its ticket
 * is stale), so an answer from before a logout cannot be cached after it.
 */
export class ValidationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  private epoch = 0;
  private readonly clock: () => number;

  constructor(private readonly settings: ValidationCacheSettings) {
    this.clock = settings.clock ?? Date.now;
  }

  /** The cached validation of a session, if it is still usable. */
  get(sessionIdHash: string): ValidatedSession | undefined {
    const entry = this.entries.get(sessionIdHash);
    if (entry === undefined) return undefined;
    if (this.clock() >= entry.usableUntilMs) {
      this.remove(sessionIdHash);
      return undefined;
    }
    // Re-insert to mark it most recently used (Map keeps insertion order).
    this.entries.delete(sessionIdHash);
    this.entries.set(sessionIdHash, entry);
    return entry.session;
  }

  /** Take before asking the session service; hand to {@link set} with the answer. */
  ticket(): FillTicket {
    return { epoch: this.epoch };
  }

  /** Stores a validation, unless the cache is off or something was invalidated since the ticket. */
  set(session: ValidatedSession, ticket: FillTicket): void {
    if (this.settings.ttlMs <= 0 || ticket.epoch !== this.epoch) return;
    const usableUntilMs = Math.min(this.clock() + this.settings.ttlMs, session.expiresAtMs);
    if (usableUntilMs <= this.clock()) return;
    this.remove(session.sessionIdHash);
    this.entries.set(session.sessionIdHash, { session, usableUntilMs });
    const userId = session.user.userId;
    let hashes = this.byUser.get(userId);
    if (hashes === undefined) {
      hashes = new Set();
      this.byUser.set(userId, hashes);
    }
    hashes.add(session.sessionIdHash);
    while (this.entries.size > this.settings.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
    }
  }

  /** Drops a session (logged out). */
  invalidateSession(sessionIdHash: string): void {
    this.epoch++;
    this.remove(sessionIdHash);
  }

  /** Drops every session of a user (blocked, roles or password changed). */
  invalidateUser(userId: string): void {
    this.epoch++;
    for (const hash of [...(this.byUser.get(userId) ?? [])]) this.remove(hash);
  }

  /** Drops everything (all sessions cleared). */
  invalidateAll(): void {
    this.epoch++;
    this.entries.clear();
    this.byUser.clear();
  }

  /** Entries held (some may be past their time until next looked at). */
  get size(): number {
    return this.entries.size;
  }

  private remove(sessionIdHash: string): void {
    const entry = this.entries.get(sessionIdHash);
    if (entry === undefined) return;
    this.entries.delete(sessionIdHash);
    const userId = entry.session.user.userId;
    const hashes = this.byUser.get(userId);
    hashes?.delete(sessionIdHash);
    if (hashes?.size === 0) this.byUser.delete(userId);
  }
}
