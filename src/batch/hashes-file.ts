/**
 * The hashes file of `rethumb rebuild --hashes FILE`: JSON Lines, `{"key":…,"thumbhash":…}` for
 * every record rendered from its source (`regenerated` or `mirror`), so that an application can
 * store each hash beside its record; records that carry it get placeholders that look like the
 * image. Made from the journal at the end of every run, like the fallback report: with
 * `--resume`, it holds the records of every run of the job, each once — except those a killed
 * run rendered after its last journal flush: the resumed run finds them stored (onlyMissing)
 * and does not decode them again, so no hash exists for them.
 */
import type { JournalEntry } from './journal.js';
import { writeFromJournal } from './write-from-journal.js';

/** The hashes-file line of a journal entry, or undefined for a record without a ThumbHash. */
export function hashLine(entry: JournalEntry): string | undefined {
  if (entry.h === undefined || entry.k === undefined) return undefined;
  return JSON.stringify({ key: entry.k, thumbhash: entry.h });
}

/** Write the hashes file of the journal at `journalPath` to `outPath` (atomically). Resolves with the number of records written. */
export function writeHashesFile(journalPath: string, outPath: string): Promise<number> {
  return writeFromJournal(journalPath, outPath, hashLine);
}
