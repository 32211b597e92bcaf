/**
 * Photo-like test images, drawn pixel by pixel (no SVG: a regenerator blocks sharp's SVG loader
 * process-wide): a two-colour gradient sky, a sun, overlapping hills in other hues and fine
 * grain, so that they have the structure of photographs — large smooth areas, edges, noise —
 * rather than flat fills. Optionally with a soft alpha vignette. Deterministic per seed.
 */
import sharp from 'sharp';
import type { FixtureFormat } from './images.js';

export interface PhotoLikeOptions {
  /** Add an alpha channel: opaque in the middle, fading to transparent at the edges. */
  alpha?: boolean;
  /** EXIF orientation to store (the pixels are drawn unrotated). */
  orientation?: number;
}

/** One photo-like image of `width` × `height` in `format`. */
export async function photoLike(seed: number, width: number, height: number, format: FixtureFormat, options: PhotoLikeOptions = {}): Promise<Buffer> {
  const channels = options.alpha ? 4 : 3;
  const data = drawPhoto(seed, width, height, channels);
  let image = sharp(data, { raw: { width, height, channels } });
  if (options.orientation !== undefined) image = image.withMetadata({ orientation: options.orientation });
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: 88 }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality: 85 }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'avif':
      return image.avif({ quality: 60, effort: 0 }).toBuffer();
    case 'heif':
      return image.heif({ compression: 'av1', quality: 60, effort: 0 }).toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
  }
}

/** The raw pixels of `photoLike`. */
export function drawPhoto(seed: number, width: number, height: number, channels: 3 | 4): Buffer {
  const random = mulberry32(seed * 7919 + 17);
  const hue = (seed * 67) % 360;
  const top = hsl(hue, 0.55, 0.72);
  const bottom = hsl((hue + 50) % 360, 0.45, 0.38);
  const sun = { x: random() * width, y: height * (0.15 + random() * 0.2), r: Math.min(width, height) * (0.1 + random() * 0.1) };
  const hills = Array.from({ length: 6 }, (_, i) => ({
    x: random() * width,
    y: height * (0.75 + random() * 0.35),
    rx: width * (0.2 + random() * 0.3),
    ry: height * (0.2 + random() * 0.25),
    color: hsl((hue + 90 + i * 37 + random() * 40) % 360, 0.35 + random() * 0.4, 0.25 + random() * 0.35),
  }));
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y += 1) {
    const t = y / Math.max(1, height - 1);
    for (let x = 0; x < width; x += 1) {
      let c = [top[0] + (bottom[0] - top[0]) * t, top[1] + (bottom[1] - top[1]) * t, top[2] + (bottom[2] - top[2]) * t];
      const d = Math.hypot(x - sun.x, y - sun.y) / sun.r;
      if (d < 1.6) {
        const glow = Math.max(0, 1 - d / 1.6) ** 1.5;
        c = c.map((v, k) => v + ([255, 246, 220][k]! - v) * glow);
      }
      for (const hill of hills) {
        const e = ((x - hill.x) / hill.rx) ** 2 + ((y - hill.y) / hill.ry) ** 2;
        if (e < 1) c = c.map((v, k) => v * 0.15 + hill.color[k]! * 0.85);
      }
      const o = (y * width + x) * channels;
      for (let k = 0; k < 3; k += 1) out[o + k] = clamp(c[k]! + (random() - 0.5) * 24);
      if (channels === 4) {
        const edge = Math.min(x, y, width - 1 - x, height - 1 - y) / (Math.min(width, height) * 0.25);
        out[o + 3] = clamp(255 * Math.min(1, edge));
      }
    }
  }
  return out;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

function hsl(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

/** A small seeded PRNG, so every run draws the same images. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
