import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { BlobNotFoundError, BlobRangeError, assertBlobKey } from './errors.js';
import type { BlobInfo, BlobMetadata, BlobStore, ByteRange } from './blob-store.js';
import { spoolBlob } from './spool.js';

const META_SUFFIX = '.meta.json';
const CHUNK_BYTES = 64 * 1024;

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'ENOENT';
}

/**
 * Blobs as files below a root folder: `<root>/blobs/<key>` with a `<key>.meta.json`
 * beside it. A write goes to a temporary file and is renamed into place, so readers
 * never see half a blob and a failed upload leaves nothing behind.
 */
export class LocalDiskBlobStore implements BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;

  constructor(root: string) {
    this.blobs = join(root, 'blobs');
    this.tmp = join(root, 'tmp');
  }

  private path(key: string): string {
    assertBlobKey(key);
    return join(this.blobs, ...key.split('/'));
  }

  async put(metadata: BlobMetadata, chunks: AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    const target = this.path(metadata.key);
    await mkdir(this.tmp, { recursive: true });
    const tmpFile = join(this.tmp, randomUUID());
    try {
      const info = await spoolBlob(tmpFile, metadata, chunks);
      await mkdir(dirname(target), { recursive: true });
      const tmpMeta = `${tmpFile}${META_SUFFIX}`;
      await writeFile(tmpMeta, JSON.stringify(info));
      // The contents move first: a reader that finds the new metadata finds the new bytes.
      await rename(tmpFile, target);
      await rename(tmpMeta, `${target}${META_SUFFIX}`);
      return info;
    } catch (err) {
      await rm(tmpFile, { force: true });
      await rm(`${tmpFile}${META_SUFFIX}`, { force: true });
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    const path = this.path(key);
    try {
      return JSON.parse(await readFile(`${path}${META_SUFFIX}`, 'utf8')) as BlobInfo;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<{ info: BlobInfo; chunks: AsyncIterable<Uint8Array> }> {
    const info = await this.stat(key);
    if (!info) throw new BlobNotFoundError(key);
    const offset = range?.offset ?? 0;
    if (offset < 0 || (offset > 0 && offset >= info.sizeBytes))
      throw new BlobRangeError(key, offset, info.sizeBytes);
    const length = range?.length ?? info.sizeBytes - offset;
    const end = Math.min(info.sizeBytes, offset + length) - 1;
    const path = this.path(key);
    const chunks =
      end < offset
        ? (async function* empty(): AsyncIterable<Uint8Array> {})()
        : createReadStream(path, { start: offset, end, highWaterMark: CHUNK_BYTES });
    return { info, chunks };
  }

  async delete(key: string): Promise<boolean> {
    const path = this.path(key);
    const existed = (await this.stat(key)) !== undefined;
    await rm(`${path}${META_SUFFIX}`, { force: true });
    await rm(path, { force: true });
    return existed;
  }

  async *list(prefix = ''): AsyncIterable<string> {
    let entries: string[];
    try {
      entries = await readdir(this.blobs, { recursive: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const entry of entries.sort()) {
      if (!entry.endsWith(META_SUFFIX)) continue;
      const key = relative(this.blobs, join(this.blobs, entry.slice(0, -META_SUFFIX.length)))
        .split(sep)
        .join('/');
      if (key.startsWith(prefix)) yield key;
    }
  }

  /** Size of a stored file on disk, for tests and diagnostics. */
  async diskSize(key: string): Promise<number> {
    return (await stat(this.path(key))).size;
  }
}
