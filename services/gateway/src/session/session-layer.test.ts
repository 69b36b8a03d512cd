import { describe, expect, it } from 'vitest';
import { createLogger } from '@runplane/telemetry';
import { SessionLayer } from './session-layer.js';

const logger = createLogger({ service: 'test', nodeId: 'test', level: 'silent' });

function layer(): SessionLayer {
  // Nothing is called: the client only connects on a first call.
  return new SessionLayer(
    { sessionAddress: '127.0.0.1:1', cacheTtlMs: 1000, cacheMaxEntries: 10, callTimeoutMs: 100 },
    logger,
  );
}

describe('the cache key of HTTP Basic credentials', () => {
  it('is the same for the same user name and password, and holds neither', async () => {
    const sessions = layer();
    try {
      const key = sessions.credentialsKey('alice', 'Password1!');
      expect(sessions.credentialsKey('alice', 'Password1!')).toBe(key);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(key).not.toContain('alice');
      expect(sessions.credentialsKey('alice', 'Password2!')).not.toBe(key);
    } finally {
      await sessions.close();
    }
  });

  it('differs for pairs whose user name and password run together the same way', async () => {
    const sessions = layer();
    try {
      expect(sessions.credentialsKey('a\u0000b', 'c')).not.toBe(sessions.credentialsKey('a', 'b\u0000c'));
      expect(sessions.credentialsKey('a:b', 'c')).not.toBe(sessions.credentialsKey('a', 'b:c'));
    } finally {
      await sessions.close();
    }
  });

  it('differs between gateway processes, so that it cannot be precomputed', async () => {
    const [one, two] = [layer(), layer()];
    try {
      expect(one.credentialsKey('alice', 'Password1!')).not.toBe(two.credentialsKey('alice', 'Password1!'));
    } finally {
      await one.close();
      await two.close();
    }
  });
});
