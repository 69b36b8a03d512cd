import { join } from 'node:path';
import { loadModelOrThrow } from '@runplane/model';
import { SYSTEM_CONTEXT } from '@runplane/persistence';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSite, openSiteDatabase, startTestExecutor, type TestSite } from './testing/harness.js';

const LIFECYCLE_MODEL_DIR = join(import.meta.dirname, '..', 'test', 'fixtures', 'lifecycle');

/** The marks the lifecycle microflows left, oldest first. */
async function marks(site: TestSite): Promise<string[]> {
  const model = await loadModelOrThrow(LIFECYCLE_MODEL_DIR);
  const database = await openSiteDatabase(site, model);
  try {
    return await database.transaction(SYSTEM_CONTEXT, async (uow) => {
      const result = await uow.retrieve({ entity: 'Life.Mark' });
      return result.objects.map((o) => {
        const moment = o.get('Moment');
        return typeof moment === 'string' ? moment : '';
      });
    });
  } finally {
    await database.close();
  }
}

describe('the after-startup and before-shutdown microflows', () => {
  let site: TestSite;

  beforeAll(async () => {
    site = await createTestSite('life');
  });

  afterAll(async () => {
    await site.cleanup();
  });

  it('run on every executor: after-startup before it serves, before-shutdown when it stops', async () => {
    const first = await startTestExecutor(site, LIFECYCLE_MODEL_DIR);
    // The after-startup microflow has committed before startExecutor resolved.
    expect(await marks(site)).toEqual(['after-startup']);
    const second = await startTestExecutor(site, LIFECYCLE_MODEL_DIR);
    expect(await marks(site)).toEqual(['after-startup', 'after-startup']);
    await first.stop();
    await second.stop();
    expect((await marks(site)).sort()).toEqual([
      'after-startup',
      'after-startup',
      'before-shutdown',
      'before-shutdown',
    ]);
  });

  it('stop the start when after-startup returns false, with its work rolled back', async () => {
    const before = await marks(site);
    await expect(
      startTestExecutor(site, LIFECYCLE_MODEL_DIR, { RUNPLANE_CONSTANTS: '{"Life.StartOk": false}' }),
    ).rejects.toMatchObject({
      code: 'STARTUP_MICROFLOW_FAILED',
      message: expect.stringContaining('Life.ASu_Mark returned false') as unknown,
    });
    expect(await marks(site)).toEqual(before);
  });
});
