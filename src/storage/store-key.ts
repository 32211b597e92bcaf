/**
 * What names an entry in a store: keys (validated so they can never escape a store's root),
 * the stable key of a URL, and the validation of a whole `{ key, variant, format }` address.
 */
import { createHash } from 'node:crypto';
import { InvalidKeyError, InvalidRecordError } from '../errors.js';
import { FORMAT_EXTENSIONS, type OutputFormat } from '../types.js';
import type { StoreEntryAddress } from './store.js';

/** Longest key, in UTF-16 code units: deep enough for any naming scheme, short enough for any file system path. */
export const MAX_KEY_LENGTH = 1024;
/** Longest segment, in UTF-8 bytes: `NAME_MAX` of ext4, XFS, APFS and NTFS. */
export const MAX_SEGMENT_BYTES = 255;

// Same rule as variant names in options.ts (not imported: storage may import only option types).
// It matters here because a variant becomes a file name: no dot, no slash, nothing to escape with.
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
// A lone surrogate cannot be encoded as UTF-8: the file system would store U+FFFD, so two keys
// would share one file and list() would return a key nobody wrote.
const LONE_SURROGATE = /\p{Surrogate}/u;
const DRIVE = /^[A-Za-z]:/;

/** Why `key` is not a safe store key, or `undefined` when it is. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'a key must be a string';
  if (key.length === 0) return 'a key must not be empty';
  if (key.length > MAX_KEY_LENGTH) return `a key must be at most ${MAX_KEY_LENGTH} characters (got ${key.length})`;
  if (CONTROL.test(key)) return 'a key must not contain NUL or control characters';
  if (key.includes('\\')) return 'a key must not contain `\\`';
  if (LONE_SURROGATE.test(key)) return 'a key must be well-formed Unicode (no lone surrogate)';
  if (key.startsWith('/')) return 'a key must be relative (no leading `/`)';
  if (DRIVE.test(key)) return 'a key must not start with a drive letter (`C:`)';
  for (const segment of key.split('/')) {
    if (segment.length === 0) return 'a key must not contain empty segments (`a//b`, trailing `/`)';
    if (segment === '.' || segment === '..') return 'a key must not contain `.` or `..` segments';
    // Dot-prefixed names are reserved for the stores' own temp files and markers.
    if (segment.startsWith('.')) return 'a key segment must not start with `.`';
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return `a key segment must be at most ${MAX_SEGMENT_BYTES} bytes in UTF-8`;
  }
  return undefined;
}

/** True when `key` is a safe store key. */
export function isValidKey(key: unknown): key is string {
  return keyProblem(key) === undefined;
}

/** Returns the key when safe, else throws InvalidKeyError(key, why). */
export function assertValidKey(key: unknown): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidKeyError(key, problem);
  return key as string;
}

/**
 * Validates a `list()` prefix and returns it. `''` lists everything; otherwise the prefix is a
 * valid key, optionally followed by one `/` (`users/` lists the keys under `users`, not `users` itself).
 */
export function assertValidPrefix(prefix: unknown): string {
  if (prefix === '') return '';
  if (typeof prefix !== 'string') throw new InvalidKeyError(prefix, 'a prefix must be a string');
  const problem = keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  if (problem !== undefined) throw new InvalidKeyError(prefix, `a prefix is a key, optionally followed by \`/\`: ${problem}`);
  return prefix;
}

/** True when `variant` is a valid variant name (it becomes a file name). */
export function isValidVariant(variant: unknown): variant is string {
  return typeof variant === 'string' && VARIANT_NAME.test(variant);
}

/** A validated address and the file name it maps to (`<variant>.<ext>`). */
export interface ValidAddress {
  key: string;
  variant: string;
  format: OutputFormat;
  /** `<variant>.<ext>`, e.g. `small.webp`. */
  fileName: string;
}

/**
 * Validates a whole store address: a safe key, a variant name of letters, digits, `_` and `-`,
 * and a known output format. Throws InvalidKeyError: every part of it names a file.
 */
export function assertValidAddress(address: StoreEntryAddress): ValidAddress {
  if (address === null || typeof address !== 'object') throw new InvalidKeyError(address, 'an address must be an object `{ key, variant, format }`');
  const key = assertValidKey(address.key);
  const { variant, format } = address;
  if (!isValidVariant(variant)) throw new InvalidKeyError(variant, 'a variant name must be 1–64 letters, digits, `_` or `-`, starting with a letter or digit');
  if (typeof format !== 'string' || !Object.hasOwn(FORMAT_EXTENSIONS, format)) {
    throw new InvalidKeyError(format, `a format must be one of ${Object.keys(FORMAT_EXTENSIONS).map((f) => `\`${f}\``).join(', ')}`);
  }
  return { key, variant, format, fileName: `${variant}.${FORMAT_EXTENSIONS[format]}` };
}

/**
 * A stable key for a URL: sha256 hex, sharded as `<first 2 hex>/<next 30 hex>` (128 bits) so no
 * directory holds a million entries. The URL is hashed exactly as given (no normalisation), so
 * the key never changes between versions.
 */
export function keyForUrl(url: string): string {
  if (typeof url !== 'string') throw new InvalidRecordError(`Expected \`url\` to be a string to derive a store key from, got ${typeof url}`);
  const hex = createHash('sha256').update(url, 'utf8').digest('hex');
  return `${hex.slice(0, 2)}/${hex.slice(2, 32)}`;
}

/** record.key validated, or keyForUrl(record.url). */
export function keyForRecord(record: { key?: string; url: string }): string {
  return record.key === undefined ? keyForUrl(record.url) : assertValidKey(record.key);
}
