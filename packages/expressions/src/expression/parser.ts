/**
 * The expression parser: recursive descent with Mendix precedence, recovering from errors so
 * that one run reports every syntax error it can. It never throws.
 *
 * Precedence, loosest first: `if … then … else`, `or`, `and`, `not`, comparisons
 * (`= != < <= > >=`), `+ -`, `* div : mod`, unary `-`, member access `/`.
 */
import { LanguageErrorCode, LineMap, type LanguageError } from '../diagnostics.js';
import type { SourceSpan } from '../types.js';
import type { BinaryOperator, ExpressionNode } from './ast.js';
import { tokenize, type LexToken } from './lexer.js';

/** The result of parsing: a tree (with `Error` nodes where the text made no sense) and every syntax error. */
export interface ParseExpressionResult {
  readonly ast: ExpressionNode;
  readonly errors: readonly LanguageError[];
}

const KEYWORDS = new Set(['if', 'then', 'else', 'and', 'or', 'not', 'div', 'mod', 'true', 'false', 'empty']);
const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const MAX_DEPTH = 200;
const MAX_TREE_DEPTH = 500;

/** Parses Mendix expression text. Errors are returned, never thrown. */
export function parseExpression(source: string): ParseExpressionResult {
  const parser = new ExpressionParser(source);
  return parser.parseAll();
}

class ExpressionParser {
  private readonly tokens: LexToken[];
  private readonly lines: LineMap;
  private readonly errors: LanguageError[] = [];
  private pos = 0;
  private depth = 0;
  private readonly depths = new WeakMap<ExpressionNode, number>();
  private tooDeep = false;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
    this.lines = new LineMap(source);
  }

  parseAll(): ParseExpressionResult {
    this.reportInvalidTokens();
    if (this.peek().kind === 'EOF') {
      this.error(this.peek(), 'The expression is empty', 'Write a value, e.g. `empty`, `0` or `$Variable`.');
      return { ast: { kind: 'Error', span: this.span(0, 0) }, errors: this.errors };
    }
    const ast = this.expression();
    while (this.peek().kind !== 'EOF' && !this.tooDeep) {
      const stray = this.peek();
      this.error(stray, `Unexpected ${describe(stray)} after the end of the expression`, hintAfter(stray));
      this.advance();
      if (this.startsExpression(this.peek())) this.expression();
    }
    return { ast, errors: this.errors };
  }

  private reportInvalidTokens(): void {
    for (const token of this.tokens) {
      if (token.kind === 'Invalid') {
        const hint =
          token.value === 'strings use single quotes'
            ? "Write strings between single quotes, e.g. 'text'; double a quote inside: 'it''s'."
            : undefined;
        this.errors.push({
          code: LanguageErrorCode.ExprSyntax,
          message: `Syntax error: ${token.value} (\`${token.text}\`) at ${this.where(token.start)}`,
          ...(hint === undefined ? {} : { hint }),
          span: this.span(token.start, token.end),
        });
      }
    }
  }

  // ---- helpers -------------------------------------------------------------

  private peek(offset = 0): LexToken {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] ?? this.eof();
  }

  private eof(): LexToken {
    return { kind: 'EOF', text: '', value: '', start: this.source.length, end: this.source.length };
  }

  private advance(): LexToken {
    const token = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return token;
  }

  private isPunct(text: string, token = this.peek()): boolean {
    return token.kind === 'Punct' && token.text === text;
  }

  private isKeyword(word: string, token = this.peek()): boolean {
    return token.kind === 'Name' && token.text === word;
  }

  private span(start: number, end: number): SourceSpan {
    return this.lines.span(start, end);
  }

  private where(offset: number): string {
    const p = this.lines.position(offset);
    return `${p.line}:${p.column}`;
  }

  private error(token: LexToken, message: string, hint?: string): void {
    if (token.kind === 'Invalid') return; // already reported by the lexer
    const last = this.errors[this.errors.length - 1];
    if (last !== undefined && last.span.start.offset === token.start) return;
    this.errors.push({
      code: LanguageErrorCode.ExprSyntax,
      message: `${message} at ${this.where(token.start)}`,
      ...(hint === undefined ? {} : { hint }),
      span: this.span(token.start, Math.max(token.end, token.start)),
    });
  }

  private startsExpression(token: LexToken): boolean {
    switch (token.kind) {
      case 'String':
      case 'Number':
      case 'Variable':
      case 'Constant':
      case 'Token':
        return true;
      case 'Name':
        return !KEYWORDS.has(token.text) || ['if', 'not', 'true', 'false', 'empty'].includes(token.text);
      case 'Punct':
        return token.text === '(' || token.text === '-';
      default:
        return false;
    }
  }

  private enter(): boolean {
    this.depth++;
    if (this.depth > MAX_DEPTH) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        this.error(
          this.peek(),
          `The expression is nested more than ${MAX_DEPTH} levels deep`,
          'Split it up or remove parentheses.',
        );
      }
      this.pos = this.tokens.length - 1;
      return false;
    }
    return true;
  }

  private errorNode(start: number, end: number): ExpressionNode {
    return { kind: 'Error', span: this.span(start, end) };
  }

  // ---- grammar -------------------------------------------------------------

  private expression(): ExpressionNode {
    if (!this.enter()) {
      this.depth--;
      return this.errorNode(this.source.length, this.source.length);
    }
    try {
      return this.or();
    } finally {
      this.depth--;
    }
  }

  private binaryLoop(
    next: () => ExpressionNode,
    match: (t: LexToken) => BinaryOperator | undefined,
  ): ExpressionNode {
    let left = next();
    for (;;) {
      const token = this.peek();
      const operator = match(token);
      if (operator === undefined) return left;
      this.advance();
      const right = this.startsExpression(this.peek()) ? next() : this.missingOperand(token);
      left = this.deepen(
        {
          kind: 'Binary',
          operator,
          left,
          right,
          operatorSpan: this.span(token.start, token.end),
          span: this.span(left.span.start.offset, right.span.end.offset),
        },
        left,
        right,
      );
    }
  }

  /**
   * Records the depth of a node built from children. Long chains (`1 + 1 + ...`) nest without
   * recursion in the parser but would make every later pass recurse; past the limit the tree
   * stops growing and one error is reported.
   */
  private deepen(node: ExpressionNode, ...children: ExpressionNode[]): ExpressionNode {
    const depth = Math.max(0, ...children.map((child) => this.depths.get(child) ?? 1)) + 1;
    if (depth > MAX_TREE_DEPTH) {
      if (!this.tooDeep) {
        this.tooDeep = true;
        this.errors.push({
          code: LanguageErrorCode.ExprSyntax,
          message: `The expression is nested more than ${MAX_TREE_DEPTH} levels deep at ${this.where(node.span.start.offset)}`,
          hint: 'Split it up, e.g. into several variables.',
          span: node.span,
        });
      }
      this.pos = this.tokens.length - 1;
      return { kind: 'Error', span: node.span };
    }
    this.depths.set(node, depth);
    return node;
  }

  private missingOperand(operator: LexToken): ExpressionNode {
    const next = this.peek();
    this.error(
      next,
      `Expected a value after \`${operator.text}\` but found ${describe(next)}`,
      'Every operator needs a value on both sides.',
    );
    if (next.kind !== 'EOF' && !this.isSync(next)) this.advance();
    return this.errorNode(next.start, next.end);
  }

  private isSync(token: LexToken): boolean {
    return (
      (token.kind === 'Punct' && (token.text === ')' || token.text === ',')) ||
      this.isKeyword('then', token) ||
      this.isKeyword('else', token)
    );
  }

  private or(): ExpressionNode {
    return this.binaryLoop(
      () => this.and(),
      (t) => (this.isKeyword('or', t) ? 'or' : undefined),
    );
  }

  private and(): ExpressionNode {
    return this.binaryLoop(
      () => this.not(),
      (t) => (this.isKeyword('and', t) ? 'and' : undefined),
    );
  }

  private not(): ExpressionNode {
    const token = this.peek();
    if (this.isKeyword('not') && !this.isPunct('(', this.peek(1))) {
      this.advance();
      if (!this.enter()) {
        this.depth--;
        return this.errorNode(token.start, token.end);
      }
      try {
        const operand = this.startsExpression(this.peek()) ? this.not() : this.missingOperand(token);
        return {
          kind: 'Unary',
          operator: 'not',
          operand,
          span: this.span(token.start, operand.span.end.offset),
        };
      } finally {
        this.depth--;
      }
    }
    return this.comparison();
  }

  private comparison(): ExpressionNode {
    return this.binaryLoop(
      () => this.additive(),
      (t) => (t.kind === 'Punct' && COMPARISONS.has(t.text) ? (t.text as BinaryOperator) : undefined),
    );
  }

  private additive(): ExpressionNode {
    return this.binaryLoop(
      () => this.multiplicative(),
      (t) => (t.kind === 'Punct' && (t.text === '+' || t.text === '-') ? t.text : undefined),
    );
  }

  private multiplicative(): ExpressionNode {
    return this.binaryLoop(
      () => this.unary(),
      (t) => {
        if (t.kind === 'Punct' && t.text === '*') return '*';
        if (t.kind === 'Punct' && t.text === ':') return 'div';
        if (this.isKeyword('div', t)) return 'div';
        if (this.isKeyword('mod', t)) return 'mod';
        return undefined;
      },
    );
  }

  private unary(): ExpressionNode {
    const token = this.peek();
    if (this.isPunct('-')) {
      this.advance();
      if (!this.enter()) {
        this.depth--;
        return this.errorNode(token.start, token.end);
      }
      try {
        const operand = this.startsExpression(this.peek()) ? this.unary() : this.missingOperand(token);
        return {
          kind: 'Unary',
          operator: '-',
          operand,
          span: this.span(token.start, operand.span.end.offset),
        };
      } finally {
        this.depth--;
      }
    }
    return this.postfix();
  }

  private postfix(): ExpressionNode {
    let node = this.primary();
    while (this.isPunct('/')) {
      const slash = this.advance();
      const name = this.peek();
      if (name.kind === 'Name' && !KEYWORDS.has(name.text)) {
        this.advance();
        node = this.deepen(
          {
            kind: 'Member',
            object: node,
            member: name.text,
            memberSpan: this.span(name.start, name.end),
            span: this.span(node.span.start.offset, name.end),
          },
          node,
        );
      } else {
        this.error(
          name,
          `Expected an attribute or association name after \`/\` but found ${describe(name)}`,
          'Division is written `div` or `:` in Mendix expressions; `/` reads a member, e.g. `$Order/Total`.',
        );
        if (name.kind !== 'EOF' && !this.isSync(name)) this.advance();
        node = this.errorNode(node.span.start.offset, Math.max(slash.end, name.end));
      }
    }
    return node;
  }

  private primary(): ExpressionNode {
    const token = this.peek();
    switch (token.kind) {
      case 'String':
        this.advance();
        return { kind: 'String', value: token.value, span: this.span(token.start, token.end) };
      case 'Number':
        this.advance();
        return {
          kind: 'Number',
          text: token.text,
          integral: /^\d+$/.test(token.text),
          span: this.span(token.start, token.end),
        };
      case 'Variable':
        this.advance();
        return { kind: 'Variable', name: token.value, span: this.span(token.start, token.end) };
      case 'Constant':
        this.advance();
        return { kind: 'Constant', name: token.value, span: this.span(token.start, token.end) };
      case 'Token':
        this.advance();
        return { kind: 'Token', name: token.value, span: this.span(token.start, token.end) };
      case 'Name':
        return this.named(token);
      case 'Punct':
        if (token.text === '(') return this.parenthesized();
        break;
      default:
        break;
    }
    this.error(token, `Expected a value but found ${describe(token)}`, hintFor(token));
    if (token.kind !== 'EOF' && !this.isSync(token)) this.advance();
    return this.errorNode(token.start, token.end);
  }

  private parenthesized(): ExpressionNode {
    const open = this.advance();
    const inner = this.startsExpression(this.peek()) ? this.expression() : this.missingOperand(open);
    const close = this.peek();
    if (this.isPunct(')')) {
      this.advance();
      return reSpan(inner, this.span(open.start, close.end));
    }
    this.error(
      close,
      `Expected \`)\` to close the \`(\` at ${this.where(open.start)} but found ${describe(close)}`,
    );
    return inner;
  }

  private named(token: LexToken): ExpressionNode {
    switch (token.text) {
      case 'true':
      case 'false':
        this.advance();
        return { kind: 'Boolean', value: token.text === 'true', span: this.span(token.start, token.end) };
      case 'empty':
        this.advance();
        return { kind: 'Empty', span: this.span(token.start, token.end) };
      case 'if':
        return this.ifExpression();
      case 'not':
        if (this.isPunct('(', this.peek(1))) return this.call(token);
        break;
      default:
        break;
    }
    if (KEYWORDS.has(token.text)) {
      this.error(token, `Expected a value but found the keyword \`${token.text}\``, hintFor(token));
      if (!this.isSync(token)) this.advance();
      return this.errorNode(token.start, token.end);
    }
    if (this.isPunct('(', this.peek(1))) return this.call(token);
    this.advance();
    if (!token.text.includes('.')) {
      this.error(
        token,
        `Unexpected name \`${token.text}\``,
        `Variables start with \`$\` (\`$${token.text}\`); enumeration values are written \`Module.Enumeration.${token.text}\`; strings go between single quotes.`,
      );
      return this.errorNode(token.start, token.end);
    }
    return { kind: 'QualifiedName', name: token.text, span: this.span(token.start, token.end) };
  }

  private call(name: LexToken): ExpressionNode {
    this.advance();
    const open = this.advance();
    const args: ExpressionNode[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        if (this.startsExpression(this.peek())) {
          args.push(this.expression());
        } else {
          const bad = this.peek();
          this.error(bad, `Expected an argument but found ${describe(bad)}`);
          args.push(this.errorNode(bad.start, bad.end));
          if (bad.kind !== 'EOF' && !this.isPunct(',') && !this.isPunct(')')) this.advance();
        }
        if (this.isPunct(',')) {
          this.advance();
          continue;
        }
        break;
      }
    }
    const close = this.peek();
    let end = close.end;
    if (this.isPunct(')')) {
      this.advance();
    } else {
      this.error(
        close,
        `Expected \`,\` or \`)\` in the call of ${name.text} (opened at ${this.where(open.start)}) but found ${describe(close)}`,
      );
      end = args.length > 0 ? (args[args.length - 1]?.span.end.offset ?? open.end) : open.end;
    }
    const span = this.span(name.start, end);
    if (name.text === 'not') {
      const operand = args[0] ?? this.errorNode(open.end, end);
      if (args.length !== 1) {
        this.errors.push({
          code: LanguageErrorCode.ExprArgumentCount,
          message: `not(...) takes exactly one Boolean value, got ${args.length} at ${this.where(name.start)}`,
          span,
        });
      }
      return this.deepen({ kind: 'Unary', operator: 'not', operand, span }, operand);
    }
    return this.deepen(
      { kind: 'Call', name: name.text, nameSpan: this.span(name.start, name.end), args, span },
      ...args,
    );
  }

  private ifExpression(): ExpressionNode {
    const ifToken = this.advance();
    const condition = this.startsExpression(this.peek()) ? this.expression() : this.missingOperand(ifToken);
    let thenBranch: ExpressionNode;
    if (this.isKeyword('then')) {
      const thenToken = this.advance();
      thenBranch = this.startsExpression(this.peek()) ? this.expression() : this.missingOperand(thenToken);
    } else {
      const found = this.peek();
      this.error(
        found,
        `Expected \`then\` after the condition of \`if\` but found ${describe(found)}`,
        'Write `if condition then value else other`.',
      );
      thenBranch = this.errorNode(found.start, found.start);
    }
    let elseBranch: ExpressionNode;
    if (this.isKeyword('else')) {
      const elseToken = this.advance();
      elseBranch = this.startsExpression(this.peek()) ? this.expression() : this.missingOperand(elseToken);
    } else {
      const found = this.peek();
      this.error(
        found,
        `Expected \`else\` but found ${describe(found)}`,
        'An `if` expression always needs an `else` branch.',
      );
      elseBranch = this.errorNode(found.start, found.start);
    }
    return this.deepen(
      {
        kind: 'If',
        condition,
        then: thenBranch,
        else: elseBranch,
        span: this.span(ifToken.start, Math.max(elseBranch.span.end.offset, thenBranch.span.end.offset)),
      },
      condition,
      thenBranch,
      elseBranch,
    );
  }
}

function reSpan(node: ExpressionNode, span: SourceSpan): ExpressionNode {
  return { ...node, span };
}

function describe(token: LexToken): string {
  switch (token.kind) {
    case 'EOF':
      return 'the end of the expression';
    case 'String':
      return `the string ${token.text}`;
    case 'Number':
      return `the number ${token.text}`;
    case 'Variable':
      return `the variable ${token.text}`;
    case 'Name':
      return KEYWORDS.has(token.text) ? `the keyword \`${token.text}\`` : `\`${token.text}\``;
    default:
      return `\`${token.text}\``;
  }
}

function hintFor(token: LexToken): string | undefined {
  if (token.kind === 'Punct' && token.text === '/') {
    return 'Division is written `div` or `:`; `/` reads a member of an object, e.g. `$Order/Total`.';
  }
  if (token.kind === 'Punct' && token.text === '+') return 'There is no unary plus in Mendix expressions.';
  if (token.kind === 'Name' && (token.text === 'then' || token.text === 'else')) {
    return 'Write `if condition then value else other`.';
  }
  return undefined;
}

function hintAfter(token: LexToken): string {
  if (token.kind === 'Punct' && token.text === ')') return 'Remove the extra `)` or add the matching `(`.';
  return 'Join values with an operator, e.g. `+`, `and` or `=`.';
}
