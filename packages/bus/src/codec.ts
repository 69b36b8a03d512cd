import { BusErrorCode, invalidArgument } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A payload for an empty message. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** UTF-8 bytes of a string. */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string a payload holds; throws `BUS_INVALID_PAYLOAD` when it is not valid UTF-8. */
export function decodeText(data: Uint8Array): string {
  try {
    return decoder.decode(data);
  } catch {
    throw invalidArgument(BusErrorCode.InvalidPayload, 'The payload is not valid UTF-8 text', {
      sizeBytes: data.byteLength,
    });
  }
}

/** JSON bytes of a value (`JSON.stringify`; `undefined` becomes `null`). */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) ?? 'null');
}

/**
 * The value a JSON payload holds, unchecked: validate it before use. Throws
 * `BUS_INVALID_PAYLOAD` when the payload is not JSON.
 */
export function decodeJson(data: Uint8Array): unknown {
  const text = decodeText(data);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidArgument(BusErrorCode.InvalidPayload, 'The payload is not valid JSON', {
      sizeBytes: data.byteLength,
    });
  }
}
