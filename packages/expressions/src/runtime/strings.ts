/** String helpers that behave as their Java counterparts in the Mendix runtime. */

/** Java's String.trim(): strips every character up to U+0020 from both ends. */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

const URL_SAFE = /[A-Za-z0-9.\-*_]/;

/** Java's `URLEncoder.encode(s, UTF-8)`: spaces become `+`, `.-*_` and alphanumerics stay. */
export function javaUrlEncode(text: string): string {
  let out = '';
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && URL_SAFE.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Java's `URLDecoder.decode(s, UTF-8)`; undefined for malformed escapes. */
export function javaUrlDecode(text: string): string | undefined {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length > 0) {
      out += new TextDecoder().decode(new Uint8Array(bytes));
      bytes.length = 0;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    flush();
    out += ch === '+' ? ' ' : ch;
  }
  flush();
  return out;
}
