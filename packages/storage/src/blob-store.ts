/** What is known about a stored blob. */
export interface BlobInfo {
  readonly key: string;
  readonly name: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the contents. */
  readonly sha256: string;
  readonly storedAtMs: number;
}

/** What a writer says about a blob before its bytes arrive. */
export interface BlobMetadata {
  readonly key: string;
  readonly name: string;
  readonly contentType: string;
  /** The size announced in advance, checked against what arrives; undefined when unknown. */
  readonly expectedSizeBytes?: number;
}

/** A byte range: from `offset`, `length` bytes (to the end when undefined). */
export interface ByteRange {
  readonly offset: number;
  readonly length?: number;
}

/**
 * Where FileDocument contents live. Keys are opaque strings of letters, digits and
 * `._-/`; writes are atomic (a reader sees the old blob or the new one, never a part).
 */
export interface BlobStore {
  /** Stores a blob from a stream of chunks, replacing any blob with the same key. */
  put(metadata: BlobMetadata, chunks: AsyncIterable<Uint8Array>): Promise<BlobInfo>;
  /** Streams a blob's bytes in chunks; throws `BLOB_NOT_FOUND` when there is none. */
  get(key: string, range?: ByteRange): Promise<{ info: BlobInfo; chunks: AsyncIterable<Uint8Array> }>;
  /** Describes a blob, or undefined when there is none. */
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Deletes a blob; true when there was one. */
  delete(key: string): Promise<boolean>;
  /** Lists the keys that start with a prefix. */
  list(prefix?: string): AsyncIterable<string>;
}
