import { BusErrorCode, invalidArgument, payloadTooLargeError } from './errors.js';
import type { MessageHeaders } from './bus.js';

// The rules below are NATS's own (subjects, KV keys, JetStream names), checked before
// either implementation sees a value, so both reject the same input with the same code.

const TOKEN_FORBIDDEN = /[\s*>]/;
const KEY = /^[-/=.\w]+$/;
const KEY_FILTER = /^[-/=.>*\w]+$/;
const RESOURCE_NAME = /^[-\w]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n]/;
const TEXT = new TextEncoder();

/** Header names reserved for the transport; users may neither send nor see them. */
export function isReservedHeader(name: string): boolean {
  return name.toLowerCase().startsWith('nats-');
}

/** Checks a subject that a message is sent to: dot-separated tokens, no wildcards, no whitespace. */
export function assertSubject(subject: string): void {
  if (subject === '' || subject.split('.').some((t) => t === '' || TOKEN_FORBIDDEN.test(t))) {
    throw invalidArgument(BusErrorCode.InvalidSubject, `Not a valid subject to send to: "${subject}"`, {
      subject,
    });
  }
}

/** Checks a subject to listen on: like {@link assertSubject}, plus `*` as a whole token and `>` as the last. */
export function assertSubjectPattern(pattern: string): void {
  const tokens = pattern.split('.');
  const ok =
    pattern !== '' &&
    tokens.every((t, i) => {
      if (t === '*') return true;
      if (t === '>') return i === tokens.length - 1;
      return t !== '' && !TOKEN_FORBIDDEN.test(t);
    });
  if (!ok) {
    throw invalidArgument(BusErrorCode.InvalidSubject, `Not a valid subject to listen on: "${pattern}"`, {
      subject: pattern,
    });
  }
}

/** True when `subject` matches `pattern` (`*` = one token, `>` = one or more trailing tokens). */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Checks a KV key: letters, digits, `-/_=.`; no leading, trailing or doubled dots. */
export function assertKey(key: string): void {
  if (!KEY.test(key) || key.startsWith('.') || key.endsWith('.') || key.includes('..')) {
    throw invalidArgument(BusErrorCode.InvalidKey, `Not a valid key: "${key}"`, { key });
  }
}

/** Checks a KV key filter: a key whose dot-separated tokens may be `*`, or `>` as the last. */
export function assertKeyFilter(filter: string): void {
  const tokens = filter.split('.');
  const wildcardsOk = tokens.every((t, i) => !t.includes('>') || (t === '>' && i === tokens.length - 1));
  const starsOk = tokens.every((t) => !t.includes('*') || t === '*');
  if (!KEY_FILTER.test(filter) || tokens.includes('') || !wildcardsOk || !starsOk) {
    throw invalidArgument(BusErrorCode.InvalidKey, `Not a valid key filter: "${filter}"`, { key: filter });
  }
}

/** Checks a stream, consumer or bucket name: letters, digits, `_` and `-`. */
export function assertResourceName(kind: string, name: string): void {
  if (!RESOURCE_NAME.test(name)) {
    throw invalidArgument(BusErrorCode.InvalidName, `Not a valid ${kind} name: "${name}"`, { kind, name });
  }
}

/** Checks user headers: printable names without `:`, values without line breaks, no `Nats-` names. */
export function assertHeaders(headers: MessageHeaders | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of Object.entries(headers)) {
    let ok = name !== '' && !isReservedHeader(name) && !HEADER_VALUE_FORBIDDEN.test(value);
    for (let i = 0; ok && i < name.length; i++) {
      const c = name.charCodeAt(i);
      ok = c >= 33 && c <= 126 && c !== 58;
    }
    if (!ok) {
      throw invalidArgument(BusErrorCode.InvalidHeader, `Not a valid header: "${name}"`, { name });
    }
  }
}

/** Checks a duration or count option: a finite number at least `min`. */
export function assertNumberOption(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min) {
    throw invalidArgument(BusErrorCode.InvalidOption, `Option ${name} must be a number of at least ${min}`, {
      option: name,
      value,
    });
  }
}

/** The size NATS counts against its maximum payload: the data plus the encoded header block. */
export function messageSizeBytes(data: Uint8Array, headers: MessageHeaders | undefined): number {
  if (headers === undefined) return data.byteLength;
  const entries = Object.entries(headers);
  if (entries.length === 0) return data.byteLength;
  let size = 'NATS/1.0\r\n\r\n'.length;
  for (const [name, value] of entries) size += TEXT.encode(`${name}: ${value}\r\n`).byteLength;
  return size + data.byteLength;
}

/** Throws {@link BusErrorCode.PayloadTooLarge} when a message would exceed the server's limit. */
export function assertPayloadSize(
  subject: string,
  data: Uint8Array,
  headers: MessageHeaders | undefined,
  maxPayloadBytes: number,
): void {
  const size = messageSizeBytes(data, headers);
  if (size > maxPayloadBytes) throw payloadTooLargeError(subject, size, maxPayloadBytes);
}

/** True when some subject could match both patterns. */
export function subjectPatternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) return p === undefined && q === undefined;
    if (p === '>' || q === '>') return true;
    if (p !== '*' && q !== '*' && p !== q) return false;
  }
}

/** Checks a de-duplication id: non-empty, no line breaks (it travels as a header). */
export function assertMsgId(msgId: string | undefined): void {
  if (msgId !== undefined && (msgId === '' || /[\r\n]/.test(msgId))) {
    throw invalidArgument(BusErrorCode.InvalidOption, `Not a valid message id: "${msgId}"`, { msgId });
  }
}
