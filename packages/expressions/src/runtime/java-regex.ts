/**
 * Java regular expressions (`java.util.regex.Pattern`) as JavaScript ones: the common syntax
 * is shared; `\Q…\E` quoting, `\A`, `\z`, `\Z` and leading inline flags `(?i)`, `(?s)`,
 * `(?m)` are translated; possessive quantifiers and atomic groups are rejected.
 */

/** A translated pattern, or why it cannot be used. */
export type JavaRegexResult =
  { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

const cache = new Map<string, JavaRegexResult>();

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * Translates a Java pattern. `mode` is `full` for `isMatch` (the whole string must match) or
 * `global` / `first` for `replaceAll` / `replaceFirst`.
 */
export function javaRegex(pattern: string, mode: 'full' | 'global' | 'first'): JavaRegexResult {
  const key = `${mode}\u0000${pattern}`;
  let cached = cache.get(key);
  if (cached === undefined) {
    cached = translate(pattern, mode);
    if (cache.size > 1000) cache.clear();
    cache.set(key, cached);
  }
  return cached;
}

function translate(pattern: string, mode: 'full' | 'global' | 'first'): JavaRegexResult {
  let flags = '';
  let body = pattern;
  for (;;) {
    const inline = /^\(\?([imsux]+)\)/.exec(body);
    if (inline === null) break;
    for (const f of inline[1] ?? '') {
      if (f === 'x' || f === 'u') return { ok: false, message: `The inline flag (?${f}) is not supported` };
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body.charAt(i);
    if (ch === '\\') {
      const next = body.charAt(i + 1);
      if (next === 'Q') {
        const end = body.indexOf('\\E', i + 2);
        const literal = end < 0 ? body.slice(i + 2) : body.slice(i + 2, end);
        out += escapeLiteral(literal);
        i = end < 0 ? body.length : end + 1;
        continue;
      }
      if (!inClass && next === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (!inClass && next === 'z') {
        out += '$(?![\\s\\S])';
        i++;
        continue;
      }
      if (!inClass && next === 'Z') {
        out += '(?=\\n?$)';
        i++;
        continue;
      }
      if ((next === 'p' || next === 'P') && body.charAt(i + 2) === '{') {
        const close = body.indexOf('}', i + 3);
        const end = close < 0 ? body.length : close + 1;
        out += body.slice(i, end);
        i = end - 1;
        continue;
      }
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (body.charAt(i + 1) === '^') {
        out += '^';
        i++;
      }
      if (body.charAt(i + 1) === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if ((ch === '+' || ch === '*' || ch === '?' || ch === '}') && body.charAt(i + 1) === '+') {
      return { ok: false, message: 'Possessive quantifiers (e.g. `a*+`) are not supported' };
    }
    if (ch === '(' && body.startsWith('(?>', i)) {
      return { ok: false, message: 'Atomic groups `(?>...)` are not supported' };
    }
    out += ch;
  }
  const source = mode === 'full' ? `^(?:${out})$` : out;
  const jsFlags = flags.replace(/[^ims]/g, '') + (mode === 'global' ? 'g' : '');
  for (const extra of ['u', '']) {
    try {
      return { ok: true, regex: new RegExp(source, jsFlags + extra) };
    } catch (error) {
      if (extra === '') {
        return {
          ok: false,
          message: `Invalid regular expression: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
  }
  return { ok: false, message: 'Invalid regular expression' };
}
