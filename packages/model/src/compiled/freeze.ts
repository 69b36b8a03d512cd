/**
 * Deep freezing of the compiled model. Plain objects and arrays are frozen in place;
 * Maps are replaced by {@link ImmutableMap}s, which have no mutating methods at all
 * (a frozen `Map` could still be changed with `set`).
 */

/** A read-only map: a `ReadonlyMap` whose entries cannot be changed by any means. */
export class ImmutableMap<K, V> implements ReadonlyMap<K, V> {
  readonly #map: Map<K, V>;

  constructor(entries: Iterable<readonly [K, V]>) {
    this.#map = new Map(entries);
    Object.freeze(this);
  }

  get size(): number {
    return this.#map.size;
  }
  get(key: K): V | undefined {
    return this.#map.get(key);
  }
  has(key: K): boolean {
    return this.#map.has(key);
  }
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.#map.forEach((value, key) => {
      callback.call(thisArg, value, key, this);
    });
  }
  entries(): MapIterator<[K, V]> {
    return this.#map.entries();
  }
  keys(): MapIterator<K> {
    return this.#map.keys();
  }
  values(): MapIterator<V> {
    return this.#map.values();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map[Symbol.iterator]();
  }
  /** Plain-object form, for JSON. */
  toJSON(): Record<string, V> {
    return Object.fromEntries([...this.#map].map(([k, v]) => [String(k), v]));
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Returns `value` deeply frozen: Maps become ImmutableMaps, plain objects and arrays are
 * frozen in place. Instances of other classes (compiled expressions, Decimals, Dates)
 * are left as they are. Shared references stay shared.
 */
export function deepFreeze<T>(value: T, seen = new Map<object, unknown>()): T {
  if (typeof value !== 'object' || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known as T;
  if (value instanceof Map) {
    // Maps of the model hold no cycles back to themselves; shared ones stay shared.
    const entries = [...(value as Map<unknown, unknown>)].map(([k, v]) => [k, deepFreeze(v, seen)] as const);
    const result = new ImmutableMap(entries);
    seen.set(value, result);
    return result as T;
  }
  if (value instanceof ImmutableMap) return value;
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  seen.set(value, value);
  // Objects shared with earlier loads (type constants) may be frozen already: only
  // replace what changed (Maps), and never write to a frozen object.
  const record = value as Record<string, unknown>;
  const writable = !Object.isFrozen(value);
  for (const key of Object.keys(record)) {
    const frozen = deepFreeze(record[key], seen);
    if (writable && frozen !== record[key]) record[key] = frozen;
  }
  return Object.freeze(value);
}
