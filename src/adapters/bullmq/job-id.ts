/** The BullMQ job id of a record: one job per store key, so enqueuing a manifest twice adds nothing twice. */
import { createHash } from 'node:crypto';
import { keyForRecord } from '../../storage/store-key.js';
import type { ThumbRecord } from '../../types.js';

/**
 * `rethumb-<22 base64url chars of sha256(key)>`. A hash, not the key itself, because BullMQ
 * refuses ids containing `:` or made of digits, and keys may be either. A record without a
 * valid key is named by a hash of its JSON: it still runs (and reports its placeholder) once.
 */
export function jobIdFor(record: ThumbRecord): string {
  let name: string;
  try {
    name = `key\u0000${keyForRecord(record)}`;
  } catch {
    name = `record\u0000${safeJson(record)}`;
  }
  return `rethumb-${createHash('sha256').update(name, 'utf8').digest('base64url').slice(0, 22)}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
