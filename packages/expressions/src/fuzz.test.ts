/**
 * Property tests: random and mutated inputs never crash the parsers, checkers or the
 * evaluator. Every failure is a typed error whose span lies within the source.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionRuntimeError, LineMap, type LanguageError } from './diagnostics.js';
import { compileExpression } from './expression/compiler.js';
import { parseExpression } from './expression/parser.js';
import { EXPRESSION_CORPUS, XPATH_CORPUS, XPATH_VARIABLES } from './testing/corpus.js';
import { fixtureSchema } from './testing/fixture.js';
import { createScenario } from './testing/scenario.js';
import { compileXPath } from './xpath/compiler.js';
import { parseXPath } from './xpath/parser.js';
import { UserError } from '@runplane/errors';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
// More runs (FUZZ_RUNS=50000) take longer than vitest's default 5 s.
const TIMEOUT_MS = Math.max(30_000, RUNS * 10);

/** Characters the languages care about, so that random text often gets past the lexer. */
const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'.split(''),
  ...'$@%[]()/,.:+-*=!<>\'" \n\t'.split(''),
  'if ',
  ' then ',
  ' else ',
  ' and ',
  ' or ',
  'not',
  'div',
  'mod',
  'empty',
  'true',
  '[%',
  '%]',
  'Sales.',
  'Order',
  '/Total',
  '$Order',
  'ä',
  '😀',
  '\u0000',
  '\ud800',
];

const textArbitrary = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...ALPHABET), { maxLength: 30 }).map((parts) => parts.join('')),
);

type Mutation = {
  readonly kind: 'insert' | 'delete' | 'replace' | 'duplicate';
  readonly at: number;
  readonly text: string;
};

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
  at: fc.nat(),
  text: fc.constantFrom(...ALPHABET),
});

function mutate(source: string, mutations: readonly Mutation[]): string {
  let text = source;
  for (const m of mutations) {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1);
    switch (m.kind) {
      case 'insert':
        text = text.slice(0, at) + m.text + text.slice(at);
        break;
      case 'delete':
        text = text.slice(0, at) + text.slice(at + 1 + (m.at % 3));
        break;
      case 'replace':
        text = text.slice(0, at) + m.text + text.slice(at + 1);
        break;
      default:
        text = text.slice(0, at) + text.slice(at, at + 1 + (m.at % 7)) + text.slice(at);
        break;
    }
  }
  return text;
}

function mutatedArbitrary(corpus: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }))
    .map(([source, mutations]) => mutate(source, mutations));
}

function assertSpans(source: string, errors: readonly LanguageError[]): void {
  const lines = new LineMap(source);
  for (const error of errors) {
    const { start, end } = error.span;
    expect(start.offset).toBeGreaterThanOrEqual(0);
    expect(end.offset).toBeGreaterThanOrEqual(start.offset);
    expect(end.offset).toBeLessThanOrEqual(source.length);
    expect(lines.position(start.offset)).toEqual(start);
    expect(lines.position(end.offset)).toEqual(end);
    expect(error.code).toMatch(/^(EXPR|XPATH)_[A-Z_]+$/);
    expect(error.message.length).toBeGreaterThan(0);
  }
}

const scenario = createScenario();
const context = scenario.context();

function checkExpression(source: string): void {
  const parsed = parseExpression(source);
  assertSpans(source, parsed.errors);
  const result = compileExpression(source, { schema: fixtureSchema, variables: scenario.types });
  if (!result.ok) {
    expect(result.errors.length).toBeGreaterThan(0);
    assertSpans(source, result.errors);
    return;
  }
  expect(parsed.errors).toEqual([]);
  try {
    result.expression.evaluate(scenario.variables, context);
  } catch (error) {
    // Only Mendix run-time errors may escape evaluation, never a TypeError or RangeError.
    expect(error).toBeInstanceOf(UserError);
    if (error instanceof ExpressionRuntimeError) {
      expect(error.details.span.end.offset).toBeLessThanOrEqual(source.length);
    }
  }
}

function checkXPath(source: string): void {
  const parsed = parseXPath(source);
  assertSpans(source, parsed.errors);
  const result = compileXPath(source, {
    schema: fixtureSchema,
    entity: 'Sales.Order',
    variables: XPATH_VARIABLES,
  });
  if (!result.ok) {
    expect(result.errors.length).toBeGreaterThan(0);
    assertSpans(source, result.errors);
  } else {
    expect(parsed.errors).toEqual([]);
    expect(result.query.entity).toBe('Sales.Order');
  }
}

describe('the expression parser, checker and evaluator under fuzzing', () => {
  it(
    'never throw on random text and report errors within the source',
    () => {
      fc.assert(fc.property(textArbitrary, checkExpression), { numRuns: RUNS });
    },
    TIMEOUT_MS,
  );

  it(
    'never throw on mutations of valid expressions',
    () => {
      fc.assert(fc.property(mutatedArbitrary(EXPRESSION_CORPUS), checkExpression), { numRuns: RUNS });
    },
    TIMEOUT_MS,
  );

  it('accept every expression of the corpus unchanged', () => {
    for (const source of EXPRESSION_CORPUS) {
      const result = compileExpression(source, { schema: fixtureSchema, variables: scenario.types });
      expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([]);
    }
  });

  it('survive deep nesting with an error instead of a stack overflow', () => {
    const deep = `${'('.repeat(5000)}1${')'.repeat(5000)}`;
    const result = compileExpression(deep, { schema: fixtureSchema, variables: new Map() });
    expect(result.ok).toBe(false);
    if (!result.ok) assertSpans(deep, result.errors);
    checkExpression(`${'not '.repeat(3000)}true`);
    checkExpression(`${'-'.repeat(3000)}1`);
    checkExpression(Array.from({ length: 3000 }, () => '1').join(' + '));
  });
});

describe('the XPath parser and checker under fuzzing', () => {
  it(
    'never throw on random text and report errors within the source',
    () => {
      fc.assert(fc.property(textArbitrary, checkXPath), { numRuns: RUNS });
    },
    TIMEOUT_MS,
  );

  it(
    'never throw on mutations of valid constraints',
    () => {
      fc.assert(fc.property(mutatedArbitrary(XPATH_CORPUS), checkXPath), { numRuns: RUNS });
    },
    TIMEOUT_MS,
  );

  it('accept every constraint of the corpus unchanged', () => {
    for (const source of XPATH_CORPUS) {
      const result = compileXPath(source, {
        schema: fixtureSchema,
        entity: 'Sales.Order',
        variables: XPATH_VARIABLES,
      });
      expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([]);
    }
  });

  it('survive deep nesting with an error instead of a stack overflow', () => {
    checkXPath(`[${'('.repeat(5000)}Total > 1${')'.repeat(5000)}]`);
    checkXPath(`[${'not('.repeat(3000)}Paid = true()${')'.repeat(3000)}]`);
    checkXPath(`[${Array.from({ length: 3000 }, () => 'Total > 1').join(' and ')}]`);
  });
});
