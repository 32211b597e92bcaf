/**
 * Decide from its bytes what a source is, whatever its Content-Type claimed: an accepted image
 * format, or a precise refusal (HTML error page, text, PDF, an image format we do not decode,
 * SVG without `allowSvg`). Two steps: `sniffHead` refuses early on a download's first bytes
 * what they already prove is no image, and `sniffImage` decides on the whole body, looking
 * past the first bytes only when the format needs it (a TIFF's directory follows its pixels).
 */
import { fileTypeFromBuffer, type FileTypeResult } from 'file-type';
import { NotAnImageError, UnsupportedFormatError } from '../errors.js';
import type { SourceFormat } from '../types.js';
import { classifyText, decodeText } from './classify-text.js';

export interface SniffOptions {
  /** Accept SVG (the regenerator's `allowSvg`). */
  allowSvg: boolean;
  /** The source's URL, for error messages. */
  url?: string;
  /** The Content-Type the origin sent: only quoted in messages, never trusted. */
  contentType?: string;
}

/** file-type extensions of the formats we decode. */
const ACCEPTED: Readonly<Record<string, SourceFormat>> = Object.freeze({
  jpg: 'jpeg',
  png: 'png',
  // An animated PNG decodes as a PNG (its default image is the first frame).
  apng: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'avif',
  // file-type names every HEIF brand `heic`; see `heifFormat` for AVIF behind a `mif1` brand.
  heic: 'heif',
  tif: 'tiff',
});

/** What file-type reads to detect nearly every format; most formats are told by far fewer. */
const HEAD_BYTES = 4100;

/**
 * The early verdict on `head`, the first bytes of a body still downloading (up to 4100 is what
 * fetching passes): the format when the head tells it, `undefined` when only more bytes can (a
 * TIFF, whose directory libtiff writes after the pixels; a text whose XML prolog outruns the
 * head). Throws what `sniffImage` throws when the head already proves it, so an HTML error page
 * is refused before the rest of it downloads.
 */
export function sniffHead(head: Uint8Array, options: SniffOptions): Promise<SourceFormat | undefined> {
  return sniff(head, options, false);
}

/**
 * The source format of a whole `body`. Throws `NotAnImageError` (`detected`: `empty`,
 * `text/html`, `text`, `unknown` or a MIME type such as `application/pdf`) or
 * `UnsupportedFormatError` (`format`: `svg` without `allowSvg`, or file-type's extension:
 * `bmp`, `psd`, `ico`, `jxl`, `dng` …).
 */
export async function sniffImage(body: Uint8Array, options: SniffOptions): Promise<SourceFormat> {
  // The head decides for almost every image; only what it leaves open costs a look at the whole.
  if (body.length > HEAD_BYTES) {
    const early = await sniff(body.subarray(0, HEAD_BYTES), options, false);
    if (early !== undefined) return early;
  }
  return (await sniff(body, options, true)) as SourceFormat;
}

/** The verdict on `bytes`; `undefined` only when they are not `complete` and cannot tell yet. */
async function sniff(bytes: Uint8Array, options: SniffOptions, complete: boolean): Promise<SourceFormat | undefined> {
  const { url, contentType } = options;
  if (bytes.length === 0) throw new NotAnImageError(url, 'empty', contentType);

  const detected = await detectBinary(bytes);
  if (detected !== undefined) {
    const format = ACCEPTED[detected.ext];
    if (format === 'heif') return heifFormat(bytes);
    if (format !== undefined) return format;
  }
  // file-type follows a TIFF's directory offset; past the bytes at hand it cannot say.
  if (!complete && detected === undefined && isTiffHeader(bytes)) return undefined;

  // Text next, before trusting a weak signature: "BM…" is a BMP to file-type, and plain ASCII
  // prose can start with it. A real BMP, ICO or PSD header has bytes no text file holds.
  const text = decodeText(bytes);
  if (text !== undefined) {
    const kind = classifyText(text);
    if (kind === 'unfinished-prolog' && !complete) return undefined;
    if (kind === 'svg') {
      if (options.allowSvg) return 'svg';
      throw new UnsupportedFormatError(url, 'svg', ' (enable it with `allowSvg: true`)', 'allowSvg');
    }
    if (kind === 'svg-internal-subset') {
      throw new UnsupportedFormatError(url, 'svg', ': a DOCTYPE with an internal subset (entity declarations) is refused even with `allowSvg`');
    }
    if (kind === 'html') throw new NotAnImageError(url, 'text/html', contentType);
    // XML, or a PDF written in plain ASCII: keep file-type's more precise name.
    if (detected !== undefined && !detected.mime.startsWith('image/')) throw new NotAnImageError(url, detected.mime, contentType);
    throw new NotAnImageError(url, 'text', contentType);
  }

  if (detected === undefined) throw new NotAnImageError(url, 'unknown', contentType);
  if (detected.mime.startsWith('image/')) throw new UnsupportedFormatError(url, detected.ext);
  throw new NotAnImageError(url, detected.mime, contentType);
}

/** The 8-byte TIFF header: byte order, 42 (or 43 for BigTIFF). */
function isTiffHeader(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const [a, b, c, d] = bytes;
  return (a === 0x49 && b === 0x49 && (c === 0x2a || c === 0x2b) && d === 0) || (a === 0x4d && b === 0x4d && c === 0 && (d === 0x2a || d === 0x2b));
}

async function detectBinary(head: Uint8Array): Promise<FileTypeResult | undefined> {
  try {
    return await fileTypeFromBuffer(head);
  } catch {
    // A detector tripped over a truncated or hostile container: treat it as unrecognised.
    return undefined;
  }
}

/**
 * An ISO-BMFF image whose major brand is `mif1`/`msf1` but that lists `avif` among its
 * compatible brands is an AVIF (libheif decodes both; the name only matters for reports).
 */
function heifFormat(head: Uint8Array): SourceFormat {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 16) return 'heif';
  const boxSize = Math.min(view.getUint32(0), head.length);
  // ftyp: size, 'ftyp', major brand, minor version, then compatible brands, 4 bytes each.
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) {
    if (String.fromCharCode(...head.subarray(offset, offset + 4)) === 'avif') return 'avif';
  }
  return 'heif';
}
