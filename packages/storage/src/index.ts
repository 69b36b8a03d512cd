/**
 * Object storage for FileDocument contents: the {@link BlobStore} interface and
 * {@link LocalDiskBlobStore}, the embedded default.
 */
export type { BlobInfo, BlobMetadata, BlobStore, ByteRange } from './blob-store.js';
export {
  BlobNotFoundError,
  BlobRangeError,
  BlobSizeMismatchError,
  InvalidBlobKeyError,
  assertBlobKey,
} from './errors.js';
export { LocalDiskBlobStore } from './local-disk.js';
export { S3BlobStore, type S3Location } from './s3.js';
