/**
 * The benchmark corpus, generated at run time (nothing large is committed): photo-like JPEGs
 * (smooth gradients, shapes and fine grain, so they compress like photographs rather than like
 * noise or flat colour), and the thumbnails a store of "present" records holds.
 */
import sharp from 'sharp';

/**
 * One photo-like JPEG of `width` × `height`, varied by `seed`.
 * @param {number} seed
 * @param {number} width
 * @param {number} height
 * @returns {Promise<Buffer>}
 */
export async function makePhoto(seed, width, height) {
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
  return sharp(out, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85, mozjpeg: false }).toBuffer();
}
