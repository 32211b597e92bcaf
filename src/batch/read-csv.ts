/**
 * Records of a CSV manifest with a header row (`key,url,mirrors,width,height,color,thumbhash`;
 * only `url` is required; `mirrors` holds URLs separated by spaces or `|`). A malformed row is reported
 * with its line number and skipped; it never takes other rows with it.
 *
 * Why not csv-parse's own stream with `skip_records_with_error`: its recovery cannot know where
 * a broken record ends. An unclosed quote swallows every line after it into one "record" (then
 * skipped whole), and after some errors (text after a closing quote) the rows that follow are
 * lost too. So record boundaries are found here, line by line: a quoted field may span lines,
 * but at most `MAX_RECORD_LINES` lines and `maxLineBytes` bytes; a record that does not close
 * within them, or spans lines yet is not a valid record, is reported at the line where its
 * quote opened, and reading resumes on the next line. csv-parse still parses every row's fields
 * (quotes, escapes, trimming), in batches of single-line rows; a batch with any error is parsed
 * again row by row, so an error is pinned to its row.
 */
import { parse, type CsvError, type Options as CsvOptions } from 'csv-parse/sync';
import { ManifestError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES } from './read-json-lines.js';
import type { ManifestEntry, ReadManifestOptions } from './manifest-types.js';
import { readLines, type Line } from './read-lines.js';
import { toRecord } from './to-record.js';

/**
 * Lines one record may span (a quoted field with line breaks, e.g. mirrors one a line).
 * @default 100 — far more than a record needs; an unclosed quote costs at most this many lines
 * of look-ahead before the lines after it are read again.
 */
export const MAX_RECORD_LINES = 100;

/** Single-line rows parsed by csv-parse at once. */
const BATCH_ROWS = 256;

const PARSE: CsvOptions = { trim: true, relax_quotes: true, record_delimiter: ['\r\n', '\n'] };

/** A row of the CSV, as the lines it spans. */
interface Row {
  /** 1-based line where the row starts (where a multi-line row's quote opened). */
  line: number;
  text: string;
}

export async function* readCsv(input: AsyncIterable<Buffer | string>, options: ReadManifestOptions = {}): AsyncGenerator<ManifestEntry> {
  const { onProblem, signal } = options;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const source = readLines(input, maxLineBytes)[Symbol.asyncIterator]();
  /** Lines to read again: those after a broken multi-line row's first line. */
  const again: Line[] = [];
  const nextLine = async (): Promise<Line | undefined> => again.shift() ?? (await source.next()).value;

  let columns: string[] | undefined;
  let index = 0;
  let batch: Row[] = [];

  /** A parsed row as an entry, or a problem. */
  function* accept(row: Row, fields: Record<string, string>): Generator<ManifestEntry> {
    const parsed = toRecord(fields);
    if (parsed.ok) yield { index: index++, line: row.line, record: parsed.record };
    else onProblem?.({ line: row.line, message: parsed.message });
  }

  function* flush(): Generator<ManifestEntry> {
    const rows = batch;
    batch = [];
    if (rows.length === 0 || columns === undefined) return;
    let records: Array<Record<string, string>> | undefined;
    try {
      records = parse(rows.map((r) => r.text).join('\n'), { ...PARSE, columns }) as unknown as Array<Record<string, string>>;
    } catch {
      records = undefined;
    }
    if (records !== undefined && records.length === rows.length) {
      for (const [i, row] of rows.entries()) yield* accept(row, records[i]!);
      return;
    }
    // Some row is malformed: parse each alone, so the error is pinned to it and no other row is lost.
    for (const row of rows) {
      const one = parseRow(row.text, columns);
      if (one.ok) yield* accept(row, one.fields);
      else onProblem?.({ line: row.line, message: one.message });
    }
  }

  for (;;) {
    const line = await nextLine();
    if (line === undefined) break;
    signal?.throwIfAborted();
    if (line.text === undefined) {
      yield* flush();
      onProblem?.({ line: line.number, message: `longer than ${maxLineBytes} bytes` });
      continue;
    }
    if (line.text.trim() === '') continue;
    if (!opensQuote(line.text, false)) {
      if (columns === undefined) columns = headerColumns({ line: line.number, text: line.text });
      else {
        batch.push({ line: line.number, text: line.text });
        if (batch.length >= BATCH_ROWS) yield* flush();
      }
      continue;
    }
    // A quoted field runs past the end of this line: gather the lines until it closes.
    yield* flush();
    const spanned: Line[] = [line];
    let bytes = Buffer.byteLength(line.text);
    let closed = false;
    while (spanned.length < MAX_RECORD_LINES && bytes <= maxLineBytes) {
      const more = await nextLine();
      if (more === undefined) break;
      spanned.push(more);
      if (more.text === undefined) break;
      bytes += Buffer.byteLength(more.text) + 1;
      if (!opensQuote(more.text, true)) {
        closed = bytes <= maxLineBytes;
        break;
      }
    }
    const row: Row = { line: line.number, text: spanned.map((l) => l.text ?? '').join('\n') };
    if (closed) {
      if (columns === undefined) {
        columns = headerColumns(row);
        continue;
      }
      const one = parseRow(row.text, columns);
      if (one.ok && spansOnlyMirrors(one.fields)) {
        yield* accept(row, one.fields);
        continue;
      }
    }
    // Not a record: report the line where the quote opened, and read again from the next one.
    const last = spanned.at(-1)!.number;
    onProblem?.({
      line: line.number,
      message: closed
        ? `a quoted field opened here runs to line ${last}, and lines ${line.number}-${last} are not one valid record`
        : spanned.length >= MAX_RECORD_LINES || bytes > maxLineBytes
          ? `a quote opened here is not closed within ${MAX_RECORD_LINES} lines or ${maxLineBytes} bytes`
          : 'a quote opened here is never closed',
    });
    if (columns === undefined) throw new ManifestError(`the CSV header row (line ${line.number}) has an unclosed quote`);
    again.unshift(...spanned.slice(1));
  }
  yield* flush();
}

/**
 * Whether `text`, one line of a CSV row, ends inside a quoted field, given whether it starts in
 * one. Follows csv-parse with `relax_quotes` and `trim`: a quote opens a field only at its start
 * (after blanks); inside, `""` is a quote and any other `"` closes the field.
 */
export function opensQuote(text: string, inQuote: boolean): boolean {
  // Most rows have no quote at all.
  if (!inQuote && !text.includes('"')) return false;
  let quoted = inQuote;
  let fieldStart = !inQuote;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c !== 0x22) continue;
      if (text.charCodeAt(i + 1) === 0x22) i += 1;
      else quoted = false;
    } else if (c === 0x2c) fieldStart = true;
    else if (fieldStart && (c === 0x20 || c === 0x09)) continue;
    else if (fieldStart && c === 0x22) {
      quoted = true;
      fieldStart = false;
    } else fieldStart = false;
  }
  return quoted;
}

/** The header row's column names (trimmed, lower-case); it must name `url`. */
function headerColumns(row: Row): string[] {
  let fields: string[];
  try {
    fields = (parse(row.text, PARSE) as string[][])[0] ?? [];
  } catch (error) {
    throw new ManifestError(`the CSV header row (line ${row.line}) cannot be parsed: ${csvMessage(error)}`);
  }
  const columns = fields.map((name) => name.trim().toLowerCase());
  if (!columns.includes('url')) {
    throw new ManifestError(
      `the CSV header row (line ${row.line}) has no \`url\` column (it has: ${columns.join(', ') || 'nothing'}); ` +
        'the first row must name the columns, e.g. key,url,mirrors',
    );
  }
  return columns;
}

function parseRow(text: string, columns: string[]): { ok: true; fields: Record<string, string> } | { ok: false; message: string } {
  try {
    const records = parse(text, { ...PARSE, columns }) as unknown as Array<Record<string, string>>;
    if (records.length === 1) return { ok: true, fields: records[0]! };
    return { ok: false, message: `expected one row, got ${records.length}` };
  } catch (error) {
    return { ok: false, message: csvMessage(error, columns.length) };
  }
}

/**
 * A row spanning lines is trusted only when its line breaks are where they may be: inside
 * `mirrors` (URLs one a line), each of which is a URL. Otherwise an unclosed quote has joined
 * rows that are not one record.
 */
function spansOnlyMirrors(fields: Record<string, string>): boolean {
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || !/[\r\n]/.test(value)) continue;
    if (name !== 'mirrors') return false;
    if (value.split(/[\s|]+/).filter(Boolean).some((url) => !URL.canParse(url))) return false;
  }
  return true;
}

/** A csv-parse error in a row's terms (its line numbers are the row's, not the file's: dropped). */
function csvMessage(error: unknown, fields?: number): string {
  const e = error as CsvError & { record?: unknown[] };
  switch (e?.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return `expected ${fields ?? 'as many'} fields, as the header row names, got ${e.record?.length ?? 'another number'}`;
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'text after a closing quote (quote the whole field, and double any quote inside it)';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote is never closed';
    default:
      return (e instanceof Error ? e.message : String(error)).replace(/ (at|on) line \d+.*$/, '');
  }
}
