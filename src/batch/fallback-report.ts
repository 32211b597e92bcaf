/**
 * The fallback report: a JSON Lines file of every record that fell back (derived or
 * placeholder), with why. Each line is the record itself plus a `fallback` field, so the file
 * is a manifest: `rethumb rebuild report.fallbacks.jsonl` retries exactly those records (the
 * manifest reader keeps only record fields).
 */
import type { JournalEntry } from './journal.js';
import { writeFromJournal } from './write-from-journal.js';

/** The fallback report line of a journal entry, or undefined for a record that did not fall back. */
export function fallbackLine(entry: JournalEntry): string | undefined {
  if ((entry.o !== 'derived' && entry.o !== 'placeholder') || !entry.rec) return undefined;
  return JSON.stringify({
    ...entry.rec,
    fallback: {
      outcome: entry.o,
      reason: entry.r,
      class: entry.c,
      key: entry.k,
      line: entry.l,
      failedAt: entry.t === undefined ? undefined : new Date(entry.t).toISOString(),
      failures: entry.f ?? [],
    },
  });
}

/**
 * Write the fallback report of the journal at `journalPath` to `outPath` (atomically: a temp
 * file renamed into place). Streams both files. Resolves with the number of records written.
 */
export function writeFallbackReport(journalPath: string, outPath: string): Promise<number> {
  return writeFromJournal(journalPath, outPath, fallbackLine);
}
