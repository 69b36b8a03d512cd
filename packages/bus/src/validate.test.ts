import { describe, expect, it } from 'vitest';
import { BusErrorCode, EMPTY, decodeJson, decodeText, encodeJson, encodeText } from './index.js';
import { retryDelayMs } from './runtime.js';
import {
  assertHeaders,
  assertKey,
  assertKeyFilter,
  messageSizeBytes,
  subjectMatches,
  subjectPatternsOverlap,
} from './validate.js';

describe('subject matching', () => {
  it('follows the NATS wildcard rules', () => {
    expect(subjectMatches('a.*', 'a.b')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.*', 'a')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('*.b', 'a.b')).toBe(true);
    expect(subjectMatches('>', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.c')).toBe(false);
  });

  it('tells whether two patterns can match a common subject', () => {
    expect(subjectPatternsOverlap('a.>', 'a.b')).toBe(true);
    expect(subjectPatternsOverlap('a.*', 'a.b.c')).toBe(false);
    expect(subjectPatternsOverlap('a.*.c', 'a.b.*')).toBe(true);
    expect(subjectPatternsOverlap('a.>', 'a')).toBe(false);
    expect(subjectPatternsOverlap('x.>', 'y.>')).toBe(false);
  });
});

describe('KV keys and headers', () => {
  it('accepts the characters NATS allows in keys and nothing else', () => {
    for (const key of ['a', 'node.gateway-1', 'a/b=c_d', 'A.B.C']) {
      expect(() => {
        assertKey(key);
      }).not.toThrow();
    }
    for (const key of ['', '.a', 'a.', 'a..b', 'a b', 'a*', 'ä']) {
      expect(() => {
        assertKey(key);
      }).toThrow(expect.objectContaining({ code: BusErrorCode.InvalidKey }));
    }
    expect(() => {
      assertKeyFilter('node.*.x');
    }).not.toThrow();
    expect(() => {
      assertKeyFilter('node.>.x');
    }).toThrow(expect.objectContaining({ code: BusErrorCode.InvalidKey }));
  });

  it('rejects header names with colons or spaces, values with line breaks, and transport headers', () => {
    expect(() => {
      assertHeaders({ 'X-Id': 'a b c', traceparent: '00-abc' });
    }).not.toThrow();
    for (const headers of <Record<string, string>[]>[
      { 'a:b': 'x' },
      { 'a b': 'x' },
      { a: 'x\r\ny' },
      { 'nats-expected-stream': 'S' },
    ]) {
      expect(() => {
        assertHeaders(headers);
      }).toThrow(expect.objectContaining({ code: BusErrorCode.InvalidHeader }));
    }
  });

  it('counts headers towards the message size as NATS encodes them', () => {
    expect(messageSizeBytes(new Uint8Array(10), undefined)).toBe(10);
    expect(messageSizeBytes(new Uint8Array(10), {})).toBe(10);
    expect(messageSizeBytes(new Uint8Array(10), { a: 'b' })).toBe(
      10 + 'NATS/1.0\r\n\r\n'.length + 'a: b\r\n'.length,
    );
  });
});

describe('payload codecs', () => {
  it('round-trips JSON and UTF-8 text', () => {
    const value = { user: 'Zoë', roles: ['Admin'], n: 1.5, nested: { ok: true } };
    expect(decodeJson(encodeJson(value))).toEqual(value);
    expect(decodeText(encodeText('héllo ✓'))).toBe('héllo ✓');
    expect(decodeJson(encodeJson(undefined))).toBeNull();
    expect(EMPTY.byteLength).toBe(0);
  });

  it('reports a payload that is not JSON or not UTF-8 as BUS_INVALID_PAYLOAD', () => {
    expect(() => decodeJson(encodeText('{oops'))).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidPayload }),
    );
    expect(() => decodeText(new Uint8Array([0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidPayload }),
    );
  });
});

describe('retry backoff', () => {
  it('waits the n-th delay after the n-th failure and keeps the last one after that', () => {
    expect(retryDelayMs([], 3)).toBe(0);
    expect([1, 2, 3, 4].map((n) => retryDelayMs([100, 1_000], n))).toEqual([100, 1_000, 1_000, 1_000]);
  });
});
