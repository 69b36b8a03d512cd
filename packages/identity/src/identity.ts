import { IdentityContext, type IdentityOptions, type IdentitySettings } from './context.js';
import { provisionIdentity, type ProvisionResult, type ProvisionSettings } from './provision.js';
import { SessionRegistry } from './sessions.js';
import { UserDirectory } from './users.js';

/** The users and sessions of one app, over its database. */
export interface Identity {
  readonly users: UserDirectory;
  readonly sessions: SessionRegistry;
  /** The settings in force (options over the model's settings). */
  readonly settings: IdentitySettings;
  /** Start-up work: role sync, first administrator, demo users (see {@link provisionIdentity}). */
  provision(settings: ProvisionSettings): Promise<ProvisionResult>;
}

/** Builds the users and sessions of the app whose database is given. Opens nothing itself. */
export function createIdentity(options: IdentityOptions): Identity {
  const ctx = new IdentityContext(options);
  const users = new UserDirectory(ctx);
  const sessions = new SessionRegistry(ctx, users);
  return {
    users,
    sessions,
    settings: ctx.settings,
    provision: (settings) => provisionIdentity(ctx, users, settings),
  };
}
