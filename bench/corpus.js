/**
 * The benchmark corpus, generated at run time (nothing large is committed): photo-like images
 * (smooth gradients, shapes and fine grain, so they compress like photographs rather than like
 * noise or flat colour) in the formats and sizes origins really serve — baseline and progressive
 * JPEGs, large PNGs, WebP, landscape and portrait — because that is where decoding once pays
 * (no shrink-on-load for PNG) and where regressions hide.
 */
import sharp from 'sharp';

/**
 * The corpus's kinds, cycled over its sources: format, size, and the file extension it is served as.
 * @type {ReadonlyArray<{ format: 'jpeg' | 'jpeg-progressive' | 'png' | 'webp', width: number, height: number, ext: string, contentType: string }>}
 */
export const KINDS = [
  { format: 'jpeg', width: 1600, height: 1200, ext: 'jpg', contentType: 'image/jpeg' },
  { format: 'jpeg-progressive', width: 2048, height: 1536, ext: 'jpg', contentType: 'image/jpeg' },
  { format: 'png', width: 1600, height: 1200, ext: 'png', contentType: 'image/png' },
  { format: 'webp', width: 1600, height: 1200, ext: 'webp', contentType: 'image/webp' },
  { format: 'jpeg', width: 1200, height: 1600, ext: 'jpg', contentType: 'image/jpeg' },
  { format: 'jpeg-progressive', width: 1600, height: 1200, ext: 'jpg', contentType: 'image/jpeg' },
  { format: 'webp', width: 2048, height: 1536, ext: 'webp', contentType: 'image/webp' },
  { format: 'jpeg', width: 3000, height: 2000, ext: 'jpg', contentType: 'image/jpeg' },
];

/** The kind of source `i` of the corpus. @param {number} i */
export const kindOf = (i) => /** @type {(typeof KINDS)[number]} */ (KINDS[i % KINDS.length]);

/**
 * One photo-like image of `width` × `height` in `format`, varied by `seed`.
 * @param {number} seed
 * @param {number} width
 * @param {number} height
 * @param {(typeof KINDS)[number]['format']} [format]
 * @returns {Promise<Buffer>}
 */
export async function makePhoto(seed, width, height, format = 'jpeg') {
  const hue = (seed * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="hsl(${hue},60%,70%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},50%,35%)"/>
      </linearGradient>
      <radialGradient id="sun"><stop offset="0" stop-color="#fff8e0"/><stop offset="1" stop-color="#fff8e000"/></radialGradient>
    </defs>
    <rect width="100%" height="100%" fill="url(#sky)"/>
    <circle cx="${(seed * 131) % width}" cy="${height / 4}" r="${height / 5}" fill="url(#sun)"/>
    ${Array.from({ length: 14 }, (_, i) => {
      const x = ((seed + 1) * (i + 3) * 97) % width;
      const r = 40 + ((seed + i) * 53) % (height / 3);
      return `<ellipse cx="${x}" cy="${height - r / 2}" rx="${r * 1.6}" ry="${r}" fill="hsl(${(hue + i * 23) % 360},${30 + (i % 5) * 10}%,${25 + (i % 7) * 6}%)" opacity="0.85"/>`;
    }).join('')}
  </svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 10 } } })
    .raw()
    .toBuffer();
  const { data, info } = base;
  const out = Buffer.alloc(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p += 1, q += info.channels) {
    for (let c = 0; c < 3; c += 1) out[p * 3 + c] = Math.max(0, Math.min(255, (data[q + c] ?? 0) + ((grain[p * 3 + c] ?? 128) - 128)));
  }
  const image = sharp(out, { raw: { width, height, channels: 3 } });
  switch (format) {
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 85 }).toBuffer();
    case 'jpeg-progressive':
      return image.jpeg({ quality: 85, progressive: true, mozjpeg: false }).toBuffer();
    default:
      return image.jpeg({ quality: 85, mozjpeg: false }).toBuffer();
  }
}
