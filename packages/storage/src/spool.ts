import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { BlobInfo, BlobMetadata } from './blob-store.js';
import { BlobSizeMismatchError } from './errors.js';

/**
 * Writes a blob's chunks to `file` (honouring back-pressure), hashing and counting them, and
 * checks the size the writer announced. Resolves with the blob's info; the caller puts the
 * file where it belongs, and removes it when this rejects.
 */
export async function spoolBlob(
  file: string,
  metadata: BlobMetadata,
  chunks: AsyncIterable<Uint8Array>,
): Promise<BlobInfo> {
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(file);
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
  if (
    metadata.expectedSizeBytes !== undefined &&
    metadata.expectedSizeBytes >= 0 &&
    metadata.expectedSizeBytes !== size
  ) {
    throw new BlobSizeMismatchError(metadata.key, metadata.expectedSizeBytes, size);
  }
  return {
    key: metadata.key,
    name: metadata.name,
    contentType: metadata.contentType,
    sizeBytes: size,
    sha256: hash.digest('hex'),
    storedAtMs: Date.now(),
  };
}
