/**
 * The vocabulary shared by every layer: records, variants, thumbnails and outcomes.
 * Lower layers import only this file and `errors.ts`.
 */
import type { ErrorCode, TimeoutPhase } from './errors.js';

/** One image to rebuild, as a user's database or a manifest describes it. */
export interface ThumbRecord {
  /** Names the image in the store. When absent, a stable hash of `url` is used. */
  key?: string;
  /** The original image's URL (http: or https:). */
  url: string;
  /** Further URLs of the same image, tried in order after `url` fails. */
  mirrors?: readonly string[];
  /** The original's width in pixels, if known: shapes a placeholder for a one-sided variant. */
  width?: number;
  /** The original's height in pixels, if known: shapes a placeholder for a one-sided variant. */
  height?: number;
  /** The image's dominant colour (`#rgb` or `#rrggbb`), if known: tints its placeholder. */
  color?: string;
  /**
   * The image's ThumbHash (base64, as `Thumbnail.thumbhash` and `rethumb rebuild --hashes` give
   * it), if known: its placeholder is then a blurred likeness of the image instead of a flat
   * tint. An invalid one is ignored, with a `RETHUMB_INVALID_THUMBHASH` failure beside the placeholder.
   */
  thumbhash?: string;
}

/** How a variant fits the source into its box; the `fit` modes of sharp. */
export type Fit = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';

/** A named size. At least one of `width` and `height` is required. */
export interface VariantSpec {
  /** Box width in pixels. */
  width?: number;
  /** Box height in pixels. */
  height?: number;
  /**
   * How the source fits the box.
   * @default 'inside' when only one side is given or when not set: never crops unless asked.
   */
  fit?: Fit;
}

/** Output formats rethumb writes. */
export type OutputFormat = 'webp' | 'jpeg' | 'png' | 'avif';

/** Source formats rethumb accepts (SVG only with `allowSvg`). */
export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif' | 'tiff' | 'svg';

/**
 * How a thumbnail was obtained.
 * - `memory`: the in-process cache.
 * - `stored`: already in the store (or a backup store that holds it as is).
 * - `regenerated`: fetched from the record's `url` and rendered.
 * - `mirror`: from a mirror URL or a backup store.
 * - `derived`: resized from a surviving larger variant; degraded, replaced by a later run.
 * - `placeholder`: a generated stand-in; never stored.
 */
export type Outcome = 'memory' | 'stored' | 'regenerated' | 'mirror' | 'derived' | 'placeholder';

/** Outcomes that are stand-ins for a real thumbnail. */
export const FALLBACK_OUTCOMES: ReadonlySet<Outcome> = new Set(['derived', 'placeholder']);

/** One source that failed, in the order tried. */
export interface SourceFailure {
  /**
   * The URL (or `backup:<index>`) that failed; `record` for a malformed record; `thumbhash` for a
   * record's ThumbHash that was ignored (`RETHUMB_INVALID_THUMBHASH`, listed after the sources).
   */
  source: string;
  code: ErrorCode;
  message: string;
  /** The HTTP status, for `RETHUMB_HTTP_STATUS`. */
  status?: number;
  /**
   * True when the source was not fetched because it failed recently: the negative cache
   * answered with the remembered failure (its `code` and `status` are the original's).
   */
  recentlyFailed?: boolean;
  /**
   * The option that would have accepted this source (`allowSvg` for an SVG), when rethumb's own
   * configuration refused it rather than the source failing. Such failures (and the address
   * policy's `RETHUMB_FORBIDDEN_ADDRESS`) are never remembered as the source's.
   */
  refusedBy?: string;
  /**
   * For `RETHUMB_FORBIDDEN_ADDRESS`: the `host[:port]` the address policy refused, which is not
   * `source`'s when a redirect led there. What `allowHosts` (`--allow-host`) would have to name.
   */
  refusedHost?: string;
  /** For `RETHUMB_TIMEOUT`: which deadline passed (`connect`, `headers`, `body` or `total`). */
  phase?: TimeoutPhase;
  /** For `RETHUMB_TIMEOUT`, that deadline's limit, in ms; for `RETHUMB_DEADLINE`, the `deadlineMs` that passed. */
  timeoutMs?: number;
}

/** What `get()` resolves with: always a decodable image of the variant's box. */
export interface Thumbnail {
  body: Buffer;
  /** e.g. `image/webp`. */
  contentType: string;
  width: number;
  height: number;
  outcome: Outcome;
  /**
   * Why this is not a fresh, real thumbnail: the code of the first source's failure, for
   * `mirror`, `derived` and `placeholder` (and for `stored`/`memory` entries that are degraded).
   */
  reason?: ErrorCode;
  /** True for stand-ins that a later rebuild should replace: `derived` and `placeholder`. */
  degraded: boolean;
  /** The record's store key. */
  key: string;
  /** The variant name. */
  variant: string;
  /** Every source failure, in order, when sources were tried and failed. */
  failures?: readonly SourceFailure[];
  /**
   * The source's ThumbHash, base64: computed from the decode that rendered a `regenerated` or
   * `mirror` thumbnail (and kept with it in the memory cache); for a `placeholder` drawn from the
   * record's hash, that hash. Store it beside the record so that placeholders look like the image.
   */
  thumbhash?: string;
}

/** File extension of each output format. */
export const FORMAT_EXTENSIONS: Readonly<Record<OutputFormat, string>> = Object.freeze({
  webp: 'webp',
  jpeg: 'jpg',
  png: 'png',
  avif: 'avif',
});

/** MIME type of each output format. */
export const FORMAT_CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = Object.freeze({
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  avif: 'image/avif',
});

/** The output format of a file extension, or `undefined`. */
export function formatOfExtension(ext: string): OutputFormat | undefined {
  for (const [format, e] of Object.entries(FORMAT_EXTENSIONS)) if (e === ext) return format as OutputFormat;
  return undefined;
}
