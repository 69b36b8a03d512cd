import type { CompiledModel } from '@runplane/model';
import {
  SYSTEM_CONTEXT,
  type MxObject,
  type RunplaneDatabase,
  type RunplaneUnitOfWork,
} from '@runplane/persistence';
import type { SessionEventSink } from './events.js';
import { PasswordHasher } from './password.js';

/** Names of the System module this package works with. */
export const System = {
  User: 'System.User',
  UserRole: 'System.UserRole',
  Session: 'System.Session',
  UserRoles: 'System.UserRoles',
  SessionUser: 'System.Session_User',
  AdministratorModuleRole: 'System.Administrator',
} as const;

/** A clock in epoch milliseconds; injectable so tests can move time. */
export type Clock = () => number;

/** How users and sessions behave. */
export interface IdentitySettings {
  /** A session ends after this long without activity. Default: the model's setting (600000). */
  readonly sessionTimeoutMs: number;
  /** Failed logins in a row that block a user. Default: the model's setting (3). */
  readonly maxFailedLogins: number;
  /** A user blocked by failed logins is unblocked by the leader duty after this long. Default: the model's setting (300000). */
  readonly unblockAfterMs: number;
  /**
   * A session's LastActive is written only when it is older than this, so that requests do
   * not each write; a session may therefore end up to this much before a full timeout after
   * its last request. Default: a tenth of the timeout.
   */
  readonly activityWriteIntervalMs: number;
  /** Failed logins count and block (Mendix: at the production security level only). Default: the model's level is production. */
  readonly throttleLogins: boolean;
}

/** The settings for a model, with overrides. */
export function identitySettings(
  model: CompiledModel,
  overrides: Partial<IdentitySettings> = {},
): IdentitySettings {
  const sessionTimeoutMs = overrides.sessionTimeoutMs ?? model.settings.sessionTimeoutMs;
  return {
    sessionTimeoutMs,
    maxFailedLogins: overrides.maxFailedLogins ?? model.settings.maxFailedLogins,
    unblockAfterMs: overrides.unblockAfterMs ?? model.settings.blockedUserTimeoutMs,
    activityWriteIntervalMs: overrides.activityWriteIntervalMs ?? Math.floor(sessionTimeoutMs / 10),
    throttleLogins: overrides.throttleLogins ?? model.security.level === 'production',
  };
}

/** What the users and sessions of one app are built on. */
export interface IdentityOptions {
  /** The app's database; every read and write goes through its units of work in the system context. */
  readonly database: RunplaneDatabase;
  readonly settings?: Partial<IdentitySettings>;
  /** Told about logouts, blocks and role changes after they commit. */
  readonly events?: SessionEventSink;
  readonly clock?: Clock;
  /** Password hashing; scrypt with {@link DEFAULT_SCRYPT_PARAMETERS} when not given. */
  readonly passwordHasher?: PasswordHasher;
  /** Told about failures of work done after an answer was given (writing a failed-login count). */
  readonly onBackgroundError?: (error: unknown) => void;
}

/** Shared by the user directory and the session registry. */
export class IdentityContext {
  readonly database: RunplaneDatabase;
  readonly model: CompiledModel;
  readonly settings: IdentitySettings;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  private readonly sink: SessionEventSink | undefined;
  private readonly onBackgroundError: ((error: unknown) => void) | undefined;

  constructor(options: IdentityOptions) {
    this.database = options.database;
    this.model = options.database.model;
    this.settings = identitySettings(this.model, options.settings);
    this.clock = options.clock ?? Date.now;
    this.hasher = options.passwordHasher ?? new PasswordHasher();
    this.sink = options.events;
    this.onBackgroundError = options.onBackgroundError;
  }

  /** Runs `work` in one system-context transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(work: (uow: RunplaneUnitOfWork) => Promise<T>): Promise<T> {
    return this.database.transaction(SYSTEM_CONTEXT, work);
  }

  reportError(error: unknown): void {
    this.onBackgroundError?.(error);
  }

  emit(event: Parameters<SessionEventSink>[0]): void {
    this.sink?.(event);
  }

  /** The time zone sessions carry: the app's default (System.User has no time zone of its own). */
  get timeZone(): string {
    return this.model.settings.defaultTimeZone;
  }
}

/** Reads a Boolean attribute; empty counts as false. */
export function flag(object: MxObject, attribute: string): boolean {
  return object.get(attribute) === true;
}

/** Reads an Integer attribute as a number; empty counts as 0. */
export function count(object: MxObject, attribute: string): number {
  const v = object.get(attribute);
  return typeof v === 'bigint' ? Number(v) : 0;
}

/** Reads a DateTime attribute in epoch ms, or undefined when empty. */
export function timeOf(object: MxObject, attribute: string): number | undefined {
  const v = object.get(attribute);
  return v instanceof Date ? v.getTime() : undefined;
}

/** Reads a String attribute; empty counts as ''. */
export function text(object: MxObject, attribute: string): string {
  const v = object.get(attribute);
  return typeof v === 'string' ? v : '';
}
