/**
 * Real images for tests, generated with sharp at run time (nothing large is committed).
 */
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
