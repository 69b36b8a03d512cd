interface IgnoreRule {
  readonly pattern: string;
  readonly exclude: boolean;
  readonly regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**` spans any number of folders, including none (with the slash after it).
        i += 1;
        if (pattern[i + 1] === '/') {
          i += 1;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) out += '\\[';
      else {
        out += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function clean(pattern: string): string {
  let p = pattern.trim().replace(/\/+$/, '');
  while (p.startsWith('/')) p = p.slice(1);
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}

/**
 * The rules of a `.dockerignore` file, as Docker applies them to a build context: Go-style
 * globs (`*`, `?`, `[...]`, and `**` for any number of folders), matched against a path
 * and every folder above it; later rules win, and `!` re-includes.
 */
export class DockerIgnore {
  private readonly rules: readonly IgnoreRule[];

  constructor(text: string) {
    this.rules = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const exclude = !line.startsWith('!');
        const pattern = clean(exclude ? line : line.slice(1));
        return { pattern, exclude, regex: toRegex(pattern) };
      });
  }

  /** Whether a path (relative to the context, `/`-separated) is left out of the build context. */
  ignores(path: string): boolean {
    const parts = clean(path).split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of this.rules) {
      if (prefixes.some((p) => rule.regex.test(p))) ignored = rule.exclude;
    }
    return ignored;
  }
}
