import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import { scalarOffsetMap, type OffsetMap } from './scalar-map.js';

/** A model file as given to the loader: its path (relative to the model directory) and text. */
export interface ModelSourceFile {
  /** Relative path with `/` separators, e.g. `Sales/entities.yaml`. Used in errors as given. */
  readonly path: string;
  readonly text: string;
}

/** A line and column, both counted from 1. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/** A step into a YAML value: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** A problem the YAML parser reported. */
export interface YamlProblem {
  readonly code: string;
  readonly message: string;
  readonly offset: number;
}

/** A parsed model file with the means to turn model paths into positions. */
export class ParsedFile {
  readonly path: string;
  readonly text: string;
  readonly data: unknown;
  readonly problems: readonly YamlProblem[];
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #offsetMaps = new Map<Node, OffsetMap>();

  constructor(source: ModelSourceFile) {
    this.path = source.path;
    this.text = source.text;
    this.#lines = new LineCounter();
    this.#doc = parseDocument(source.text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: true,
    });
    this.problems = this.#doc.errors.map((e) => ({
      code: e.code,
      message: e.message.split('\n')[0] ?? e.message,
      offset: e.pos[0],
    }));
    this.data = this.problems.length === 0 ? this.#doc.toJS({ maxAliasCount: 100 }) : undefined;
  }

  /** Line and column of an offset in the file. */
  lineColumn(offset: number): LineColumn {
    const pos = this.#lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: pos.line, column: pos.col };
  }

  /**
   * Position of the element at `path`: of its key when `at` is 'key' (and the element
   * is a mapping value), otherwise of its value. Walks as deep as the file goes and
   * points at the deepest element found.
   */
  position(path: readonly PathSegment[], at: 'key' | 'value' = 'value'): LineColumn {
    return this.lineColumn(this.offset(path, at));
  }

  /** Offset of the element at `path` (see {@link position}). */
  offset(path: readonly PathSegment[], at: 'key' | 'value' = 'value'): number {
    const found = this.#walk(path);
    const keyStart = (found.pair?.key as Node | null | undefined)?.range?.[0];
    const nodeStart = found.node?.range?.[0];
    if (found.complete) {
      if (at === 'key' && keyStart !== undefined) return keyStart;
      return nodeStart ?? keyStart ?? 0;
    }
    // Not there (a missing property): point at the deepest element that is, by its key.
    return keyStart ?? nodeStart ?? 0;
  }

  /** Position of a mapping key that is a direct child of the mapping at `parent`. */
  keyPosition(parent: readonly PathSegment[], key: string): LineColumn {
    return this.position([...parent, key], 'key');
  }

  /**
   * Position of the character at `valueOffset` of the string scalar at `path`, taking
   * the scalar's style into account. Falls back to the element's position.
   */
  positionInScalar(path: readonly PathSegment[], valueOffset: number): LineColumn {
    const found = this.#walk(path);
    const node = found.node;
    if (!found.complete || !isScalar(node) || typeof node.value !== 'string' || !node.range) {
      return this.position(path);
    }
    let map = this.#offsetMaps.get(node);
    if (map === undefined) {
      map = scalarOffsetMap(this.text, {
        type: node.type,
        start: node.range[0],
        end: node.range[1],
        value: node.value,
      });
      this.#offsetMaps.set(node, map);
    }
    return this.lineColumn(map(valueOffset));
  }

  /** The source text of a plain scalar (e.g. `0.10` as written), or undefined. */
  scalarSource(path: readonly PathSegment[]): string | undefined {
    const found = this.#walk(path);
    const node = found.node;
    if (!found.complete || !isScalar(node) || !node.range) return undefined;
    return this.text.slice(node.range[0], node.range[1]);
  }

  /** The keys of the mapping at `path`, in file order (empty when there is none). */
  keysAt(path: readonly PathSegment[]): string[] {
    const found = this.#walk(path);
    if (!found.complete || !isMap(found.node)) return [];
    return found.node.items.map((pair) => keyText(pair)).filter((k): k is string => k !== undefined);
  }

  #walk(path: readonly PathSegment[]): { node: Node | undefined; pair: Pair | undefined; complete: boolean } {
    let node: Node | undefined = this.#doc.contents ?? undefined;
    let pair: Pair | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.#doc) ?? node;
      if (isMap(node)) {
        const next: Pair | undefined = node.items.find((p) => keyText(p) === String(segment));
        if (next === undefined) return { node, pair, complete: false };
        pair = next;
        node = (next.value as Node | null) ?? undefined;
        if (node === undefined) return { node: undefined, pair, complete: true };
      } else if (isSeq(node)) {
        const index = typeof segment === 'number' ? segment : Number.parseInt(segment, 10);
        const item = node.items[index] as Node | undefined;
        if (item === undefined) return { node, pair, complete: false };
        pair = undefined;
        node = item;
      } else {
        return { node, pair, complete: false };
      }
    }
    if (isAlias(node)) node = node.resolve(this.#doc) ?? node;
    return { node, pair, complete: true };
  }
}

function keyText(pair: Pair): string | undefined {
  if (!isPair(pair)) return undefined;
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean') return String(key);
  return undefined;
}
