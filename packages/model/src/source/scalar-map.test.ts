import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Document, Scalar } from 'yaml';
import { ParsedFile } from './parsed-file.js';

/** Where each character of `value` lands in the file, via the scalar's offset map. */
function landing(text: string): { file: ParsedFile; at(i: number): string } {
  const file = new ParsedFile({ path: 't.yaml', text });
  return {
    file,
    at(i: number) {
      const { line, column } = file.positionInScalar(['key'], i);
      return text.split('\n')[line - 1]?.[column - 1] ?? '';
    },
  };
}

describe('positions inside scalars', () => {
  it('map plain, quoted and block scalars character by character', () => {
    const cases: [string, string][] = [
      ['key: $Order/Total > 10\n', '$Order/Total > 10'],
      ["key: 'it''s $X'\n", "it's $X"],
      ['key: "tab\\there $Y"\n', 'tab\there $Y'],
      ['key: |\n  first $A\n  second $B\n', 'first $A\nsecond $B\n'],
      ['key: >-\n  folded $A\n  line $B\n', 'folded $A line $B'],
      ['key: plain\n  continued $C\n', 'plain continued $C'],
    ];
    for (const [text, value] of cases) {
      const l = landing(text);
      for (let i = 0; i < value.length; i++) {
        const ch = value[i] ?? '';
        if (/[A-Za-z$/>0-9]/.test(ch)) expect(l.at(i), `${JSON.stringify(text)} at ${i}`).toBe(ch);
      }
    }
  });

  it('map every visible character back to itself whatever style the YAML writer picks', () => {
    const styles = ['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'] as const;
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z$][A-Za-z0-9$/ '"\\.()<>=+*-]{0,60}$/),
        fc.constantFrom(...styles),
        (value, style) => {
          const doc = new Document({ key: value });
          const node = doc.get('key', true);
          if (node instanceof Scalar) node.type = style;
          const text = doc.toString({ lineWidth: 20, minContentWidth: 10 });
          const file = new ParsedFile({ path: 't.yaml', text });
          if ((file.data as { key?: unknown }).key !== value) return;
          const lines = text.split('\n');
          for (let i = 0; i < value.length; i++) {
            const ch = value[i] ?? '';
            if (!/[A-Za-z0-9$/.()<>=+*-]/.test(ch)) continue;
            const { line, column } = file.positionInScalar(['key'], i);
            expect(lines[line - 1]?.[column - 1], `${JSON.stringify(text)} @${i}`).toBe(ch);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
