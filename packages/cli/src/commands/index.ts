import type { Command } from '../command.js';
import { checkCommand } from './check.js';
import { evalCommand } from './eval.js';
import { migrateCommand } from './migrate.js';
import { usersCommand } from './users.js';

/**
 * Every command of the CLI, by name. A later command (`migrate`, `users`) is one more
 * entry here.
 */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [checkCommand, evalCommand, migrateCommand, usersCommand].map((c) => [c.name, c]),
);
