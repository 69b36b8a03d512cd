/** What happened to sessions: each kind tells caches of validated sessions what to drop. */
export const SessionEventKind = {
  /** Sessions ended by logout. */
  Logout: 'logout',
  /** A user was blocked (by failed logins or by an operator); their sessions ended. */
  UserBlocked: 'user-blocked',
  /** A user's roles changed; cached validations carry the old ones. */
  UserRolesChanged: 'user-roles-changed',
  /** A user's password changed, or the user was deactivated or deleted; their sessions ended. */
  UserChanged: 'user-changed',
  /** Every session ended (a new model version). */
  AllCleared: 'all-cleared',
} as const;
export type SessionEventKind = (typeof SessionEventKind)[keyof typeof SessionEventKind];

/** One session event: which sessions (by id hash) or users (by id) it concerns, or all of them. */
export interface SessionEvent {
  readonly kind: SessionEventKind;
  readonly sessionIdHashes: readonly string[];
  readonly userIds: readonly string[];
  /** True when every session is concerned. */
  readonly all: boolean;
  readonly atMs: number;
}

/**
 * Receives session events once the change is committed. The session service publishes
 * them on NATS so that every gateway drops its cached validations; it must not throw.
 */
export type SessionEventSink = (event: SessionEvent) => void;
