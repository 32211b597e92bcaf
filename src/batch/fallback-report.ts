/**
 * The fallback report: a JSON Lines file of every record that fell back (derived or
 * placeholder), with why. Each line is the record itself plus a `fallback` field, so the file
 * is a manifest: `rethumb rebuild report.fallbacks.jsonl` retries exactly those records (the
 * manifest reader keeps only record fields).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { IndexBitmap } from './index-bitmap.js';
import { readJournal, type JournalEntry } from './journal.js';

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
export async function writeFallbackReport(journalPath: string, outPath: string): Promise<number> {
  await mkdir(dirname(outPath), { recursive: true });
  const temp = `${outPath}.${randomBytes(6).toString('hex')}.tmp`;
  const out = createWriteStream(temp);
  const seen = new IndexBitmap();
  let count = 0;
  try {
    for await (const entry of readJournal(journalPath)) {
      if (seen.has(entry.i)) continue;
      seen.add(entry.i);
      const line = fallbackLine(entry);
      if (line === undefined) continue;
      count += 1;
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
    await rename(temp, outPath);
    return count;
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}
