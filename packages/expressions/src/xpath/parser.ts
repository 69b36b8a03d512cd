/**
 * The XPath constraint parser: `[...]` constraints (chained brackets mean `and`), `or`, `and`,
 * comparisons, function calls, paths with nested constraints, literals, `$variables` and
 * tokens. Recovers from errors and never throws.
 */
import { LanguageErrorCode, LineMap, type LanguageError } from '../diagnostics.js';
import type { SourceSpan } from '../types.js';
import type { XPathAst, XPathComparisonOperator, XPathNode, XPathStep } from './ast.js';

/** The result of parsing: the constraints and every syntax error. */
export interface ParseXPathResult {
  readonly ast: XPathAst;
  readonly errors: readonly LanguageError[];
}

type XTokenKind = 'String' | 'Number' | 'Variable' | 'Token' | 'Name' | 'Punct' | 'Invalid' | 'EOF';

interface XToken {
  readonly kind: XTokenKind;
  readonly text: string;
  readonly value: string;
  readonly start: number;
  readonly end: number;
  readonly contentOffsets?: readonly number[];
}

const PUNCT = ['//', '!=', '<=', '>=', '[', ']', '(', ')', ',', '/', '=', '<', '>', '+', '-', '*'];
const MAX_DEPTH = 150;

function isNameStart(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
}

function isNamePart(ch: string): boolean {
  return isNameStart(ch) || (ch >= '0' && ch <= '9');
}

function nameEnd(source: string, pos: number): number {
  let i = pos;
  const part = () => {
    while (i < source.length) {
      const ch = source.charAt(i);
      // XPath function names contain hyphens: starts-with, year-from-dateTime.
      if (isNamePart(ch) || (ch === '-' && isNameStart(source.charAt(i + 1)))) i++;
      else break;
    }
  };
  part();
  while (source.charAt(i) === '.' && isNameStart(source.charAt(i + 1))) {
    i++;
    part();
  }
  return i;
}

function tokenize(source: string): XToken[] {
  const tokens: XToken[] = [];
  let pos = 0;
  while (pos < source.length) {
    const ch = source.charAt(pos);
    if (/\s/.test(ch)) {
      pos++;
      continue;
    }
    const start = pos;
    if (ch === "'" || ch === '"') {
      let value = '';
      const offsets: number[] = [];
      let i = pos + 1;
      let closed = false;
      while (i < source.length) {
        const c = source.charAt(i);
        if (c === ch) {
          if (source.charAt(i + 1) === ch) {
            offsets.push(i);
            value += ch;
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        offsets.push(i);
        value += c;
        i++;
      }
      tokens.push(
        closed
          ? { kind: 'String', text: source.slice(start, i), value, start, end: i, contentOffsets: offsets }
          : { kind: 'Invalid', text: source.slice(start, i), value: 'unterminated string', start, end: i },
      );
      pos = i;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source.charAt(pos + 1)))) {
      let i = pos;
      while (/[0-9]/.test(source.charAt(i))) i++;
      if (source.charAt(i) === '.' && /[0-9]/.test(source.charAt(i + 1))) {
        i++;
        while (/[0-9]/.test(source.charAt(i))) i++;
      }
      tokens.push({
        kind: 'Number',
        text: source.slice(start, i),
        value: source.slice(start, i),
        start,
        end: i,
      });
      pos = i;
      continue;
    }
    if (ch === '$') {
      let i = pos + 1;
      while (isNamePart(source.charAt(i))) i++;
      if (i === pos + 1 || !isNameStart(source.charAt(pos + 1))) {
        tokens.push({
          kind: 'Invalid',
          text: '$',
          value: 'a variable name must follow `$`',
          start,
          end: pos + 1,
        });
        pos++;
      } else {
        tokens.push({
          kind: 'Variable',
          text: source.slice(start, i),
          value: source.slice(pos + 1, i),
          start,
          end: i,
        });
        pos = i;
      }
      continue;
    }
    if (ch === '[' && source.charAt(pos + 1) === '%') {
      const close = source.indexOf('%]', pos + 2);
      if (close < 0) {
        tokens.push({
          kind: 'Invalid',
          text: source.slice(start),
          value: 'unterminated token: `[%` needs `%]`',
          start,
          end: source.length,
        });
        pos = source.length;
      } else {
        tokens.push({
          kind: 'Token',
          text: source.slice(start, close + 2),
          value: source.slice(pos + 2, close),
          start,
          end: close + 2,
        });
        pos = close + 2;
      }
      continue;
    }
    if (isNameStart(ch)) {
      const end = nameEnd(source, pos);
      tokens.push({
        kind: 'Name',
        text: source.slice(start, end),
        value: source.slice(start, end),
        start,
        end,
      });
      pos = end;
      continue;
    }
    const punct = PUNCT.find((p) => source.startsWith(p, pos));
    if (punct !== undefined) {
      tokens.push({ kind: 'Punct', text: punct, value: punct, start, end: pos + punct.length });
      pos += punct.length;
      continue;
    }
    const cp = source.codePointAt(pos) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    tokens.push({
      kind: 'Invalid',
      text: source.slice(pos, pos + width),
      value: 'unexpected character',
      start,
      end: pos + width,
    });
    pos += width;
  }
  tokens.push({ kind: 'EOF', text: '', value: '', start: source.length, end: source.length });
  return tokens;
}

/** Parses an XPath constraint such as `[Total > 100][Status = 'Open']`. Errors are returned, never thrown. */
export function parseXPath(source: string): ParseXPathResult {
  return new XPathParser(source).parseAll();
}

class XPathParser {
  private readonly tokens: XToken[];
  private readonly lines: LineMap;
  private readonly errors: LanguageError[] = [];
  private pos = 0;
  private depth = 0;
  private tooDeep = false;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
    this.lines = new LineMap(source);
  }

  parseAll(): ParseXPathResult {
    for (const token of this.tokens) {
      if (token.kind === 'Invalid') {
        this.errors.push({
          code: LanguageErrorCode.XPathSyntax,
          message: `Syntax error: ${token.value} (\`${token.text}\`) at ${this.where(token.start)}`,
          span: this.span(token.start, token.end),
        });
      }
    }
    let entity: XPathAst['entity'];
    if (this.isPunct('//')) {
      this.advance();
      const name = this.peek();
      if (name.kind === 'Name' && name.text.includes('.')) {
        this.advance();
        entity = { name: name.text, span: this.span(name.start, name.end) };
      } else {
        this.error(
          name,
          `Expected an entity name after \`//\` but found ${describe(name)}`,
          'Write //Module.Entity[constraint], or only the constraint.',
        );
      }
    }
    const constraints: XPathNode[] = [];
    while (this.peek().kind !== 'EOF' && !this.tooDeep) {
      if (this.isPunct('[')) {
        constraints.push(this.bracketed());
        continue;
      }
      const stray = this.peek();
      this.error(
        stray,
        `Expected \`[\` to start a constraint but found ${describe(stray)}`,
        "Write constraints between square brackets, e.g. [Name = 'Jansen']; chain them as [a][b].",
      );
      this.advance();
      // Recover: a constraint without brackets is still worth checking for more errors.
      if (this.startsOperand(this.peek())) this.orExpr();
    }
    return { ast: { ...(entity === undefined ? {} : { entity }), constraints }, errors: this.errors };
  }

  // ---- helpers ---------------------------------------------------------------------

  private peek(offset = 0): XToken {
    return (
      this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] ?? {
        kind: 'EOF',
        text: '',
        value: '',
        start: this.source.length,
        end: this.source.length,
      }
    );
  }

  private advance(): XToken {
    const token = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return token;
  }

  private isPunct(text: string, token = this.peek()): boolean {
    return token.kind === 'Punct' && token.text === text;
  }

  private isWord(word: string, token = this.peek()): boolean {
    return token.kind === 'Name' && token.text === word;
  }

  private span(start: number, end: number): SourceSpan {
    return this.lines.span(start, end);
  }

  private where(offset: number): string {
    const p = this.lines.position(offset);
    return `${p.line}:${p.column}`;
  }

  private error(token: XToken, message: string, hint?: string): void {
    if (token.kind === 'Invalid') return;
    const last = this.errors[this.errors.length - 1];
    if (last !== undefined && last.span.start.offset === token.start) return;
    this.errors.push({
      code: LanguageErrorCode.XPathSyntax,
      message: `${message} at ${this.where(token.start)}`,
      ...(hint === undefined ? {} : { hint }),
      span: this.span(token.start, token.end),
    });
  }

  private errorNode(start: number, end: number): XPathNode {
    return { kind: 'Error', span: this.span(start, end) };
  }

  private startsOperand(token: XToken): boolean {
    switch (token.kind) {
      case 'String':
      case 'Number':
      case 'Variable':
      case 'Token':
        return true;
      case 'Name':
        return token.text !== 'and' && token.text !== 'or';
      case 'Punct':
        return token.text === '(';
      default:
        return false;
    }
  }

  private isSync(token: XToken): boolean {
    return (
      token.kind === 'Punct' &&
      (token.text === ']' || token.text === ')' || token.text === ',' || token.text === '[')
    );
  }

  // ---- grammar ---------------------------------------------------------------------

  private bracketed(): XPathNode {
    const open = this.advance();
    if (this.isPunct(']')) {
      const close = this.advance();
      this.error(close, 'Empty constraint `[]`', 'Write a condition between the brackets or remove them.');
      return this.errorNode(open.start, close.end);
    }
    const inner = this.orExpr();
    if (this.isPunct(']')) {
      this.advance();
    } else {
      const found = this.peek();
      this.error(
        found,
        `Expected \`]\` to close the \`[\` at ${this.where(open.start)} but found ${describe(found)}`,
        hintFor(found),
      );
      // Skip to the closing bracket so that later constraints are still parsed.
      while (this.peek().kind !== 'EOF' && !this.isPunct(']') && !this.isPunct('[')) this.advance();
      if (this.isPunct(']')) this.advance();
    }
    return inner;
  }

  private enter(): boolean {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        this.error(this.peek(), `The constraint is nested more than ${MAX_DEPTH} levels deep`);
      }
      this.pos = this.tokens.length - 1;
      return false;
    }
    return true;
  }

  private orExpr(): XPathNode {
    if (!this.enter()) {
      this.depth--;
      return this.errorNode(this.source.length, this.source.length);
    }
    try {
      let left = this.andExpr();
      while (this.isWord('or')) {
        const op = this.advance();
        const right = this.startsOperand(this.peek()) ? this.andExpr() : this.missing(op);
        left = { kind: 'Or', left, right, span: this.span(left.span.start.offset, right.span.end.offset) };
      }
      return left;
    } finally {
      this.depth--;
    }
  }

  private andExpr(): XPathNode {
    let left = this.comparison();
    while (this.isWord('and')) {
      const op = this.advance();
      const right = this.startsOperand(this.peek()) ? this.comparison() : this.missing(op);
      left = { kind: 'And', left, right, span: this.span(left.span.start.offset, right.span.end.offset) };
    }
    return left;
  }

  private missing(after: XToken): XPathNode {
    const found = this.peek();
    this.error(found, `Expected a condition after \`${after.text}\` but found ${describe(found)}`);
    if (found.kind !== 'EOF' && !this.isSync(found)) this.advance();
    return this.errorNode(found.start, found.end);
  }

  private comparison(): XPathNode {
    const left = this.operand();
    const token = this.peek();
    if (token.kind === 'Punct' && ['=', '!=', '<', '<=', '>', '>='].includes(token.text)) {
      this.advance();
      const right = this.startsOperand(this.peek()) ? this.operand() : this.missingValue(token);
      return {
        kind: 'Comparison',
        operator: token.text as XPathComparisonOperator,
        left,
        right,
        operatorSpan: this.span(token.start, token.end),
        span: this.span(left.span.start.offset, right.span.end.offset),
      };
    }
    if (token.kind === 'Punct' && (token.text === '+' || token.text === '-' || token.text === '*')) {
      this.error(
        token,
        `XPath constraints cannot calculate (\`${token.text}\`)`,
        "Compute the value in the microflow first, or put date arithmetic inside a token string: '[%BeginOfCurrentDay%] - 3 * [%DayLength%]'.",
      );
      // Skip the rest of the calculation so that it does not cascade into more errors.
      while (
        this.peek().kind !== 'EOF' &&
        !this.isPunct(']') &&
        !this.isPunct(')') &&
        !this.isWord('and') &&
        !this.isWord('or')
      ) {
        this.advance();
      }
      return this.errorNode(left.span.start.offset, token.end);
    }
    return left;
  }

  private missingValue(operator: XToken): XPathNode {
    const found = this.peek();
    this.error(found, `Expected a value after \`${operator.text}\` but found ${describe(found)}`);
    if (found.kind !== 'EOF' && !this.isSync(found)) this.advance();
    return this.errorNode(found.start, found.end);
  }

  private operand(): XPathNode {
    const token = this.peek();
    switch (token.kind) {
      case 'String':
        this.advance();
        return {
          kind: 'String',
          value: token.value,
          contentOffsets: token.contentOffsets ?? [],
          span: this.span(token.start, token.end),
        };
      case 'Number':
        this.advance();
        return { kind: 'Number', text: token.text, span: this.span(token.start, token.end) };
      case 'Token':
        this.advance();
        return { kind: 'Token', name: token.value, span: this.span(token.start, token.end) };
      case 'Variable':
        return this.variable();
      case 'Name':
        if (token.text === 'empty' || token.text === 'NULL') {
          this.advance();
          return { kind: 'Empty', span: this.span(token.start, token.end) };
        }
        if (this.isPunct('(', this.peek(1))) return this.functionCall();
        return this.path();
      case 'Punct':
        if (token.text === '(') {
          const open = this.advance();
          const inner = this.orExpr();
          if (this.isPunct(')')) {
            const close = this.advance();
            return { ...inner, span: this.span(open.start, close.end) };
          }
          this.error(
            this.peek(),
            `Expected \`)\` to close the \`(\` at ${this.where(open.start)} but found ${describe(this.peek())}`,
          );
          return inner;
        }
        break;
      default:
        break;
    }
    this.error(token, `Expected a condition or value but found ${describe(token)}`, hintFor(token));
    if (token.kind !== 'EOF' && !this.isSync(token)) this.advance();
    return this.errorNode(token.start, token.end);
  }

  private variable(): XPathNode {
    const token = this.advance();
    const path: { name: string; span: SourceSpan }[] = [];
    let end = token.end;
    while (this.isPunct('/') && this.peek(1).kind === 'Name') {
      this.advance();
      const name = this.advance();
      path.push({ name: name.text, span: this.span(name.start, name.end) });
      end = name.end;
    }
    return { kind: 'Variable', name: token.value, path, span: this.span(token.start, end) };
  }

  private functionCall(): XPathNode {
    const name = this.advance();
    const open = this.advance();
    const args: XPathNode[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        if (this.startsOperand(this.peek())) args.push(this.orExpr());
        else {
          const bad = this.peek();
          this.error(bad, `Expected an argument of ${name.text} but found ${describe(bad)}`);
          args.push(this.errorNode(bad.start, bad.end));
          if (bad.kind !== 'EOF' && !this.isSync(bad)) this.advance();
        }
        if (this.isPunct(',')) {
          this.advance();
          continue;
        }
        break;
      }
    }
    let end = this.peek().end;
    if (this.isPunct(')')) this.advance();
    else {
      this.error(
        this.peek(),
        `Expected \`)\` to close ${name.text}( at ${this.where(open.start)} but found ${describe(this.peek())}`,
      );
      end = args[args.length - 1]?.span.end.offset ?? open.end;
    }
    return {
      kind: 'Function',
      name: name.text,
      nameSpan: this.span(name.start, name.end),
      args,
      span: this.span(name.start, end),
    };
  }

  private path(): XPathNode {
    const steps: XPathStep[] = [];
    const first = this.peek();
    for (;;) {
      const name = this.peek();
      if (name.kind !== 'Name') {
        this.error(name, `Expected a member or entity name in the path but found ${describe(name)}`);
        break;
      }
      this.advance();
      const constraints: XPathNode[] = [];
      let reversed = false;
      while (this.isPunct('[') && this.peek(1).kind !== 'EOF') {
        if (
          this.isWord('reversed', this.peek(1)) &&
          this.isPunct('(', this.peek(2)) &&
          this.isPunct(')', this.peek(3))
        ) {
          this.advance();
          this.advance();
          this.advance();
          this.advance();
          if (this.isPunct(']')) this.advance();
          else this.error(this.peek(), 'Expected `]` after reversed()');
          reversed = true;
          continue;
        }
        constraints.push(this.bracketed());
      }
      steps.push({ name: name.text, span: this.span(name.start, name.end), constraints, reversed });
      if (this.isPunct('/')) {
        this.advance();
        continue;
      }
      break;
    }
    const last = this.tokens[this.pos - 1];
    return { kind: 'Path', steps, span: this.span(first.start, Math.max(first.end, last?.end ?? first.end)) };
  }
}

function describe(token: XToken): string {
  switch (token.kind) {
    case 'EOF':
      return 'the end of the constraint';
    case 'String':
      return `the string ${token.text}`;
    case 'Number':
      return `the number ${token.text}`;
    default:
      return `\`${token.text}\``;
  }
}

function hintFor(token: XToken): string | undefined {
  if (token.kind === 'Punct' && (token.text === '+' || token.text === '-' || token.text === '*')) {
    return 'XPath constraints cannot calculate; compute the value in the microflow first.';
  }
  if (token.kind === 'Name' && (token.text === 'and' || token.text === 'or'))
    return `\`${token.text}\` needs a condition on both sides.`;
  return undefined;
}
