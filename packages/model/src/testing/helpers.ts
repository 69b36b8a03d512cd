/** Helpers for the package's tests. */
import { loadModelFromFiles, type LoadResult } from '../loader.js';
import type { ModelError } from '../errors.js';
import type { CompiledModel } from '../compiled/types.js';

/** Line and column (from 1) of the `occurrence`-th appearance of `needle` in `text`. */
export function where(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new RangeError(`'${needle}' occurs fewer than ${occurrence} times`);
  }
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const column = index - before.lastIndexOf('\n');
  return { line, column };
}

/** Loads files given as path → text. */
export function load(files: Readonly<Record<string, string>>): LoadResult {
  return loadModelFromFiles(Object.entries(files).map(([path, text]) => ({ path, text })));
}

/** Loads files that must be valid; fails with every error listed otherwise. */
export function loadValid(files: Readonly<Record<string, string>>): CompiledModel {
  const result = load(files);
  if (!result.ok) {
    throw new TypeError(
      `expected a valid model, got:\n${result.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path} ${e.code} ${e.message}`).join('\n')}`,
    );
  }
  return result.model;
}

/** Loads files that must be invalid and returns the errors. */
export function loadErrors(files: Readonly<Record<string, string>>): readonly ModelError[] {
  const result = load(files);
  if (result.ok) throw new TypeError('expected errors, but the model is valid');
  return result.errors;
}
