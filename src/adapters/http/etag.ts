/** Strong entity tags for thumbnail bodies, and the `If-None-Match` test that turns a hit into a 304. */
import { createHash } from 'node:crypto';

/** A strong ETag of `body`: 128 bits of its SHA-256, so equal bytes give equal tags across processes and restarts. */
export function etagOf(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/**
 * True when an `If-None-Match` header matches `etag` (RFC 9110 §13.1.2: weak comparison, so
 * a `W/` tag a CDN rewrote still matches; `*` matches any current representation).
 */
export function ifNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
  const tags = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim());
  return tags.some((tag) => tag === '*' || bare(tag) === bare(etag));
}
