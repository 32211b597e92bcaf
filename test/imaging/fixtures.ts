/**
 * Hand-made inputs for the imaging tests: bombs, truncations, animations, orientations.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

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
