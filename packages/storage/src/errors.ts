import { ErrorStatus, UserError } from '@runplane/errors';

/** A key that cannot name a blob. */
export class InvalidBlobKeyError extends UserError {
  constructor(key: string) {
    super({
      code: 'BLOB_KEY_INVALID',
      message: `"${key}" is not a valid file key: use 1–512 letters, digits and . _ - /, without "..", leading "/" or empty segments`,
      details: { key },
    });
  }
}

/** No blob under a key. */
export class BlobNotFoundError extends UserError {
  constructor(key: string) {
    super({
      code: 'BLOB_NOT_FOUND',
      status: ErrorStatus.NotFound,
      message: `No file contents stored under "${key}"`,
      details: { key },
    });
  }
}

/** The bytes that arrived do not match the announced size. */
export class BlobSizeMismatchError extends UserError {
  constructor(key: string, expected: number, actual: number) {
    super({
      code: 'BLOB_SIZE_MISMATCH',
      message: `File "${key}" was announced as ${expected} bytes but ${actual} arrived; nothing was stored`,
      details: { key, expectedSizeBytes: expected, actualSizeBytes: actual },
    });
  }
}

/** A byte range outside the blob. */
export class BlobRangeError extends UserError {
  constructor(key: string, offset: number, sizeBytes: number) {
    super({
      code: 'BLOB_RANGE_INVALID',
      message: `Offset ${offset} is beyond the end of "${key}" (${sizeBytes} bytes)`,
      details: { key, offset, sizeBytes },
    });
  }
}

const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Throws {@link InvalidBlobKeyError} unless `key` is safe to use as a path below a root. */
export function assertBlobKey(key: string): void {
  if (
    key.length === 0 ||
    key.length > 512 ||
    !KEY.test(key) ||
    key.split('/').some((s) => s === '.' || s === '..')
  ) {
    throw new InvalidBlobKeyError(key);
  }
}
