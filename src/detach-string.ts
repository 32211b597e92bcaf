/**
 * Copies of strings that are kept for long (error messages, cached failures, report entries).
 *
 * V8 represents `s.slice(a, b)` of 13 characters or more as a view into `s`, and a template
 * literal as a tree of its parts: a 200-character excerpt of a 100 KB URL, kept in a message,
 * keeps the 100 KB alive. A copy made through a Buffer shares nothing with its source.
 */

/** A copy of `value` that shares no memory with any other string. */
export function detachString(value: string): string {
  // Short strings are always copied by V8 (no view below 13 characters).
  if (value.length < 13) return value;
  // latin1 keeps one byte per character for the common case; utf16le is lossless for the rest
  // (lone surrogates included, which a round trip through UTF-8 would replace).
  const encoding = /[^\u0000-\u00ff]/.test(value) ? 'utf16le' : 'latin1';
  return Buffer.from(value, encoding).toString(encoding);
}

/** `value` cut to at most `max` characters (the cut marked with `...`), as a detached copy. */
export function boundedString(value: string, max: number): string {
  return detachString(value.length > max ? `${value.slice(0, Math.max(0, max - 3))}...` : value);
}
