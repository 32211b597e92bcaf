/**
 * Draws docs/thumbhash.png, the README's picture of what a ThumbHash placeholder is: a
 * photo-like source (generated, so nothing with a licence is shipped), its real thumbnail, the
 * placeholder rethumb draws from the source's ThumbHash once the source is gone, and the flat
 * placeholder it draws without one. Every panel is rethumb's own output, through the public API:
 * the source is served by a loopback origin, regenerated, then asked for again with its URL dead.
 *
 *   npm run build && node scripts/thumbhash-figure.mjs [OUT.png]
 */
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { createRegenerator, MemoryStore } from 'rethumb';
import { startTestOrigin } from 'rethumb/testing';
import { makePhoto } from '../bench/corpus.js';

const out = process.argv[2] ?? new URL('../docs/thumbhash.png', import.meta.url).pathname;
const PANEL = { width: 240, height: 180 };
const GAP = 12;
const LABEL = 26;

const titles = ['the photo (1600×1200 source)', 'its thumbnail', 'ThumbHash placeholder', 'flat placeholder'];
const width = titles.length * PANEL.width + (titles.length + 1) * GAP;
const height = PANEL.height + LABEL + 2 * GAP;
const left = (/** @type {number} */ i) => GAP + i * (PANEL.width + GAP);
// Drawn before the regenerator exists: it blocks sharp's SVG loader process-wide (SVG is off by default).
const photo = await makePhoto(5, 1600, 1200);
const labels = await sharp(
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${titles
      .map((text, i) => `<text x="${left(i) + PANEL.width / 2}" y="${GAP + PANEL.height + 19}" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#333">${text}</text>`)
      .join('')}</svg>`,
  ),
)
  .png()
  .toBuffer();

const origin = await startTestOrigin({ routes: { '/photo.jpg': { kind: 'image', body: photo, contentType: 'image/jpeg' }, '/gone.jpg': { kind: 'status', status: 404 } } });
const regen = createRegenerator({
  store: new MemoryStore(),
  variants: { card: { ...PANEL, fit: 'cover' } },
  format: 'png',
  allowHosts: [origin.host],
});
try {
  const real = await regen.get({ key: 'photo', url: origin.urlFor('/photo.jpg') }, 'card');
  if (real.outcome !== 'regenerated' || real.thumbhash === undefined) throw new Error(`expected a regenerated thumbnail with a hash, got ${real.outcome}`);
  const hashed = await regen.get({ key: 'gone', url: origin.urlFor('/gone.jpg'), thumbhash: real.thumbhash }, 'card');
  const flat = await regen.get({ key: 'gone-too', url: origin.urlFor('/gone.jpg') }, 'card');
  if (hashed.outcome !== 'placeholder' || flat.outcome !== 'placeholder') throw new Error('expected two placeholders');
  const source = await sharp(photo).resize(PANEL).png().toBuffer();
  const figure = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([...[source, real.body, hashed.body, flat.body].map((input, i) => ({ input, left: left(i), top: GAP })), { input: labels, left: 0, top: 0 }])
    // 256 colours with dithering: a third of the truecolour bytes, no visible banding at this size.
    .png({ palette: true, colours: 256, dither: 1, effort: 10 })
    .toBuffer();
  await writeFile(out, figure);
  process.stdout.write(`${out}: ${width}×${height}, ${Math.round(figure.length / 1024)} KB; thumbhash ${real.thumbhash} (${Buffer.from(real.thumbhash, 'base64').length} bytes)\n`);
} finally {
  await regen.close();
  await origin.close();
}
