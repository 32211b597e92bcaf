/**
 * Decide from the first bytes what a source is, whatever its Content-Type claimed: an accepted
 * image format, or a precise refusal (HTML error page, text, PDF, an image format we do not
 * decode, SVG without `allowSvg`).
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

/**
 * The source format of `head` (the body's first bytes; fetching passes up to 4100, which is
 * what file-type reads). Throws `NotAnImageError` (`detected`: `empty`, `text/html`, `text`,
 * `unknown` or a MIME type such as `application/pdf`) or `UnsupportedFormatError` (`format`:
 * `svg` without `allowSvg`, or file-type's extension: `bmp`, `psd`, `ico`, `jxl` …).
 */
export async function sniffImage(head: Uint8Array, options: SniffOptions): Promise<SourceFormat> {
  const { url, contentType } = options;
  if (head.length === 0) throw new NotAnImageError(url, 'empty', contentType);

  const detected = await detectBinary(head);
  if (detected !== undefined) {
    const format = ACCEPTED[detected.ext];
    if (format === 'heif') return heifFormat(head);
    if (format !== undefined) return format;
  }

  // Text next, before trusting a weak signature: "BM…" is a BMP to file-type, and plain ASCII
  // prose can start with it. A real BMP, ICO or PSD header has bytes no text file holds.
  const text = decodeText(head);
  if (text !== undefined) {
    const kind = classifyText(text);
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
