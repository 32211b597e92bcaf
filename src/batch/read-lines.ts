/**
 * Lines of a byte stream, numbered, without ever holding more than one line (bounded by
 * `maxLineBytes`) plus one chunk: an enormous line is reported as too long and skipped, not
 * buffered, so a broken manifest cannot exhaust memory.
 */

export interface Line {
  /** 1-based. */
  number: number;
  /** The line without its `\n` / `\r\n`; undefined when it was longer than `maxLineBytes`. */
  text: string | undefined;
}

export async function* readLines(input: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let number = 0;
  const finish = (): Line => {
    number += 1;
    if (tooLong) {
      parts = [];
      size = 0;
      tooLong = false;
      return { number, text: undefined };
    }
    let text = Buffer.concat(parts, size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    parts = [];
    size = 0;
    return { number, text };
  };
  const keep = (piece: Buffer): void => {
    if (tooLong) return;
    if (size + piece.length > maxLineBytes) {
      tooLong = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      keep(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < chunk.length) keep(Buffer.from(chunk.subarray(start)));
  }
  if (size > 0 || tooLong) yield finish();
}
