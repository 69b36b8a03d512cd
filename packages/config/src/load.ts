import { UserError } from '@runplane/errors';
import type { ConfigField } from './field.js';

/** The shape of a configuration: named settings. */
export type ConfigShape = Readonly<Record<string, ConfigField<unknown>>>;

/** The values a configuration shape yields. */
export type ConfigValues<S extends ConfigShape> = {
  readonly [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never;
};

/** One bad variable. */
export interface ConfigProblem {
  readonly env: string;
  readonly value: string;
  readonly expected: string;
}

/** A configuration that cannot be used. Its message names every bad variable. */
export class ConfigError extends UserError {
  readonly problems: readonly ConfigProblem[];
  constructor(service: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.env}=${p.value}: expected ${p.expected}`);
    super({
      code: 'CONFIG_INVALID',
      message: `Invalid configuration of ${service}:\n${lines.join('\n')}`,
      details: { service, problems },
    });
    this.problems = problems;
  }
}

/** A validated configuration of one service, with the description of its settings. */
export interface ConfigSpec<S extends ConfigShape> {
  readonly service: string;
  readonly shape: S;
  /**
   * Reads and checks every setting; throws {@link ConfigError} listing all bad
   * variables at once. `env` defaults to the process environment.
   */
  load(env?: Readonly<Record<string, string | undefined>>): ConfigValues<S>;
}

/** Declares the configuration of one service. */
export function defineConfig<S extends ConfigShape>(service: string, shape: S): ConfigSpec<S> {
  return {
    service,
    shape,
    load(env = process.env) {
      const values: Record<string, unknown> = {};
      const problems: ConfigProblem[] = [];
      for (const [key, field] of Object.entries(shape)) {
        const raw = env[field.env];
        const text = raw === undefined || raw.trim() === '' ? field.defaultText : raw;
        if (text === undefined) {
          if (field.optional) {
            values[key] = undefined;
            continue;
          }
          problems.push({ env: field.env, value: '(unset)', expected: field.expected });
          continue;
        }
        const parsed = field.schema.safeParse(text);
        if (parsed.success) {
          values[key] = parsed.data;
        } else {
          problems.push({
            env: field.env,
            value: field.secret ? '(hidden)' : JSON.stringify(text),
            expected: field.expected,
          });
        }
      }
      if (problems.length > 0) throw new ConfigError(service, problems);
      return Object.freeze(values) as ConfigValues<S>;
    },
  };
}
