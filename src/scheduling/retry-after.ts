/** Parses an HTTP `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */

/**
 * Milliseconds to wait from `now` (epoch ms), or `undefined` when the header is absent or
 * unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only dates: `Date.parse` also reads "1.5" or "-3" as dates, which no server means.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
