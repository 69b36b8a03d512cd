/** A small, strict parser for `--flag value`, `--flag=value`, repeated flags and positionals. */

/** How a command's flags are declared. */
export interface FlagSpec {
  /** Flags that take a value; repeatable ones collect every value. */
  readonly values?: readonly string[];
  /** Flags without a value. */
  readonly switches?: readonly string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Every value given per value flag, in order. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly switches: ReadonlySet<string>;
}

/** Thrown for arguments a command does not accept; the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `args` by `spec`. After `--` everything is positional. */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  const valueFlags = new Set(spec.values ?? []);
  const switchFlags = new Set(spec.switches ?? []);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (switchFlags.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value.`);
      switches.add(name);
      continue;
    }
    if (!valueFlags.has(name)) throw new UsageError(`Unknown option --${name}.`);
    let value: string | undefined;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value.`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { positionals, values, switches };
}
