/** Splits expression text into tokens, never throwing: bad input becomes `Invalid` tokens. */

/** Kinds of expression tokens. */
export type TokenKind =
  'String' | 'Number' | 'Variable' | 'Constant' | 'Token' | 'Name' | 'Punct' | 'Invalid' | 'EOF';

/** A token with its offsets in the source. */
export interface LexToken {
  readonly kind: TokenKind;
  /** The source text of the token. */
  readonly text: string;
  /** For strings: the unquoted value; for variables, constants and tokens: the name; for invalid tokens: the problem. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

const PUNCT = ['!=', '<=', '>=', '(', ')', ',', '/', ':', '+', '-', '*', '=', '<', '>'];

function isIdentStart(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
}

function isIdentPart(ch: string): boolean {
  return isIdentStart(ch) || (ch >= '0' && ch <= '9');
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

/** Reads an identifier at `pos`, with `.`-separated parts when `dotted`; returns its end. */
export function identifierEnd(source: string, pos: number, dotted: boolean): number {
  let i = pos;
  while (i < source.length && isIdentPart(source.charAt(i))) i++;
  if (dotted) {
    while (source.charAt(i) === '.' && isIdentStart(source.charAt(i + 1))) {
      i++;
      while (i < source.length && isIdentPart(source.charAt(i))) i++;
    }
  }
  return i;
}

/** Tokenizes a whole expression; the last token is always `EOF`. */
export function tokenize(source: string): LexToken[] {
  const tokens: LexToken[] = [];
  let pos = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: string) => {
    const text = source.slice(start, end);
    tokens.push({ kind, text, value: value ?? text, start, end });
  };
  while (pos < source.length) {
    const ch = source.charAt(pos);
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\u00a0') {
      pos++;
      continue;
    }
    const start = pos;
    if (ch === "'") {
      let value = '';
      let i = pos + 1;
      let closed = false;
      while (i < source.length) {
        const c = source.charAt(i);
        if (c === "'") {
          if (source.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (closed) push('String', start, i, value);
      else push('Invalid', start, i, 'unterminated string');
      pos = i;
      continue;
    }
    if (isDigit(ch) || (ch === '.' && isDigit(source.charAt(pos + 1)))) {
      let i = pos;
      while (isDigit(source.charAt(i))) i++;
      if (source.charAt(i) === '.' && isDigit(source.charAt(i + 1))) {
        i++;
        while (isDigit(source.charAt(i))) i++;
      }
      const e = source.charAt(i);
      if (e === 'e' || e === 'E') {
        let j = i + 1;
        if (source.charAt(j) === '+' || source.charAt(j) === '-') j++;
        if (isDigit(source.charAt(j))) {
          while (isDigit(source.charAt(j))) j++;
          i = j;
        }
      }
      if (isIdentStart(source.charAt(i))) {
        const end = identifierEnd(source, i, false);
        push('Invalid', start, end, 'a number cannot be followed directly by letters');
        pos = end;
        continue;
      }
      push('Number', start, i);
      pos = i;
      continue;
    }
    if (ch === '$') {
      const end = identifierEnd(source, pos + 1, false);
      if (end === pos + 1 || !isIdentStart(source.charAt(pos + 1))) {
        push('Invalid', start, pos + 1, 'a variable name must follow `$`');
        pos++;
      } else {
        push('Variable', start, end, source.slice(pos + 1, end));
        pos = end;
      }
      continue;
    }
    if (ch === '@') {
      const end = identifierEnd(source, pos + 1, true);
      if (end === pos + 1 || !isIdentStart(source.charAt(pos + 1))) {
        push('Invalid', start, pos + 1, 'a constant name must follow `@`');
        pos++;
      } else {
        push('Constant', start, end, source.slice(pos + 1, end));
        pos = end;
      }
      continue;
    }
    if (ch === '[' && source.charAt(pos + 1) === '%') {
      const close = source.indexOf('%]', pos + 2);
      if (close < 0) {
        push('Invalid', start, source.length, 'unterminated token: `[%` needs a closing `%]`');
        pos = source.length;
      } else {
        push('Token', start, close + 2, source.slice(pos + 2, close));
        pos = close + 2;
      }
      continue;
    }
    if (isIdentStart(ch)) {
      const end = identifierEnd(source, pos, true);
      push('Name', start, end);
      pos = end;
      continue;
    }
    const punct = PUNCT.find((p) => source.startsWith(p, pos));
    if (punct !== undefined) {
      push('Punct', start, pos + punct.length);
      pos += punct.length;
      continue;
    }
    // One UTF-16 unit at a time would split a surrogate pair; take the whole code point.
    const cp = source.codePointAt(pos) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    push('Invalid', start, pos + width, ch === '"' ? 'strings use single quotes' : `unexpected character`);
    pos += width;
  }
  tokens.push({ kind: 'EOF', text: '', value: '', start: source.length, end: source.length });
  return tokens;
}
