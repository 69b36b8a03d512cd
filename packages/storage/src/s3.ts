import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { OperationalError } from '@runplane/errors';
import { BlobNotFoundError, BlobRangeError, assertBlobKey } from './errors.js';
import type { BlobInfo, BlobMetadata, BlobStore, ByteRange } from './blob-store.js';
import { spoolBlob } from './spool.js';

/** Where an S3-compatible store is and how to reach it. */
export interface S3Location {
  /** `http(s)://host[:port]` of the S3 API (MinIO, AWS, …). */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  /** `http://host/bucket/key` (MinIO, most S3-compatible stores) rather than `http://bucket.host/key`. */
  readonly forcePathStyle: boolean;
  /** Where uploads are spooled while their size and checksum are taken; the OS temp folder by default. */
  readonly spoolDir?: string;
}

const META = { name: 'runplane-name', sha256: 'runplane-sha256', storedAt: 'runplane-stored-at' } as const;

function isMissing(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchObject';
}

function unavailable(endpoint: string, err: unknown): OperationalError {
  return new OperationalError({
    code: 'STORAGE_UNAVAILABLE',
    message: `The object store at ${endpoint} did not answer as expected`,
    details: { endpoint },
    cause: err,
  });
}

/**
 * Blobs in an S3-compatible object store (MinIO in the compose stack). An upload is spooled
 * to a temporary file first — to take its size and SHA-256 and to refuse a size mismatch
 * before anything is stored — then put with its size, which S3 stores atomically: a reader
 * sees the old object or the new one, never a part.
 */
export class S3BlobStore implements BlobStore {
  readonly #client: Client;
  readonly #location: S3Location;
  #bucketReady: Promise<void> | undefined;

  constructor(location: S3Location) {
    const url = new URL(location.endpoint);
    this.#location = location;
    this.#client = new Client({
      endPoint: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      useSSL: url.protocol === 'https:',
      region: location.region,
      accessKey: location.accessKeyId ?? '',
      secretKey: location.secretAccessKey ?? '',
      pathStyle: location.forcePathStyle,
    });
  }

  /** Creates the bucket when it does not exist; done once, on first use. */
  ready(): Promise<void> {
    this.#bucketReady ??= (async () => {
      try {
        if (!(await this.#client.bucketExists(this.#location.bucket))) {
          await this.#client.makeBucket(this.#location.bucket, this.#location.region);
        }
      } catch (err) {
        this.#bucketReady = undefined;
        throw unavailable(this.#location.endpoint, err);
      }
    })();
    return this.#bucketReady;
  }

  async put(metadata: BlobMetadata, chunks: AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    assertBlobKey(metadata.key);
    await this.ready();
    const spool = this.#location.spoolDir ?? join(tmpdir(), 'runplane-s3-spool');
    await mkdir(spool, { recursive: true });
    const file = join(spool, randomUUID());
    try {
      const info = await spoolBlob(file, metadata, chunks);
      try {
        await this.#client.putObject(
          this.#location.bucket,
          metadata.key,
          createReadStream(file),
          info.sizeBytes,
          {
            'Content-Type': info.contentType,
            [META.name]: encodeURIComponent(info.name),
            [META.sha256]: info.sha256,
            [META.storedAt]: String(info.storedAtMs),
          },
        );
      } catch (err) {
        throw unavailable(this.#location.endpoint, err);
      }
      return info;
    } finally {
      await rm(file, { force: true });
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    await this.ready();
    try {
      const stat = await this.#client.statObject(this.#location.bucket, key);
      const meta = new Map(Object.entries(stat.metaData).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return {
        key,
        name: decodeURIComponent(meta.get(META.name) ?? ''),
        contentType: meta.get('content-type') ?? 'application/octet-stream',
        sizeBytes: stat.size,
        sha256: meta.get(META.sha256) ?? '',
        storedAtMs: Number(meta.get(META.storedAt) ?? stat.lastModified.getTime()),
      };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw unavailable(this.#location.endpoint, err);
    }
  }

  async get(key: string, range?: ByteRange): Promise<{ info: BlobInfo; chunks: AsyncIterable<Uint8Array> }> {
    const info = await this.stat(key);
    if (!info) throw new BlobNotFoundError(key);
    const offset = range?.offset ?? 0;
    if (offset < 0 || (offset > 0 && offset >= info.sizeBytes))
      throw new BlobRangeError(key, offset, info.sizeBytes);
    const length = Math.min(range?.length ?? info.sizeBytes - offset, info.sizeBytes - offset);
    if (length <= 0) return { info, chunks: (async function* empty(): AsyncIterable<Uint8Array> {})() };
    try {
      const chunks = await this.#client.getPartialObject(this.#location.bucket, key, offset, length);
      return { info, chunks };
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFoundError(key);
      throw unavailable(this.#location.endpoint, err);
    }
  }

  async delete(key: string): Promise<boolean> {
    const existed = (await this.stat(key)) !== undefined;
    if (!existed) return false;
    try {
      await this.#client.removeObject(this.#location.bucket, key);
    } catch (err) {
      throw unavailable(this.#location.endpoint, err);
    }
    return true;
  }

  async *list(prefix = ''): AsyncIterable<string> {
    await this.ready();
    const keys: string[] = [];
    for await (const item of this.#client.listObjectsV2(this.#location.bucket, prefix, true)) {
      const name = (item as { name?: string }).name;
      if (name !== undefined) keys.push(name);
    }
    yield* keys.sort();
  }
}
