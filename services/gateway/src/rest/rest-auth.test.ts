import { describe, expect, it } from 'vitest';
import { basicCredentials } from './rest-auth.js';

const encode = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('HTTP Basic credentials', () => {
  it('reads a user name and a password that may contain colons', () => {
    expect(basicCredentials(encode('alice:pa:ss word'))).toEqual({
      userName: 'alice',
      password: 'pa:ss word',
    });
    expect(basicCredentials(`basic   ${Buffer.from('bob:x').toString('base64')}`)).toEqual({
      userName: 'bob',
      password: 'x',
    });
  });

  it('refuses other schemes, missing parts and oversized values', () => {
    for (const header of [
      'Bearer abc',
      encode('no-colon'),
      encode(':password'),
      encode('alice:'),
      encode(`${'a'.repeat(101)}:x`),
      'Basic !!!',
    ]) {
      expect(basicCredentials(header)).toBeUndefined();
    }
  });
});
