import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from './index.js';

/** How a suite gets a store of the implementation under test, and cleans up after. */
export interface BlobStoreTarget {
  readonly name: string;
  open(): Promise<BlobStore>;
  close(): Promise<void>;
}

function chunksOf(...parts: (string | Buffer)[]): AsyncIterable<Uint8Array> {
  return (async function* chunks() {
    for (const p of parts) yield await Promise.resolve(typeof p === 'string' ? Buffer.from(p) : p);
  })();
}

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** What every blob store must do, for local disk and S3 alike. */
export function describeBlobStore(target: BlobStoreTarget): void {
  describe(`the ${target.name} blob store`, () => {
    let store: BlobStore;
    beforeAll(async () => {
      store = await target.open();
    });
    afterAll(async () => {
      await target.close();
    });

    it('stores a streamed blob and reads it back with its size, checksum and metadata', async () => {
      const info = await store.put(
        { key: 'invoices/1', name: 'Rechnung für März.pdf', contentType: 'application/pdf' },
        chunksOf('hello ', 'wörld'),
      );
      expect(info.sizeBytes).toBe(Buffer.byteLength('hello wörld'));
      expect(info.sha256).toBe(createHash('sha256').update('hello wörld').digest('hex'));
      const { chunks } = await store.get('invoices/1');
      expect((await readAll(chunks)).toString('utf8')).toBe('hello wörld');
      expect(await store.stat('invoices/1')).toMatchObject({
        key: 'invoices/1',
        name: 'Rechnung für März.pdf',
        contentType: 'application/pdf',
        sizeBytes: info.sizeBytes,
        sha256: info.sha256,
      });
    });

    it('stores a large blob sent in many chunks byte for byte', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
      const parts: Buffer[] = [];
      for (let i = 0; i < big.length; i += 100_000) parts.push(big.subarray(i, i + 100_000));
      await store.put(
        { key: 'big/1', name: 'big', contentType: 'application/octet-stream', expectedSizeBytes: big.length },
        chunksOf(...parts),
      );
      expect((await readAll((await store.get('big/1')).chunks)).equals(big)).toBe(true);
    });

    it('serves byte ranges, and refuses one beyond the end', async () => {
      await store.put({ key: 'r/k', name: 'n', contentType: 'text/plain' }, chunksOf('0123456789'));
      expect((await readAll((await store.get('r/k', { offset: 3, length: 4 })).chunks)).toString()).toBe(
        '3456',
      );
      expect((await readAll((await store.get('r/k', { offset: 8 })).chunks)).toString()).toBe('89');
      expect((await readAll((await store.get('r/k', { offset: 8, length: 100 })).chunks)).toString()).toBe(
        '89',
      );
      await expect(store.get('r/k', { offset: 10 })).rejects.toMatchObject({ code: 'BLOB_RANGE_INVALID' });
    });

    it('keeps the old blob when an upload does not match its announced size', async () => {
      await store.put({ key: 's/k', name: 'n', contentType: 'text/plain' }, chunksOf('old'));
      await expect(
        store.put(
          { key: 's/k', name: 'n', contentType: 'text/plain', expectedSizeBytes: 99 },
          chunksOf('new'),
        ),
      ).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
      expect((await readAll((await store.get('s/k')).chunks)).toString()).toBe('old');
    });

    it('replaces a blob stored under the same key', async () => {
      await store.put({ key: 'x/k', name: 'first', contentType: 'text/plain' }, chunksOf('one'));
      await store.put({ key: 'x/k', name: 'second', contentType: 'text/csv' }, chunksOf('two!'));
      expect(await store.stat('x/k')).toMatchObject({
        name: 'second',
        contentType: 'text/csv',
        sizeBytes: 4,
      });
      expect((await readAll((await store.get('x/k')).chunks)).toString()).toBe('two!');
    });

    it('refuses keys that would escape its folder or bucket', async () => {
      for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/../b', '', 'spaces are bad']) {
        await expect(store.stat(key)).rejects.toMatchObject({ code: 'BLOB_KEY_INVALID' });
      }
    });

    it('deletes blobs, lists keys by prefix, and reports a missing one as not found', async () => {
      await store.put({ key: 'l/a/1', name: '1', contentType: 'x' }, chunksOf('1'));
      await store.put({ key: 'l/a/2', name: '2', contentType: 'x' }, chunksOf('2'));
      await store.put({ key: 'l/b/1', name: '3', contentType: 'x' }, chunksOf('3'));
      const keys: string[] = [];
      for await (const k of store.list('l/a/')) keys.push(k);
      expect(keys).toEqual(['l/a/1', 'l/a/2']);
      expect(await store.delete('l/a/1')).toBe(true);
      expect(await store.delete('l/a/1')).toBe(false);
      expect(await store.stat('l/a/1')).toBeUndefined();
      await expect(store.get('l/a/1')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND', status: 'not_found' });
    });
  });
}
