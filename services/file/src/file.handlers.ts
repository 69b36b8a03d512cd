import { UserError } from '@runplane/errors';
import type { file } from '@runplane/proto';
import { clientStreamHandler, serverStreamHandler, unaryHandler } from '@runplane/service-host';
import { BlobNotFoundError, type BlobInfo, type BlobStore } from '@runplane/storage';
import type { Logger } from '@runplane/telemetry';

/** A Buffer view of bytes, without copying when they already are one. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toMetadata(info: BlobInfo): file.FileMetadata {
  return { key: info.key, name: info.name, contentType: info.contentType, sizeBytes: BigInt(info.sizeBytes) };
}

/** The first message of an upload must describe the file; the rest are its bytes. */
async function* uploadChunks(rest: AsyncIterator<file.UploadRequest>): AsyncIterable<Uint8Array> {
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    const part = next.value.part;
    if (part?.$case !== 'chunk') {
      throw new UserError({
        code: 'UPLOAD_MALFORMED',
        message: 'Only the first upload message may carry metadata',
      });
    }
    yield part.value;
  }
}

/** The grpc-js implementation of `runplane.file.v1.FileService` over a blob store. */
export function fileServiceImplementation(store: BlobStore, logger: Logger): file.FileServiceServer {
  return {
    upload: clientStreamHandler(logger, 'Upload', async (requests) => {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      const part = first.done === true ? undefined : first.value.part;
      if (part?.$case !== 'metadata') {
        throw new UserError({
          code: 'UPLOAD_MALFORMED',
          message: 'An upload must start with the file metadata',
        });
      }
      const meta = part.value;
      const info = await store.put(
        {
          key: meta.key,
          name: meta.name,
          contentType: meta.contentType === '' ? 'application/octet-stream' : meta.contentType,
          expectedSizeBytes: meta.sizeBytes < 0n ? undefined : Number(meta.sizeBytes),
        },
        uploadChunks(iterator),
      );
      return { key: info.key, sizeBytes: BigInt(info.sizeBytes), sha256: info.sha256 };
    }),

    download: serverStreamHandler<file.DownloadRequest, file.DownloadResponse>(
      logger,
      'Download',
      async function* (request) {
        const length = request.length > 0n ? Number(request.length) : undefined;
        const { info, chunks } = await store.get(request.key, { offset: Number(request.offset), length });
        yield { part: { $case: 'metadata', value: toMetadata(info) } };
        for await (const chunk of chunks) yield { part: { $case: 'chunk', value: asBuffer(chunk) } };
      },
    ),

    stat: unaryHandler(logger, 'Stat', async (request) => {
      const info = await store.stat(request.key);
      if (!info) throw new BlobNotFoundError(request.key);
      return { metadata: toMetadata(info), storedAtMs: BigInt(info.storedAtMs), sha256: info.sha256 };
    }),

    delete: unaryHandler(logger, 'Delete', async (request) => ({ deleted: await store.delete(request.key) })),
  };
}
