/**
 * Is a stored thumbnail whole, and how big is it? The one check shared by every reader of
 * stored entries: the regenerator's reads (`get()`, backups, derive sources, `rebuild --verify`)
 * and `scan --verify`, so a scan lists exactly what a `get()` would refuse.
 *
 * `verifyImage()` first (structure, then the sealed checksum). A sealed entry is then known to
 * be exactly what the encoder wrote, and its size is in the seal: no decoder is needed. An entry
 * without a seal (written before seals existed) also has its header read by sharp, as before.
 * With `decode`, every entry is decoded in full as well (what `scan --decode` asks for).
 */
import sharp from 'sharp';
import { ErrorCodes, isRethumbError } from '../errors.js';
import type { Damage } from '../integrity/image-damage.js';
import { verifyImage } from '../integrity/verify-image.js';
import type { OutputFormat } from '../types.js';
import { readImageHeader } from './image-header.js';

export interface InspectStoredOptions {
  /** Largest accepted width × height (a header over it is an error, not damage). */
  maxPixels: number;
  /** Decode every pixel too, not only the structure and checksum. @default false */
  decode?: boolean;
}

/** A whole entry's size, whether it carries a seal, or the damage found. */
export type StoredImageCheck = { ok: true; width: number; height: number; sealed: boolean } | { ok: false; damage: Damage; cause?: unknown };

/**
 * Checks a stored body of `format`. Resolves with the damage for anything damaged; rejects only
 * for what is not damage (a header over `maxPixels`).
 */
export async function inspectStoredImage(body: Buffer, format: OutputFormat, options: InspectStoredOptions): Promise<StoredImageCheck> {
  const verdict = verifyImage(body, format);
  if (!verdict.ok) return verdict;
  let size = verdict.sealed ? verdict.size : undefined;
  try {
    if (!size) {
      const header = await readImageHeader(body, { maxPixels: options.maxPixels });
      size = { width: header.width, height: header.height };
    }
    if (options.decode) {
      // `failOn: 'warning'` refuses what a lenient decoder would paint grey (a cut-short scan).
      const { info } = await sharp(body, { failOn: 'warning', limitInputPixels: options.maxPixels, autoOrient: true }).raw().toBuffer({ resolveWithObject: true });
      if (info.width !== size.width || info.height !== size.height) {
        return { ok: false, damage: { kind: 'undecodable', detail: `decodes to ${info.width}x${info.height}, not the ${size.width}x${size.height} it declares` } };
      }
    }
  } catch (error) {
    // A header or pixels sharp cannot read are damage; a limit (maxPixels lowered since) is not.
    if (isRethumbError(error) && error.code !== ErrorCodes.DECODE_FAILED && error.code !== ErrorCodes.UNSUPPORTED_FORMAT) throw error;
    return { ok: false, damage: { kind: 'undecodable', detail: error instanceof Error ? error.message : String(error) }, cause: error };
  }
  return { ok: true, ...size, sealed: verdict.sealed };
}
