import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, and work of other keys alongside', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = mutex.run('alice', async () => {
      log.push('alice 1 start');
      await new Promise<void>((r) => {
        releaseFirst = r;
      });
      log.push('alice 1 end');
    });
    const second = mutex.run('alice', async () => {
      log.push('alice 2');
      return Promise.resolve();
    });
    await mutex.run('bob', async () => {
      log.push('bob');
      return Promise.resolve();
    });
    expect(log).toEqual(['alice 1 start', 'bob']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(log).toEqual(['alice 1 start', 'bob', 'alice 1 end', 'alice 2']);
    expect(mutex.size).toBe(0);
  });

  it('goes on with the next work when one fails', async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run('k', () => Promise.reject(new Error('boom')));
    const next = mutex.run('k', () => Promise.resolve(42));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });
});
