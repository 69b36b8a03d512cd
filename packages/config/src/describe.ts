import type { ConfigShape, ConfigSpec } from './load.js';

/** One row of the configuration table. */
export interface ConfigRow {
  readonly env: string;
  /** The default; where services differ, the most common one first, then the others with their services. */
  readonly defaults: readonly { readonly value: string; readonly services: readonly string[] }[];
  readonly doc: string;
  readonly expected: string;
  /** The services that read it, or `['all']`. */
  readonly services: readonly string[];
}

/** The configuration table of several services: one row per variable, `RUNPLANE_*` first, sorted by name. */
export function describeConfigs(specs: readonly ConfigSpec<ConfigShape>[]): ConfigRow[] {
  const rows = new Map<
    string,
    { env: string; defaults: Map<string, string[]>; doc: string; expected: string; services: string[] }
  >();
  for (const spec of specs) {
    for (const field of Object.values(spec.shape)) {
      let row = rows.get(field.env);
      if (!row) {
        row = { env: field.env, defaults: new Map(), doc: field.doc, expected: field.expected, services: [] };
        rows.set(field.env, row);
      }
      if (!row.services.includes(spec.service)) row.services.push(spec.service);
      const value = field.defaultText ?? '';
      row.defaults.set(value, [...(row.defaults.get(value) ?? []), spec.service]);
    }
  }
  return [...rows.values()]
    .map((row) => ({
      env: row.env,
      defaults: [...row.defaults.entries()]
        .sort((a, b) => b[1].length - a[1].length)
        .map(([value, services]) => ({ value, services })),
      doc: row.doc,
      expected: row.expected,
      services: row.services.length === specs.length ? ['all'] : row.services,
    }))
    .sort((a, b) => {
      const ao = a.env.startsWith('OTEL_') ? 1 : 0;
      const bo = b.env.startsWith('OTEL_') ? 1 : 0;
      return ao - bo || a.env.localeCompare(b.env);
    });
}

/** The configuration table as Markdown. */
export function configTableMarkdown(specs: readonly ConfigSpec<ConfigShape>[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const code = (s: string): string => (s === '' ? '—' : `\`${esc(s)}\``);
  const lines = ['| Variable | Default | Used by | Meaning |', '|---|---|---|---|'];
  for (const row of describeConfigs(specs)) {
    const [first, ...others] = row.defaults;
    const def = [
      code(first?.value ?? ''),
      ...others.map((d) => `${code(d.value)} in ${d.services.join(', ')}`),
    ].join('; ');
    lines.push(
      `| \`${row.env}\` | ${def} | ${row.services.join(', ')} | ${esc(row.doc)} (${esc(row.expected)}) |`,
    );
  }
  return lines.join('\n');
}
