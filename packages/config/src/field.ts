import { z } from 'zod';

/**
 * One setting: the environment variable it comes from, how it is checked, its
 * default and a one-line explanation for the README.
 */
export interface ConfigField<T> {
  readonly env: string;
  readonly schema: z.ZodType<T>;
  /** The raw default, as it would be written in the environment; undefined when required or optional. */
  readonly defaultText: string | undefined;
  /** What a valid value looks like, e.g. "an integer from 1 to 65535". */
  readonly expected: string;
  readonly doc: string;
  /** Secrets are never echoed back in error messages. */
  readonly secret: boolean;
  /** True when the variable may be unset and has no default. */
  readonly optional: boolean;
}

interface FieldOptions<D> {
  readonly default?: D;
  readonly doc: string;
  readonly secret?: boolean;
}

type Built<T, O> = O extends { default: unknown } ? ConfigField<T> : ConfigField<T | undefined>;

function build<T, O extends FieldOptions<unknown>>(
  env: string,
  schema: z.ZodType<T>,
  expected: string,
  options: O,
  show: (v: NonNullable<O['default']>) => string = String,
): Built<T, O> {
  const hasDefault = options.default !== undefined;
  const field: ConfigField<T | undefined> = {
    env,
    schema: hasDefault ? schema : schema.optional(),
    defaultText: hasDefault ? show(options.default as NonNullable<O['default']>) : undefined,
    expected,
    doc: options.doc,
    secret: options.secret ?? false,
    optional: !hasDefault,
  };
  return field as Built<T, O>;
}

const trimmed = z.string().trim();

/** Builders of settings, one per kind of value. */
export const setting = {
  /** Free text. */
  string<O extends FieldOptions<string>>(env: string, options: O): Built<string, O> {
    return build(env, trimmed.min(1), 'a non-empty string', options);
  },

  /** An integer in a range. */
  integer<O extends FieldOptions<number> & { min?: number; max?: number }>(
    env: string,
    options: O,
  ): Built<number, O> {
    const min = options.min ?? Number.MIN_SAFE_INTEGER;
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    const schema = trimmed
      .regex(/^-?\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max));
    const range =
      options.min !== undefined && options.max !== undefined
        ? `an integer from ${min} to ${max}`
        : options.min !== undefined
          ? `an integer of at least ${min}`
          : 'an integer';
    return build(env, schema, range, options);
  },

  /** A TCP port. */
  port<O extends FieldOptions<number>>(env: string, options: O): Built<number, O> {
    const schema = trimmed.regex(/^\d+$/).transform(Number).pipe(z.number().int().min(0).max(65535));
    return build(env, schema, 'a port number from 0 to 65535', options);
  },

  /** A duration in milliseconds; the variable name should end in `_MS`. */
  durationMs<O extends FieldOptions<number> & { min?: number }>(env: string, options: O): Built<number, O> {
    const min = options.min ?? 0;
    const schema = trimmed.regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min));
    return build(env, schema, `a whole number of milliseconds, at least ${min}`, options);
  },

  /** `true` or `false` (also 1/0, yes/no, on/off). */
  boolean<O extends FieldOptions<boolean>>(env: string, options: O): Built<boolean, O> {
    const schema = trimmed
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
      .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
    return build(env, schema, 'true or false', options);
  },

  /** One of a fixed set of words. */
  oneOf<const V extends readonly [string, ...string[]], O extends FieldOptions<V[number]>>(
    env: string,
    values: V,
    options: O,
  ): Built<V[number], O> {
    return build(env, trimmed.pipe(z.enum(values)), `one of ${values.join(', ')}`, options);
  },

  /** A URL with one of the given protocols, e.g. `postgres:`. */
  url<O extends FieldOptions<string>>(
    env: string,
    protocols: readonly string[],
    options: O,
  ): Built<string, O> {
    const schema = trimmed.refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    });
    const names = protocols.map((p) => `${p}//…`).join(' or ');
    return build(env, schema, `a URL of the form ${names}`, options);
  },

  /** A comma-separated list of URLs with one of the given protocols. */
  urlList<O extends FieldOptions<readonly string[]>>(
    env: string,
    protocols: readonly string[],
    options: O,
  ): Built<readonly string[], O> {
    const schema = trimmed.transform((v, ctx) => {
      const parts = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      for (const p of parts) {
        let ok: boolean;
        try {
          ok = protocols.includes(new URL(p).protocol);
        } catch {
          ok = false;
        }
        if (!ok) ctx.addIssue({ code: 'custom', message: `"${p}" is not a valid URL` });
      }
      if (parts.length === 0) ctx.addIssue({ code: 'custom', message: 'empty list' });
      return parts;
    });
    const names = protocols.map((p) => `${p}//…`).join(' or ');
    return build(env, schema, `a comma-separated list of URLs of the form ${names}`, options, (v) =>
      v.join(','),
    );
  },

  /** A `host:port` address (IPv6 hosts in brackets). */
  address<O extends FieldOptions<string>>(env: string, options: O): Built<string, O> {
    const schema = trimmed.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/).refine((v) => {
      const port = Number(v.slice(v.lastIndexOf(':') + 1));
      return port >= 0 && port <= 65535;
    });
    return build(env, schema, 'host:port, e.g. 127.0.0.1:50051', options);
  },

  /** Text matching a pattern. */
  matching<O extends FieldOptions<string>>(
    env: string,
    pattern: RegExp,
    expected: string,
    options: O,
  ): Built<string, O> {
    return build(env, trimmed.regex(pattern), expected, options);
  },

  /** A file-system path. */
  path<O extends FieldOptions<string>>(env: string, options: O): Built<string, O> {
    return build(env, trimmed.min(1), 'a file-system path', options);
  },
} as const;
