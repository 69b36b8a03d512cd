/**
 * Maps offsets in the value of a YAML scalar back to offsets in the file, so that an
 * error at column 7 of an expression points at the right place in the file whatever
 * the scalar style: plain, single- or double-quoted (with escapes and line folding),
 * literal or folded block.
 *
 * The decoder here re-derives the value from the source text; when its result differs
 * from the value the YAML parser produced (an exotic case), every offset maps to the
 * start of the scalar instead of to a wrong place.
 */

/** A scalar as the YAML parser reports it. */
export interface ScalarSource {
  /** 'PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE', 'BLOCK_LITERAL' or 'BLOCK_FOLDED'. */
  readonly type: string | undefined;
  /** Offset of the first character of the scalar in the file (its quote or block indicator). */
  readonly start: number;
  /** Offset just after the scalar's value. */
  readonly end: number;
  /** The parsed value. */
  readonly value: string;
}

/** For each offset 0..value.length in the scalar's value, the offset in the file. */
export type OffsetMap = (valueOffset: number) => number;

interface Decoded {
  chars: string[];
  offsets: number[];
}

/** Builds the offset map of a scalar within `text`. */
export function scalarOffsetMap(text: string, scalar: ScalarSource): OffsetMap {
  let decoded: Decoded | undefined;
  switch (scalar.type) {
    case 'PLAIN':
      decoded = decodeFlow(text, scalar.start, scalar.end, 'plain');
      break;
    case 'QUOTE_SINGLE':
      decoded = decodeFlow(text, scalar.start + 1, scalar.end - 1, 'single');
      break;
    case 'QUOTE_DOUBLE':
      decoded = decodeFlow(text, scalar.start + 1, scalar.end - 1, 'double');
      break;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED':
      decoded = decodeBlock(text, scalar.start, scalar.end, scalar.type === 'BLOCK_FOLDED');
      break;
    default:
      decoded = undefined;
  }
  const value = scalar.value;
  if (decoded === undefined || !decodedMatches(decoded, value)) {
    return () => scalar.start;
  }
  const offsets = decoded.offsets;
  const endOffset = scalar.end;
  return (valueOffset: number) => {
    if (valueOffset < 0) return offsets[0] ?? scalar.start;
    if (valueOffset >= value.length) {
      // Just past the last character: right after it in the file.
      const last = offsets[value.length - 1];
      return last === undefined ? endOffset : last + 1;
    }
    return offsets[valueOffset] ?? scalar.start;
  };
}

function decodedMatches(decoded: Decoded, value: string): boolean {
  if (decoded.chars.length < value.length) return false;
  for (let i = 0; i < value.length; i++) {
    if (decoded.chars[i] !== value[i]) return false;
  }
  // Block scalars may differ only in trailing newlines (chomping).
  for (let i = value.length; i < decoded.chars.length; i++) {
    if (decoded.chars[i] !== '\n') return false;
  }
  return true;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

function lineBreakLength(text: string, i: number): number {
  if (text[i] === '\n') return 1;
  if (text[i] === '\r') return text[i + 1] === '\n' ? 2 : 1;
  return 0;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPES: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Plain and quoted scalars: escapes (double), '' (single) and line folding. */
function decodeFlow(text: string, from: number, to: number, style: 'plain' | 'single' | 'double'): Decoded {
  const chars: string[] = [];
  const offsets: number[] = [];
  // Blanks at the end of a line are dropped when a line break follows; escaped ones stay.
  let trailingBlanks = 0;
  let i = from;
  while (i < to) {
    const c = text[i] ?? '';
    const br = lineBreakLength(text, i);
    if (br > 0) {
      chars.length -= trailingBlanks;
      offsets.length -= trailingBlanks;
      trailingBlanks = 0;
      const breakAt = i;
      i += br;
      let emptyLines = 0;
      for (;;) {
        while (i < to && isBlank(text[i])) i++;
        const next = lineBreakLength(text, i);
        if (next > 0 && i < to) {
          emptyLines++;
          i += next;
          continue;
        }
        break;
      }
      if (emptyLines === 0) {
        chars.push(' ');
        offsets.push(breakAt);
      } else {
        for (let k = 0; k < emptyLines; k++) {
          chars.push('\n');
          offsets.push(breakAt);
        }
      }
      continue;
    }
    if (style === 'single' && c === "'" && text[i + 1] === "'") {
      chars.push("'");
      offsets.push(i);
      trailingBlanks = 0;
      i += 2;
      continue;
    }
    if (style === 'double' && c === '\\') {
      const e = text[i + 1] ?? '';
      const escapedBreak = lineBreakLength(text, i + 1);
      if (escapedBreak > 0) {
        // An escaped line break joins the lines without a space.
        i += 1 + escapedBreak;
        while (i < to && isBlank(text[i])) i++;
        trailingBlanks = 0;
        continue;
      }
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        chars.push(simple);
        offsets.push(i);
        trailingBlanks = 0;
        i += 2;
        continue;
      }
      const hexLength = HEX_ESCAPES[e];
      if (hexLength !== undefined) {
        const code = Number.parseInt(text.slice(i + 2, i + 2 + hexLength), 16);
        const decodedChar = Number.isNaN(code) ? '' : String.fromCodePoint(code);
        for (const unit of decodedChar.split('')) {
          chars.push(unit);
          offsets.push(i);
        }
        trailingBlanks = 0;
        i += 2 + hexLength;
        continue;
      }
    }
    chars.push(c);
    offsets.push(i);
    trailingBlanks = isBlank(c) ? trailingBlanks + 1 : 0;
    i++;
  }
  if (style === 'plain') {
    chars.length -= trailingBlanks;
    offsets.length -= trailingBlanks;
  }
  return { chars, offsets };
}

interface BlockLine {
  /** Offset of the line's first character in the file. */
  start: number;
  /** The line's text, without its line break. */
  text: string;
}

/** Literal (|) and folded (>) block scalars. */
function decodeBlock(text: string, from: number, to: number, folded: boolean): Decoded {
  // Skip the header line (indicator, indentation/chomping indicators, comment).
  let i = from;
  while (i < to && lineBreakLength(text, i) === 0) i++;
  i += lineBreakLength(text, i);
  const lines: BlockLine[] = [];
  while (i < to) {
    const start = i;
    while (i < to && lineBreakLength(text, i) === 0) i++;
    lines.push({ start, text: text.slice(start, i) });
    i += lineBreakLength(text, i);
  }
  let indent = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    if (line.text.trim() === '') continue;
    const leading = line.text.length - line.text.replace(/^ +/, '').length;
    indent = Math.min(indent, leading);
    break;
  }
  if (!Number.isFinite(indent)) indent = 0;
  const chars: string[] = [];
  const offsets: number[] = [];
  const push = (c: string, at: number): void => {
    chars.push(c);
    offsets.push(at);
  };
  let pendingEmpty = 0;
  let first = true;
  let previousMoreIndented = false;
  let previousBreak = from;
  for (const line of lines) {
    const breakBefore = line.start - 1;
    if (/^ *$/.test(line.text) && line.text.length <= indent) {
      pendingEmpty++;
      previousBreak = breakBefore;
      continue;
    }
    const content = line.text.slice(indent);
    const moreIndented = isBlank(content[0]);
    if (first) {
      for (let k = 0; k < pendingEmpty; k++) push('\n', previousBreak);
      first = false;
    } else if (!folded || previousMoreIndented || moreIndented) {
      for (let k = 0; k <= pendingEmpty; k++) push('\n', breakBefore);
    } else if (pendingEmpty === 0) {
      push(' ', breakBefore);
    } else {
      for (let k = 0; k < pendingEmpty; k++) push('\n', breakBefore);
    }
    for (let k = 0; k < content.length; k++) push(content[k] ?? '', line.start + indent + k);
    previousMoreIndented = moreIndented;
    pendingEmpty = 0;
  }
  // Trailing newlines depend on chomping; the value decides how many are kept.
  const lastLine = lines[lines.length - 1];
  const tail = lastLine === undefined ? to : lastLine.start + lastLine.text.length;
  for (let k = 0; k <= pendingEmpty; k++) push('\n', tail);
  return { chars, offsets };
}
