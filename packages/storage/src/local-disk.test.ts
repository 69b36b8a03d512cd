import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeBlobStore } from './blob-store.suite.js';
import { LocalDiskBlobStore } from './index.js';

let root = '';

describeBlobStore({
  name: 'local disk',
  async open() {
    root = await mkdtemp(join(tmpdir(), 'runplane-blobs-'));
    return new LocalDiskBlobStore(root);
  },
  close: () => rm(root, { recursive: true, force: true }),
});

it('leaves no temporary files behind a refused upload', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'runplane-blobs-'));
  try {
    const store = new LocalDiskBlobStore(dir);
    const chunks = (async function* one() {
      yield await Promise.resolve(Buffer.from('abc'));
    })();
    await expect(
      store.put({ key: 'k', name: 'n', contentType: 'x', expectedSizeBytes: 1 }, chunks),
    ).rejects.toMatchObject({
      code: 'BLOB_SIZE_MISMATCH',
    });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
