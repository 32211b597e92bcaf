/**
 * Files made from a job's journal at the end of every run (the fallback report, the hashes
 * file): one line per finished record that has one, each record once however many runs
 * journaled it, written atomically (a temp file renamed into place) and streamed both ways.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { IndexBitmap } from './index-bitmap.js';
import { readJournal, type JournalEntry } from './journal.js';

/**
 * Write `lineOf(entry)` for every record of the journal at `journalPath` (first entry per
 * manifest index; `undefined` writes nothing) to `outPath`. Resolves with the lines written.
 */
export async function writeFromJournal(journalPath: string, outPath: string, lineOf: (entry: JournalEntry) => string | undefined): Promise<number> {
  await mkdir(dirname(outPath), { recursive: true });
  const temp = `${outPath}.${randomBytes(6).toString('hex')}.tmp`;
  const out = createWriteStream(temp);
  const seen = new IndexBitmap();
  let count = 0;
  try {
    for await (const entry of readJournal(journalPath)) {
      if (seen.has(entry.i)) continue;
      seen.add(entry.i);
      const line = lineOf(entry);
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
