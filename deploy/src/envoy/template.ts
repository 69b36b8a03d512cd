import { UserError } from '@runplane/errors';
import { parseDocument, stringify } from 'yaml';

/** A value a template placeholder may name: a leaf of the render input. */
type Leaf = string | number | boolean | readonly string[];

/** What {@link renderEnvoyTemplate} produced. */
export interface RenderedTemplate {
  /** The configuration, as Envoy will read it: no anchors, no `x-` keys, a header naming its source. */
  readonly text: string;
  /** The same configuration, parsed. */
  readonly config: unknown;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|\s*([a-z_]+)\s*)?\}\}/g;

function isLeaf(value: unknown): value is Leaf {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  );
}

/** Every leaf of the input by its dotted path (`gateway.port`). */
function flatten(input: object, prefix = '', out = new Map<string, Leaf>()): Map<string, Leaf> {
  for (const [key, value] of Object.entries(input as Readonly<Record<string, unknown>>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isLeaf(value)) out.set(path, value);
    else if (typeof value === 'object' && value !== null) flatten(value, path, out);
  }
  return out;
}

/** Milliseconds as a protobuf Duration in its JSON form: 60000 → "60s", 25 → "0.025s". */
export function durationText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return rest === 0 ? `${seconds}s` : `${seconds}.${String(rest).padStart(3, '0').replace(/0+$/, '')}s`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Writes one value into the template, as YAML. */
function format(path: string, value: Leaf, filter: string | undefined): string | { problem: string } {
  switch (filter) {
    case undefined:
      if (typeof value === 'number' && !Number.isFinite(value))
        return { problem: `${path} is not a finite number` };
      return typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
    case 'duration':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        return { problem: `${path} | duration needs a whole, non-negative number of milliseconds` };
      return JSON.stringify(durationText(value));
    case 'exact_paths':
      if (!Array.isArray(value) || value.length === 0)
        return { problem: `${path} | exact_paths needs a non-empty list of paths` };
      return JSON.stringify(`^(${value.map(escapeRegex).join('|')})$`);
    default:
      return { problem: `unknown filter "${filter}" on ${path}` };
  }
}

/**
 * Renders an Envoy configuration template with typed values.
 *
 * `{{ path }}` inserts the input's value at that dotted path as YAML (text is quoted);
 * `{{ path | duration }}` writes milliseconds as "2.5s"; `{{ path | exact_paths }}` writes
 * a list of paths as one anchored regular expression. Full-line comments are dropped
 * before substitution, so they may mention placeholders. The result is parsed (YAML
 * anchors and `<<` merges expanded), top-level keys starting with `x-` (shared pieces) are
 * removed, and it is written out again plainly, after `header`.
 *
 * Throws a {@link UserError} (`ENVOY_TEMPLATE_INVALID`) naming every placeholder without a
 * value, every value no placeholder uses, every bad filter, and YAML errors.
 */
export function renderEnvoyTemplate(template: string, input: object, header: string): RenderedTemplate {
  const values = flatten(input);
  const used = new Set<string>();
  const problems: string[] = [];
  const body = template
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(PLACEHOLDER, (whole, path: string, filter: string | undefined) => {
      const value = values.get(path);
      if (value === undefined) {
        problems.push(`no value for {{ ${path} }}`);
        return whole;
      }
      used.add(path);
      const written = format(path, value, filter);
      if (typeof written === 'string') return written;
      problems.push(written.problem);
      return whole;
    });
  if (body.replace(PLACEHOLDER, '').includes('{{')) problems.push('a "{{" is left that is not a placeholder');
  for (const path of values.keys()) if (!used.has(path)) problems.push(`${path} is not used by the template`);

  let config: unknown;
  if (problems.length === 0) {
    const document = parseDocument(body, { merge: true, uniqueKeys: true });
    for (const error of document.errors) problems.push(`YAML: ${error.message}`);
    if (document.errors.length === 0) {
      // Anchors live in the `x-` pieces, so they are dropped only after aliases are expanded.
      const parsed: unknown = document.toJS({ maxAliasCount: -1 });
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        config = Object.fromEntries(Object.entries(parsed).filter(([key]) => !key.startsWith('x-')));
      } else {
        problems.push('the template is not a YAML mapping');
      }
    }
  }
  if (problems.length > 0) {
    throw new UserError({
      code: 'ENVOY_TEMPLATE_INVALID',
      message: `The Envoy template cannot be rendered:\n  ${problems.join('\n  ')}`,
      details: { problems },
    });
  }
  const text = `${header}${stringify(config, { aliasDuplicateObjects: false, lineWidth: 0, singleQuote: true })}`;
  return { text, config };
}
