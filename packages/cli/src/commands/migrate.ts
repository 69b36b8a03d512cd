import { executorConfig } from '@runplane/config';
import { isRunplaneError } from '@runplane/errors';
import { loadModel } from '@runplane/model';
import { formatPlan, migrateDatabase, planMigration, type DatabaseLocation } from '@runplane/persistence';
import { UsageError, parseArgs } from '../args.js';
import { ExitCode, type Command } from '../command.js';
import { printModelErrors } from './check.js';

/** The database a migration works on: the flags, else the executor's configuration. */
function locationOf(values: ReadonlyMap<string, readonly string[]>): DatabaseLocation {
  const url = values.get('database-url')?.at(-1);
  const dataDir = values.get('data-dir')?.at(-1);
  if (url !== undefined && dataDir !== undefined)
    throw new UsageError('Give --database-url or --data-dir, not both.');
  if (dataDir !== undefined) return { kind: 'embedded', dataDir };
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError('--database-url takes a postgres:// URL.');
    return { kind: 'postgres', url, poolSize: 2 };
  }
  return { kind: 'postgres', url: executorConfig.load().databaseUrl, poolSize: 2 };
}

/** `runplane migrate [--dry-run] <model-dir>`: brings the database to the model. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Bring the database schema to an app model (or print the plan with --dry-run).',
  usage: `Usage: runplane migrate [--dry-run] [--database-url <url> | --data-dir <dir>] <model-dir>

Compares the model in <model-dir> with the database and brings the database to it:
creates, renames, changes and drops tables, columns, constraints and indexes. Elements
are matched on their ids in the model, so a renamed entity or attribute keeps its data.
Everything runs in one transaction under a PostgreSQL advisory lock, so several
migrators starting together migrate once; the model version is recorded.

Prints one line per step; steps that lose data are marked [LOSES DATA].

  --dry-run             print the plan and change nothing
  --database-url <url>  the PostgreSQL database (default: RUNPLANE_DATABASE_URL); it is
                        created when it does not exist
  --data-dir <dir>      the embedded (PGlite) database in <dir> instead
`,
  async run(args, io) {
    const parsed = parseArgs(args, { values: ['database-url', 'data-dir'], switches: ['dry-run'] });
    const [dir, ...extra] = parsed.positionals;
    if (dir === undefined || extra.length > 0) {
      io.err(this.usage);
      return ExitCode.Usage;
    }
    const result = await loadModel(dir);
    if (!result.ok) {
      printModelErrors(io, dir, result.errors, false);
      return ExitCode.Failed;
    }
    try {
      const location = locationOf(parsed.values);
      if (parsed.switches.has('dry-run')) {
        const plan = await planMigration(result.model, location);
        io.out(`${formatPlan(plan)}\n`);
        return ExitCode.Ok;
      }
      const { plan } = await migrateDatabase(result.model, location);
      io.out(`${formatPlan(plan, { applied: true })}\n`);
      return ExitCode.Ok;
    } catch (error) {
      if (!isRunplaneError(error)) throw error;
      io.err(`${error.code}: ${error.message}\n`);
      return ExitCode.Failed;
    }
  },
};
