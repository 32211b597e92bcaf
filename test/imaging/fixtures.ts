/**
 * Hand-made inputs for the imaging tests: bombs, truncations, animations, orientations.
 */
import sharp from 'sharp';

/** An animated GIF with one flat frame per colour. */
export async function animatedGif(width: number, height: number, colors: string[]): Promise<Buffer> {
  const frames = await Promise.all(colors.map((background) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif().toBuffer();
}

/** A jpeg whose left half is `left` and right half is `right`, stored with EXIF `orientation`. */
export async function halvesJpeg(width: number, height: number, left: string, right: string, orientation: number): Promise<Buffer> {
  const half = await sharp({ create: { width: width / 2, height, channels: 3, background: right } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: left } })
    .composite([{ input: half, left: width / 2, top: 0 }])
    .withMetadata({ orientation })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** The RGBA value of one decoded pixel. */
export async function pixelAt(body: Buffer, x: number, y: number): Promise<{ r: number; g: number; b: number; a: number }> {
  const { data, info } = await sharp(body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return { r: data[i] ?? -1, g: data[i + 1] ?? -1, b: data[i + 2] ?? -1, a: data[i + 3] ?? -1 };
}

/** True when every channel is within `tolerance` of the expected colour. */
export function near(actual: { r: number; g: number; b: number }, expected: { r: number; g: number; b: number }, tolerance = 12): boolean {
  return Math.abs(actual.r - expected.r) <= tolerance && Math.abs(actual.g - expected.g) <= tolerance && Math.abs(actual.b - expected.b) <= tolerance;
}

/** A HEIF with its image item's type `av01` rewritten to `type` (e.g. `hvc1`), the rest left as is. */
export function withItemType(heif: Buffer, type: string): Buffer {
  const copy = Buffer.from(heif);
  const at = copy.indexOf('av01', copy.indexOf('iinf'));
  if (at < 0) throw new Error('no av01 item');
  copy.write(type, at, 'latin1');
  return copy;
}
