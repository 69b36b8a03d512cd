import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allConfigs, configTableMarkdown } from './index.js';

describe('the README configuration table', () => {
  it('is in step with the config schemas (run `npm run docs:config` after changing a setting)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(configTableMarkdown(allConfigs));
  });

  it('documents every variable with a meaning and an expected form', () => {
    for (const spec of allConfigs) {
      for (const field of Object.values(spec.shape)) {
        expect(field.env).toMatch(/^(RUNPLANE|OTEL)_[A-Z0-9_]+$/);
        expect(field.doc.length).toBeGreaterThan(10);
        expect(field.expected.length).toBeGreaterThan(3);
      }
    }
  });
});
