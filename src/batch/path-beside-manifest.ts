/**
 * Where a job may write an output file (its fallback report, its hashes file) without writing
 * over the manifest it reads. The printed "retry the fallbacks" command reads the last job's
 * fallback report (`DIR/.rethumb/fallbacks.jsonl`) as its manifest, and that job would write its
 * own report to the same path: an interrupted retry then replaced the records it had not reached
 * yet with the few it had, and its printed `--resume` was refused (the manifest had changed).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * `path`, unless it is the manifest's file (the same file by device and inode, whatever the
 * spelling, or the same path when neither exists yet): then its sibling `<name>.retry.jsonl`
 * (and `<name>.jsonl` for a `<name>.retry.jsonl`, so a retry of a retry alternates between two).
 */
export function pathBesideManifest(path: string, manifest: string): string {
  const wanted = resolve(path);
  if (manifest === '-' || !sameFile(wanted, resolve(manifest))) return wanted;
  return wanted.endsWith('.retry.jsonl') ? `${wanted.slice(0, -'.retry.jsonl'.length)}.jsonl` : `${wanted.replace(/\.jsonl$/i, '')}.retry.jsonl`;
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
