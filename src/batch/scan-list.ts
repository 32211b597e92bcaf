/**
 * The lines of a `scan --list`: each is the record as the manifest gave it, plus a `scan` field
 * saying what the scan found. The list is itself a manifest (readers ignore unknown fields), and
 * a rebuild of it repairs exactly its records: missing variants are missing to any rebuild, and
 * the records it marks damaged (whose files exist) are read and checked by the rebuild, so they
 * are refetched too.
 */
import type { ScanRecordResult } from './scan.js';

/** One line of the list (without the newline). */
export function scanListLine(result: ScanRecordResult): string {
  const { entry, status, key, missing, degraded, damaged } = result;
  return JSON.stringify({
    ...entry.record,
    scan: {
      status,
      key,
      line: entry.line,
      missing,
      degraded,
      ...(damaged.length > 0 ? { damaged: damaged.map((d) => d.variant), damage: Object.fromEntries(damaged.map((d) => [d.variant, d.damage])) } : {}),
    },
  });
}

/** True when a manifest row is a list line that marks damaged variants (`scan.damaged` is a non-empty array). */
export function marksDamaged(row: unknown): boolean {
  const scan = (row as { scan?: { damaged?: unknown } } | null)?.scan;
  return scan !== null && typeof scan === 'object' && Array.isArray(scan.damaged) && scan.damaged.length > 0;
}
