/**
 * What identifies a manifest file for `--resume`: its size, modification time and a hash of
 * its first 64 KiB. Cheap on a file of any size, and changed by any edit a person makes to it
 * (appending changes the size; rewriting in place changes the time).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface ManifestFingerprint {
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 of the first 64 KiB, hex. */
  head: string;
}

const HEAD_BYTES = 65_536;

export async function fingerprintManifest(path: string): Promise<ManifestFingerprint> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, stats.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex');
    return { path: resolve(path), size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs), head };
  } finally {
    await handle.close();
  }
}

/** Why `b` is not the manifest `a` fingerprinted, or undefined when it is. */
export function fingerprintMismatch(a: ManifestFingerprint, b: ManifestFingerprint): string | undefined {
  if (a.size !== b.size) return `its size changed (${a.size} → ${b.size} bytes)`;
  if (a.head !== b.head) return 'its first bytes changed';
  if (a.mtimeMs !== b.mtimeMs) return 'it was modified since';
  return undefined;
}
