/**
 * Real images for tests, generated with sharp at run time (nothing large is committed).
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

export type FixtureFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff' | 'heif';

export interface MakeImageOptions {
  /** Fill colour; defaults to a colour per format so mix-ups show. */
  color?: string;
  /** Random noise instead of a flat fill: photo-like entropy for size and speed tests. */
  noise?: boolean;
  /** EXIF orientation tag to write (1–8). */
  orientation?: number;
}

const COLORS: Record<FixtureFormat, string> = {
  jpeg: '#cc3333',
  png: '#33cc33',
  webp: '#3333cc',
  gif: '#cccc33',
  avif: '#cc33cc',
  tiff: '#33cccc',
  heif: '#888888',
};

/** An encoded image of the given format and size. */
export async function makeImage(format: FixtureFormat, width: number, height: number, options: MakeImageOptions = {}): Promise<Buffer> {
  const base = options.noise
    ? sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    : sharp({ create: { width, height, channels: 3, background: options.color ?? COLORS[format] } });
  let img = base;
  if (options.orientation !== undefined) img = img.withMetadata({ orientation: options.orientation });
  switch (format) {
    case 'jpeg':
      return img.jpeg({ quality: 85 }).toBuffer();
    case 'png':
      return img.png().toBuffer();
    case 'webp':
      return img.webp().toBuffer();
    case 'gif':
      return img.gif().toBuffer();
    case 'avif':
      return img.avif({ effort: 0 }).toBuffer();
    case 'heif':
      return img.heif({ compression: 'av1', effort: 0 }).toBuffer();
    case 'tiff':
      return img.tiff().toBuffer();
  }
}

/** Width, height and format of encoded bytes, decoded for real (throws on junk). */
export async function decode(body: Buffer): Promise<{ width: number; height: number; format: string }> {
  const { info } = await sharp(body, { failOn: 'truncated' }).raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(body).metadata();
  return { width: info.width, height: info.height, format: meta.format ?? 'unknown' };
}

/** A real 1x1 PNG whose IHDR is rewritten to declare `width` x `height` (CRC fixed up). */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer());
  // Signature (8), IHDR length (4), 'IHDR' (4), then width and height; the CRC covers type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** The first `fraction` of `body`, as a download cut short would leave it. */
export function truncate(body: Buffer, fraction: number): Buffer {
  return body.subarray(0, Math.floor(body.length * fraction));
}
