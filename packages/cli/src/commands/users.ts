import { connectNats, type Bus } from '@runplane/bus';
import { sessionConfig } from '@runplane/config';
import { isRunplaneError } from '@runplane/errors';
import { createIdentity, publishSessionEvents, type Identity, type UserSummary } from '@runplane/identity';
import { loadModel } from '@runplane/model';
import { openDatabase, type DatabaseLocation, type RunplaneDatabase } from '@runplane/persistence';
import { UsageError, parseArgs, type ParsedArgs } from '../args.js';
import { ExitCode, type Command } from '../command.js';
import type { CliIo } from '../io.js';
import { printModelErrors } from './check.js';

const SUBCOMMANDS = ['list', 'add', 'set-password', 'set-roles', 'block', 'unblock'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const USAGE = `Usage: runplane users <subcommand> [options]

Manages the users of an app in its database (System.User), as an operator.

  list                               every user with roles and state
  add <name> --role <role>...        a new user; the password is read from standard input
      [--entity <Module.Entity>]     a specialisation of System.User to create (default System.User)
      [--web-service-user]           a user for published services only, who cannot sign in
  set-password <name>                a new password, read from standard input; ends the user's sessions
  set-roles <name> --role <role>...  replaces the user's roles
  block <name>                       blocks the user until unblocked and ends their sessions
  unblock <name>                     unblocks the user and resets the failed-login count

Passwords are checked against the model's password policy and read from the first line of
standard input (type it and press Enter, or pipe it), never from the command line, where
other users of the machine could see it.

  --model <dir>          the app model (default: RUNPLANE_MODEL_DIR)
  --database-url <url>   the PostgreSQL database (default: RUNPLANE_DATABASE_URL)
  --data-dir <dir>       the embedded database of standalone mode instead (stop Runplane first)

Changes that end sessions or change roles are announced on NATS (RUNPLANE_NATS_URL,
RUNPLANE_NATS_NAMESPACE) so that every gateway drops its cached sessions at once; when NATS
cannot be reached, gateways notice within RUNPLANE_SESSION_CACHE_MS.
`;

function locationOf(args: ParsedArgs, defaultUrl: () => string): DatabaseLocation {
  const url = args.values.get('database-url')?.at(-1);
  const dataDir = args.values.get('data-dir')?.at(-1);
  if (url !== undefined && dataDir !== undefined)
    throw new UsageError('Give --database-url or --data-dir, not both.');
  if (dataDir !== undefined) return { kind: 'embedded', dataDir };
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--database-url takes a postgres:// URL.');
    return { kind: 'postgres', url, poolSize: 2 };
  }
  return { kind: 'postgres', url: defaultUrl(), poolSize: 2 };
}

async function readPassword(io: CliIo): Promise<string> {
  for await (const line of io.lines()) return line;
  throw new UsageError('Give the password on standard input.');
}

function formatUsers(users: readonly UserSummary[]): string {
  if (users.length === 0) return 'No users.\n';
  const rows = users.map((u) => [
    u.name,
    u.roles.join(', ') || '(none)',
    u.entity,
    !u.active
      ? 'inactive'
      : u.blocked
        ? u.blockedSinceMs === undefined
          ? 'blocked'
          : 'blocked (failed logins)'
        : 'active',
    u.lastLoginMs === undefined ? 'never' : new Date(u.lastLoginMs).toISOString(),
  ]);
  const header = ['NAME', 'ROLES', 'ENTITY', 'STATE', 'LAST LOGIN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** What one run works with: the database, the identity over it, the bus if reachable. */
interface Session {
  readonly database: RunplaneDatabase;
  readonly identity: Identity;
  readonly bus: Bus | undefined;
}

async function openSession(args: ParsedArgs, io: CliIo): Promise<Session | number> {
  // Settings come from the session service's configuration (only @runplane/config reads the environment).
  const config = sessionConfig.load();
  const modelDir = args.values.get('model')?.at(-1) ?? config.modelDir;
  const loaded = await loadModel(modelDir);
  if (!loaded.ok) {
    printModelErrors(io, modelDir, loaded.errors, false);
    return ExitCode.Failed;
  }
  const location = locationOf(args, () => config.databaseUrl);
  // Never migrate from here: a model newer than the deployed one must not change production.
  const database = await openDatabase(loaded.model, location, { migrate: 'none', createDatabase: false });
  const plan = await database.planMigration();
  if (plan.steps.length > 0) {
    await database.close();
    io.err(
      `The database is not at the version of the model in ${modelDir} (${plan.steps.length} schema steps apart). ` +
        'Start Runplane with this model, or run `runplane migrate`, first.\n',
    );
    return ExitCode.Failed;
  }
  let bus: Bus | undefined;
  if (location.kind === 'postgres') {
    try {
      bus = await connectNats({ servers: [...config.natsUrl], name: 'runplane-cli', connectTimeoutMs: 2000 });
    } catch {
      io.err(
        'warning: NATS cannot be reached; gateways will drop cached sessions only when RUNPLANE_SESSION_CACHE_MS runs out.\n',
      );
    }
  }
  const identity = createIdentity({
    database,
    ...(bus === undefined
      ? {}
      : {
          events: publishSessionEvents(bus, config.natsNamespace, () => {
            io.err('warning: a session event could not be published.\n');
          }),
        }),
  });
  return { database, identity, bus };
}

async function runSubcommand(
  sub: Subcommand,
  operands: readonly string[],
  args: ParsedArgs,
  session: Session,
  io: CliIo,
): Promise<number> {
  const { users } = session.identity;
  const roles = args.values.get('role') ?? [];
  const name = operands[0] ?? '';
  switch (sub) {
    case 'list':
      io.out(formatUsers(await users.list()));
      return ExitCode.Ok;
    case 'add': {
      const entity = args.values.get('entity')?.at(-1);
      const added = await users.add({
        name,
        password: await readPassword(io),
        roles,
        ...(entity === undefined ? {} : { entity }),
        webServiceUser: args.switches.has('web-service-user'),
      });
      io.out(`Added ${added.name} (${added.entity}) with roles ${added.roles.join(', ')}.\n`);
      return ExitCode.Ok;
    }
    case 'set-password':
      await users.setPassword(name, await readPassword(io));
      io.out(`Set the password of ${name}; their sessions have ended.\n`);
      return ExitCode.Ok;
    case 'set-roles':
      await users.setRoles(name, roles);
      io.out(`${name} now has the roles ${[...roles].sort().join(', ')}.\n`);
      return ExitCode.Ok;
    case 'block':
      await users.block(name);
      io.out(`Blocked ${name}; their sessions have ended.\n`);
      return ExitCode.Ok;
    case 'unblock':
      await users.unblock(name);
      io.out(`Unblocked ${name}.\n`);
      return ExitCode.Ok;
  }
}

/** `runplane users list|add|set-password|set-roles|block|unblock`: the operator's user management. */
export const usersCommand: Command = {
  name: 'users',
  summary: 'Manage the users of an app: list, add, set-password, set-roles, block, unblock.',
  usage: USAGE,
  async run(argv, io) {
    const args = parseArgs(argv, {
      values: ['model', 'database-url', 'data-dir', 'role', 'entity'],
      switches: ['web-service-user'],
    });
    const [sub, ...operands] = args.positionals;
    if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(sub === undefined ? 'Name a subcommand.' : `Unknown subcommand '${sub}'.`);
    }
    const subcommand = sub as Subcommand;
    const wantsName = subcommand !== 'list';
    if (operands.length !== (wantsName ? 1 : 0)) {
      throw new UsageError(
        wantsName ? `users ${subcommand} takes one user name.` : 'users list takes no operands.',
      );
    }
    if ((subcommand === 'add' || subcommand === 'set-roles') && !args.values.has('role')) {
      throw new UsageError(`users ${subcommand} needs at least one --role.`);
    }
    let opened: Session | number;
    try {
      opened = await openSession(args, io);
    } catch (error) {
      if (!isRunplaneError(error)) throw error;
      io.err(`${error.code}: ${error.message}\n`);
      return ExitCode.Failed;
    }
    if (typeof opened === 'number') return opened;
    try {
      return await runSubcommand(subcommand, operands, args, opened, io);
    } catch (error) {
      if (!isRunplaneError(error)) throw error;
      io.err(`${error.code}: ${error.message}\n`);
      return ExitCode.Failed;
    } finally {
      await opened.identity.sessions.drain();
      await opened.bus?.close({ gracePeriodMs: 1000 });
      await opened.database.close();
    }
  },
};
