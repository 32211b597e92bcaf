/** A file name beside `path` that no file has yet, for an output a printed command must not overwrite. */
import { existsSync } from 'node:fs';

/**
 * `<stem>.retry.jsonl`, else `<stem>.retry-2.jsonl`, `-3` … (the first that does not exist),
 * where `<stem>` is `path` without `.jsonl`: a retry's hashes go beside the job's, never over them.
 */
export function unusedPathBeside(path: string): string {
  const stem = path.replace(/\.jsonl$/i, '');
  for (let n = 1; n < 1_000; n += 1) {
    const candidate = `${stem}.retry${n === 1 ? '' : `-${n}`}.jsonl`;
    if (!existsSync(candidate)) return candidate;
  }
  return `${stem}.retry-${Date.now()}.jsonl`;
}
