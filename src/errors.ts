/**
 * Every error rethumb raises or reports is a `RethumbError` with a stable `code`.
 * Match on `code`, never on `message`: messages name the URL, the limit and the value and
 * may be reworded; codes are part of the public contract. A fallback's `reason` is one of
 * these codes.
 */

import { boundedString } from './detach-string.js';
import type { DamageKind } from './integrity/image-damage.js';

/** Every code rethumb can raise or report as a fallback reason. */
export const ErrorCodes = {
  /** An option passed to `createRegenerator()` (or a store constructor) is invalid. */
  CONFIG: 'RETHUMB_CONFIG',
  /** `get()` was asked for a variant name that is not configured (a programmer's error). */
  UNKNOWN_VARIANT: 'RETHUMB_UNKNOWN_VARIANT',
  /** The regenerator was closed. */
  CLOSED: 'RETHUMB_CLOSED',
  /** A record is malformed (no `url`, wrong types). */
  INVALID_RECORD: 'RETHUMB_INVALID_RECORD',
  /** A store key is unsafe or malformed (`..`, absolute, NUL, backslash, empty segment). */
  INVALID_KEY: 'RETHUMB_INVALID_KEY',
  /** A URL could not be parsed. */
  INVALID_URL: 'RETHUMB_INVALID_URL',
  /** A URL uses a scheme other than `http:` or `https:` (`file:`, `data:`, `ftp:` …). */
  UNSUPPORTED_PROTOCOL: 'RETHUMB_UNSUPPORTED_PROTOCOL',
  /** The address policy refused the (resolved) address: loopback, private, metadata … */
  FORBIDDEN_ADDRESS: 'RETHUMB_FORBIDDEN_ADDRESS',
  /** The origin answered with a status other than 2xx (see `status`). */
  HTTP_STATUS: 'RETHUMB_HTTP_STATUS',
  /** A connect, headers, body or total deadline passed (see `phase` and `timeoutMs`). */
  TIMEOUT: 'RETHUMB_TIMEOUT',
  /** The connection failed: refused, reset, closed early, DNS failure. */
  CONNECTION: 'RETHUMB_CONNECTION',
  /** The body exceeded the byte limit (announced by Content-Length, or counted while streaming: raw and, for a compressed body, decoded). */
  TOO_LARGE: 'RETHUMB_TOO_LARGE',
  /** More redirects than `maxRedirects`. */
  TOO_MANY_REDIRECTS: 'RETHUMB_TOO_MANY_REDIRECTS',
  /** A redirect led back to a URL already visited. */
  REDIRECT_LOOP: 'RETHUMB_REDIRECT_LOOP',
  /** The bytes are not an image (HTML error page, text, empty, unknown), whatever Content-Type said. */
  NOT_AN_IMAGE: 'RETHUMB_NOT_AN_IMAGE',
  /** The bytes are an image in a format that is not accepted (SVG without `allowSvg`, BMP, PSD …). */
  UNSUPPORTED_FORMAT: 'RETHUMB_UNSUPPORTED_FORMAT',
  /** The image header declares more pixels than `maxPixels` (a decompression bomb). */
  PIXEL_LIMIT: 'RETHUMB_PIXEL_LIMIT',
  /** sharp could not decode the image: truncated, corrupt. */
  DECODE_FAILED: 'RETHUMB_DECODE_FAILED',
  /** Reading or writing a store failed. */
  STORE: 'RETHUMB_STORE',
  /** A host's circuit breaker is open: records for it fall back at once. */
  ORIGIN_UNAVAILABLE: 'RETHUMB_ORIGIN_UNAVAILABLE',
  /** A source failed recently and the negative cache remembers it (see `cause` for the original). */
  RECENTLY_FAILED: 'RETHUMB_RECENTLY_FAILED',
  /** `get()`'s `deadlineMs` passed first: a stand-in was served and regeneration goes on in the background. */
  DEADLINE: 'RETHUMB_DEADLINE',
  /** The work was aborted by a signal. */
  ABORTED: 'RETHUMB_ABORTED',
  /** The user's database knows no record for a key (e.g. `rethumb/http`'s `resolve()` answered `undefined`). */
  UNKNOWN_KEY: 'RETHUMB_UNKNOWN_KEY',
  /** A batch journal cannot be used: it belongs to another manifest or job, or it is unreadable. */
  JOURNAL: 'RETHUMB_JOURNAL',
  /** A stored thumbnail is damaged (truncated, zeroed, its checksum does not match …): treated as a miss, then replaced. */
  STORE_CORRUPT: 'RETHUMB_STORE_CORRUPT',
  /**
   * A record's (or placeholder hints') `thumbhash` is not a ThumbHash: not base64, too short or
   * long, or a header that does not match its length. It is ignored (the placeholder is the flat
   * one) and reported as a failure with `source: 'thumbhash'`, never thrown.
   */
  INVALID_THUMBHASH: 'RETHUMB_INVALID_THUMBHASH',
  /** A manifest cannot be read as one at all (a CSV header without a `url` column); malformed lines are only skipped. */
  MANIFEST: 'RETHUMB_MANIFEST',
  /** The body's `Content-Encoding` names a coding rethumb cannot decode (`compress`, `zstd` before Node 22.15 …). */
  UNSUPPORTED_ENCODING: 'RETHUMB_UNSUPPORTED_ENCODING',
  /** The body could not be decoded as its `Content-Encoding` said: corrupt or truncated gzip, deflate or br data. */
  CORRUPT_ENCODING: 'RETHUMB_CORRUPT_ENCODING',
  /**
   * sharp could not encode a variant in the output format (even fitted within the format's size
   * limits). Only that variant falls back; the source's other variants are kept.
   */
  ENCODE_FAILED: 'RETHUMB_ENCODE_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface RethumbErrorOptions {
  cause?: unknown;
  /** The URL the error is about, if any. */
  url?: string;
}

/** Base class of every rethumb error. */
export class RethumbError extends Error {
  readonly code: ErrorCode;
  readonly url: string | undefined;

  constructor(code: ErrorCode, message: string, options: RethumbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.url = options.url;
  }
}

/** An option is invalid. Thrown by constructors, never reported as a fallback. */
export class ConfigError extends RethumbError {
  /** The option's path, e.g. `variants.small.width`. */
  readonly option: string;
  constructor(option: string, expected: string, got: unknown) {
    super(ErrorCodes.CONFIG, `Expected \`${option}\` to be ${expected}, got ${describe(got)}`);
    this.option = option;
  }
}

export class UnknownVariantError extends RethumbError {
  readonly variant: string;
  constructor(variant: unknown, known: readonly string[]) {
    super(
      ErrorCodes.UNKNOWN_VARIANT,
      `Unknown variant ${describe(variant)}; configured variants are ${known.map((k) => `\`${k}\``).join(', ')}`,
    );
    this.variant = String(variant);
  }
}

export class ClosedError extends RethumbError {
  constructor() {
    super(ErrorCodes.CLOSED, 'The regenerator is closed');
  }
}

export class InvalidRecordError extends RethumbError {
  constructor(message: string) {
    super(ErrorCodes.INVALID_RECORD, message);
  }
}

export class InvalidKeyError extends RethumbError {
  readonly key: string;
  constructor(key: unknown, why: string) {
    super(ErrorCodes.INVALID_KEY, `Invalid store key ${describe(key)}: ${why}`);
    this.key = String(key);
  }
}

export class InvalidUrlError extends RethumbError {
  /** `why`, when the URL parses but cannot be fetched (e.g. a host name longer than DNS allows). */
  constructor(url: unknown, cause?: unknown, why?: string) {
    super(ErrorCodes.INVALID_URL, `Invalid URL ${describe(url)}${why ? `: ${why}` : ''}`, { cause, url: String(url) });
  }
}

export class UnsupportedProtocolError extends RethumbError {
  readonly protocol: string;
  constructor(url: string, protocol: string) {
    super(
      ErrorCodes.UNSUPPORTED_PROTOCOL,
      `Refused ${truncateUrl(url)}: protocol \`${protocol}\` is not allowed (only http: and https:)`,
      { url },
    );
    this.protocol = protocol;
  }
}

export class ForbiddenAddressError extends RethumbError {
  /** The host name refused (an IP literal, or the name that resolved to `address`). */
  readonly host: string;
  readonly address: string;
  /** The ipaddr.js range name, e.g. `loopback`, `private`, `linkLocal`, `carrierGradeNat`. */
  readonly range: string;
  constructor(host: string, address: string, range: string, url?: string) {
    super(
      ErrorCodes.FORBIDDEN_ADDRESS,
      `Refused to connect to ${host}${host === address ? '' : ` (${address})`}: address range \`${range}\` is forbidden by the address policy` +
        ' (allow it with `allowHosts` or `allowPrivateNetworks`)',
      { url },
    );
    this.host = host;
    this.address = address;
    this.range = range;
  }
}

export class HttpStatusError extends RethumbError {
  readonly status: number;
  /** `Retry-After` header as sent, for the retry policy. */
  readonly retryAfter: string | undefined;
  constructor(url: string, status: number, retryAfter?: string) {
    super(ErrorCodes.HTTP_STATUS, `${truncateUrl(url)} answered HTTP ${status}`, { url });
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export type TimeoutPhase = 'connect' | 'headers' | 'body' | 'total';

export class TimeoutError extends RethumbError {
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;
  constructor(url: string, phase: TimeoutPhase, timeoutMs: number, cause?: unknown) {
    super(ErrorCodes.TIMEOUT, `${truncateUrl(url)}: ${phase} deadline of ${timeoutMs} ms passed`, { url, cause });
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

export class ConnectionError extends RethumbError {
  constructor(url: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : '';
    super(ErrorCodes.CONNECTION, `Connection to ${truncateUrl(url)} failed${detail}`, { url, cause });
  }
}

export class TooLargeError extends RethumbError {
  readonly limit: number;
  /** Bytes announced or counted when the limit tripped. */
  readonly size: number;
  /** True when `Content-Length` announced the size and nothing was read; false when counted while streaming. */
  readonly announced: boolean;
  /** The `Content-Encoding` whose decoded bytes went over the limit; undefined when the bytes as sent did. */
  readonly decodedFrom: string | undefined;
  constructor(url: string, limit: number, size: number, announced: boolean, decodedFrom?: string) {
    const what = decodedFrom === undefined ? 'body' : `body decoded from ${decodedFrom}`;
    super(
      ErrorCodes.TOO_LARGE,
      `${truncateUrl(url)}: ${what} ${announced ? 'announced as' : 'exceeded'} ${size} bytes, over the limit of ${limit} bytes`,
      { url },
    );
    this.limit = limit;
    this.size = size;
    this.announced = announced;
    this.decodedFrom = decodedFrom;
  }
}

export class UnsupportedEncodingError extends RethumbError {
  /** The coding that cannot be decoded, lower-cased (e.g. `compress`). */
  readonly coding: string;
  /** When set, `coding` is decodable but stacked over `stacked` codings, more than `maxStacked`. */
  constructor(url: string, coding: string, stacked?: { count: number; max: number }) {
    super(
      ErrorCodes.UNSUPPORTED_ENCODING,
      stacked === undefined
        ? `${truncateUrl(url)}: Content-Encoding ${describe(coding)} cannot be decoded (gzip, x-gzip, deflate, br and identity can)`
        : `${truncateUrl(url)}: Content-Encoding stacks ${stacked.count} codings, more than the ${stacked.max} rethumb decodes`,
      { url },
    );
    this.coding = boundedString(coding, 80);
  }
}

export class CorruptEncodingError extends RethumbError {
  /** The coding whose data was corrupt or truncated (`gzip`, `deflate`, `br` …). */
  readonly coding: string;
  constructor(url: string, coding: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : '';
    super(ErrorCodes.CORRUPT_ENCODING, `${truncateUrl(url)}: body is not valid ${coding} data as Content-Encoding said${detail}`, { url, cause });
    this.coding = coding;
  }
}

export class TooManyRedirectsError extends RethumbError {
  readonly limit: number;
  constructor(url: string, limit: number) {
    super(ErrorCodes.TOO_MANY_REDIRECTS, `${truncateUrl(url)}: more than ${limit} redirects`, { url });
    this.limit = limit;
  }
}

export class RedirectLoopError extends RethumbError {
  constructor(url: string, target: string) {
    super(ErrorCodes.REDIRECT_LOOP, `${truncateUrl(url)}: redirect loop back to ${truncateUrl(target)}`, { url });
  }
}

export class NotAnImageError extends RethumbError {
  /** What the bytes look like: a MIME type from file-type, `text`, `empty` or `unknown`. */
  readonly detected: string;
  constructor(url: string | undefined, detected: string, contentType?: string) {
    super(
      ErrorCodes.NOT_AN_IMAGE,
      `${url ? truncateUrl(url) : 'source'}: bytes are ${detected === 'empty' ? 'empty' : `not an image (${detected})`}` +
        // The header is the origin's to choose (up to undici's 16 KiB of headers): quote a bounded copy.
        (contentType ? ` although Content-Type said ${describe(contentType)}` : ''),
      { url },
    );
    this.detected = detected;
  }
}

export class UnsupportedFormatError extends RethumbError {
  readonly format: string;
  /** The option that would accept this format (`allowSvg`), when one would: a refusal by configuration. */
  readonly refusedBy: string | undefined;
  constructor(url: string | undefined, format: string, hint = '', refusedBy?: string) {
    super(ErrorCodes.UNSUPPORTED_FORMAT, `${url ? truncateUrl(url) : 'source'}: image format \`${format}\` is not accepted${hint}`, { url });
    this.format = format;
    this.refusedBy = refusedBy;
  }
}

export class PixelLimitError extends RethumbError {
  readonly limit: number;
  readonly pixels: number;
  constructor(url: string | undefined, width: number, height: number, limit: number) {
    super(
      ErrorCodes.PIXEL_LIMIT,
      `${url ? truncateUrl(url) : 'source'}: ${width}x${height} is ${width * height} pixels, over the limit of ${limit}`,
      { url },
    );
    this.limit = limit;
    this.pixels = width * height;
  }
}

export class DecodeError extends RethumbError {
  constructor(url: string | undefined, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(ErrorCodes.DECODE_FAILED, `${url ? truncateUrl(url) : 'source'} could not be decoded${detail}`, { url, cause });
  }
}

export class EncodeError extends RethumbError {
  /** The variant that could not be encoded. */
  readonly variant: string;
  /** The output format. */
  readonly format: string;
  constructor(url: string | undefined, variant: string, format: string, cause?: unknown) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(ErrorCodes.ENCODE_FAILED, `${url ? truncateUrl(url) : 'source'}: variant \`${variant}\` could not be encoded as ${format}${detail}`, { url, cause });
    this.variant = variant;
    this.format = format;
  }
}

export class StoreError extends RethumbError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.STORE, message, { cause });
  }
}

export class OriginUnavailableError extends RethumbError {
  readonly host: string;
  /** When the breaker lets the next probe through (epoch ms). */
  readonly retryAt: number;
  constructor(url: string, host: string, retryAt: number) {
    super(ErrorCodes.ORIGIN_UNAVAILABLE, `${host} is unavailable (circuit open) until ${new Date(retryAt).toISOString()}`, { url });
    this.host = host;
    this.retryAt = retryAt;
  }
}

export class RecentlyFailedError extends RethumbError {
  /** The code of the failure being remembered. */
  readonly originalCode: ErrorCode;
  readonly expiresAt: number;
  constructor(url: string, original: RethumbError, expiresAt: number) {
    super(ErrorCodes.RECENTLY_FAILED, `${truncateUrl(url)} failed recently (${original.code}); not refetched until ${new Date(expiresAt).toISOString()}`, {
      url,
      cause: original,
    });
    this.originalCode = original.code;
    this.expiresAt = expiresAt;
  }
}

export class AbortedError extends RethumbError {
  constructor(cause?: unknown) {
    super(ErrorCodes.ABORTED, 'The operation was aborted', { cause });
  }
}

export class JournalError extends RethumbError {
  /** The journal file. */
  readonly path: string;
  constructor(path: string, why: string, cause?: unknown) {
    super(ErrorCodes.JOURNAL, `Cannot resume from ${path}: ${why}`, { cause });
    this.path = path;
  }
}

/**
 * A stored entry failed its integrity check: reported as a `storeError` (never thrown to a
 * `get()` caller), and the entry is treated as missing.
 */
export class StoreCorruptError extends RethumbError {
  readonly key: string;
  readonly variant: string;
  /** What is wrong: `empty`, `format`, `truncated`, `structure`, `checksum` or `undecodable`. */
  readonly damage: DamageKind;
  constructor(key: string, variant: string, damage: DamageKind, detail: string, cause?: unknown) {
    super(ErrorCodes.STORE_CORRUPT, `Stored thumbnail ${key}/${variant} is damaged (${damage}): ${detail}`, { cause });
    this.key = key;
    this.variant = variant;
    this.damage = damage;
  }
}

/** A `thumbhash` that cannot be drawn; reported beside a placeholder, never thrown by rethumb. */
export class InvalidThumbHashError extends RethumbError {
  constructor(why: string) {
    super(ErrorCodes.INVALID_THUMBHASH, `Ignored the thumbhash: ${why}`);
  }
}

export class ManifestError extends RethumbError {
  constructor(why: string) {
    super(ErrorCodes.MANIFEST, `The manifest cannot be read: ${why}`);
  }
}

/** True when `error` is a rethumb error with the given code. */
export function isRethumbError(error: unknown, code?: ErrorCode): error is RethumbError {
  return error instanceof RethumbError && (code === undefined || error.code === code);
}

/** A short, safe description of a value for messages (a string is cut to 80 characters and copied). */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `\`${value.length > 80 ? boundedString(value, 80) : value}\``;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `\`${String(value)}\``;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return `an object`;
}

/**
 * A URL for a message: at most 200 characters, and a copy. Messages outlive requests (in
 * failures, the negative cache, reports), and a `slice` of a long URL would keep all of it alive.
 */
function truncateUrl(url: string): string {
  return url.length > 200 ? boundedString(url, 200) : url;
}
