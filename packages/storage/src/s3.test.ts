import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { expect, it } from 'vitest';
import { describeBlobStore } from './blob-store.suite.js';
import { S3BlobStore } from './index.js';

let dir = '';
let server: S3rver | undefined;

describeBlobStore({
  name: 'S3',
  async open() {
    dir = await mkdtemp(join(tmpdir(), 'runplane-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
    const { port } = await server.run();
    // The bucket does not exist yet: the store creates it on first use.
    return new S3BlobStore({
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'runplane-files',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      spoolDir: join(dir, 'spool'),
    });
  },
  async close() {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  },
});

it('reports an object store that does not answer as an operational error naming it', async () => {
  const store = new S3BlobStore({
    endpoint: 'http://127.0.0.1:1',
    bucket: 'b',
    region: 'us-east-1',
    accessKeyId: 'x',
    secretAccessKey: 'y',
    forcePathStyle: true,
  });
  await expect(store.stat('k')).rejects.toMatchObject({
    code: 'STORAGE_UNAVAILABLE',
    kind: 'operational',
    message: expect.stringContaining('127.0.0.1:1') as unknown,
  });
});
