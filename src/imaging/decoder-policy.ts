/**
 * The process-wide list of libvips loaders sharp may use: everything is blocked, then only the
 * decoders for accepted source formats are unblocked. Sniffing already refuses other formats,
 * so this is the second wall: a crafted file that slips past the sniffer still cannot reach a
 * loader nobody meant to expose (the Next.js image optimizer does the same against decoder CVEs).
 */
import sharp from 'sharp';

/**
 * Loader classes that stay usable. A parent class covers its File/Buffer/Source subclasses
 * (`VipsForeignLoadJpeg` covers `VipsForeignLoadJpegBuffer` …); names checked against the
 * libvips 8.18 that sharp 0.35 ships.
 *
 * Left blocked on purpose:
 * - `VipsForeignLoadUhdr` (libultrahdr): an Ultra HDR JPEG then loads through the plain JPEG
 *   loader as its SDR base image, which is all a thumbnail needs, with one parser fewer.
 * - `VipsForeignLoadVips`, `…Matrix`, `…Csv`, `…Raw`, `…Pdf`, `…Jp2k`, `…Openslide`: no accepted
 *   format needs them. Raw pixel input and `create` do not go through a loader at all.
 */
const RASTER_LOADERS: readonly string[] = Object.freeze([
  'VipsForeignLoadJpeg',
  'VipsForeignLoadPng',
  'VipsForeignLoadWebp',
  // libvips decodes GIF with libnsgif; there is no `VipsForeignLoadGif` class in 8.18.
  'VipsForeignLoadNsgif',
  // AVIF and HEIC/HEIF share libheif.
  'VipsForeignLoadHeif',
  'VipsForeignLoadTiff',
]);

const SVG_LOADER = 'VipsForeignLoadSvg';

/** Sticky: once any caller allowed SVG, it stays allowed for the life of the process. */
let svgAllowed = false;

/**
 * Process-wide: block every libvips loader, then unblock only the accepted ones (JPEG, PNG,
 * WebP, GIF, HEIF/AVIF, TIFF; SVG only if any caller so far asked for it). Idempotent; cheap
 * to call per regenerator.
 *
 * SVG stays unblocked once any caller allowed it, because the block list is global and another
 * regenerator in the same process may still need it; a regenerator without `allowSvg` refuses
 * SVG anyway when sniffing (`sniffImage`), before sharp sees the bytes.
 */
export function restrictDecoders(options: { allowSvg: boolean }): void {
  if (options.allowSvg) svgAllowed = true;
  // Applied again on every call (a few flag writes in libvips) rather than cached, so that a
  // stray `sharp.unblock()` elsewhere in the process is undone by the next regenerator.
  // Blocking the parent first re-blocks every subclass; the unblocks then punch the holes.
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: svgAllowed ? [...RASTER_LOADERS, SVG_LOADER] : [...RASTER_LOADERS] });
}
