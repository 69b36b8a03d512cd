import type { ModelErrorCode, ModelError } from '../errors.js';
import type { LanguageError } from '../languages.js';
import type { ParsedFile, PathSegment } from '../source/parsed-file.js';
import type { ElementSource } from '../compiled/types.js';

/**
 * A place in the model: a file, the first segment of model paths in it (module name or
 * `app`) and the path of YAML keys/indexes from the file's root. The model path of the
 * place is the prefix followed by the YAML path.
 */
export interface Loc {
  readonly file: ParsedFile;
  readonly prefix: string;
  readonly path: readonly PathSegment[];
}

/** The place of a child element. */
export function at(loc: Loc, ...segments: readonly PathSegment[]): Loc {
  return { file: loc.file, prefix: loc.prefix, path: [...loc.path, ...segments] };
}

/** The model path of a place, e.g. `Sales/microflows/PlaceOrder/nodes/check/expression`. */
export function modelPath(loc: Loc): string {
  return [loc.prefix, ...loc.path.map(String)].join('/');
}

/** Collects the errors of one load. */
export class Diagnostics {
  readonly errors: ModelError[] = [];

  /** Records an error at the value of `loc` (or at its key). */
  error(loc: Loc, code: ModelErrorCode, message: string, hint = '', on: 'key' | 'value' = 'value'): void {
    const position = loc.file.position(loc.path, on);
    this.errors.push({
      code,
      file: loc.file.path,
      line: position.line,
      column: position.column,
      path: modelPath(loc),
      message,
      hint,
    });
  }

  /** Records an error of the languages package, positioned inside the expression at `loc`. */
  languageError(loc: Loc, error: LanguageError): void {
    const position = loc.file.positionInScalar(loc.path, error.span.start.offset);
    this.errors.push({
      code: error.code,
      file: loc.file.path,
      line: position.line,
      column: position.column,
      path: modelPath(loc),
      message: error.message,
      hint: error.hint ?? '',
    });
  }

  /** The number of errors so far. */
  get count(): number {
    return this.errors.length;
  }
}

/** Where an element is defined, for the compiled model. */
export function elementSource(loc: Loc): ElementSource {
  const position = loc.file.position(loc.path, 'key');
  return { path: modelPath(loc), file: loc.file.path, line: position.line, column: position.column };
}
