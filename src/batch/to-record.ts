/**
 * A parsed manifest row as a `ThumbRecord`: only the known fields are kept (so a fallback
 * report's extra `fallback` field, or any other column, is ignored), and rows without a usable
 * `url` are refused with a message. Deeper checks (key safety, URL syntax) stay with the
 * regenerator, which reports them per record.
 */
import type { ThumbRecord } from '../types.js';

export type RecordParse = { ok: true; record: ThumbRecord } | { ok: false; message: string };

export function toRecord(value: unknown): RecordParse {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'expected a JSON object with a `url`' };
  const row = value as Record<string, unknown>;
  if (typeof row.url !== 'string' || row.url.trim() === '') return { ok: false, message: 'expected `url` to be a non-empty string' };
  const record: ThumbRecord = { url: row.url.trim() };
  if (row.key !== undefined && row.key !== null && row.key !== '') {
    if (typeof row.key !== 'string') return { ok: false, message: 'expected `key` to be a string' };
    record.key = row.key;
  }
  if (row.mirrors !== undefined && row.mirrors !== null && row.mirrors !== '') {
    const mirrors = typeof row.mirrors === 'string' ? row.mirrors.split(/[\s|]+/).filter(Boolean) : row.mirrors;
    if (!Array.isArray(mirrors) || mirrors.some((m) => typeof m !== 'string')) return { ok: false, message: 'expected `mirrors` to be an array of URL strings' };
    if (mirrors.length > 0) record.mirrors = mirrors as string[];
  }
  for (const side of ['width', 'height'] as const) {
    const raw = row[side];
    if (raw === undefined || raw === null || raw === '') continue;
    const n = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return { ok: false, message: `expected \`${side}\` to be a positive integer` };
    record[side] = n;
  }
  if (typeof row.color === 'string' && row.color !== '') record.color = row.color;
  // Kept as given, junk included: the regenerator checks it where it draws, and reports a bad
  // one beside the placeholder (a bad hash must never cost the record its thumbnails).
  if (row.thumbhash !== undefined && row.thumbhash !== null && row.thumbhash !== '') record.thumbhash = row.thumbhash as string;
  return { ok: true, record };
}
