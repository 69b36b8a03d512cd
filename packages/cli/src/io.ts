/** Where a command reads and writes: the process's streams, or buffers in tests. */
export interface CliIo {
  /** Writes to standard output (text as given; add the newline yourself). */
  readonly out: (text: string) => void;
  /** Writes to standard error. */
  readonly err: (text: string) => void;
  /** Standard input, line by line (without line breaks). */
  readonly lines: () => AsyncIterable<string>;
}

/** The streams of this process. */
export function processIo(): CliIo {
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
    lines: () => readLines(process.stdin),
  };
}

async function* readLines(stream: NodeJS.ReadableStream): AsyncIterable<string> {
  let pending = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    pending += String(chunk);
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  if (pending !== '') yield pending.replace(/\r$/, '');
}
