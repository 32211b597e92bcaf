/**
 * Photo fidelity over the committed real-encoder fixtures (test/fixtures/images/), end to end:
 * each fixture is served by a loopback origin, then fetched, sniffed, decoded and rendered by
 * `get()` in every output format, and compared with an independent reference
 * (test/helpers/reference-render.ts): exact variant sizes, orientation (markers read by hue),
 * colour (mean CIEDE2000), alpha, and — through the colour — the first frame of animations.
 *
 * The reference is encoded in the same format at the same quality and both are decoded before
 * comparing, so the figure measures rethumb's pipeline (colour management, orientation, alpha,
 * resampling), not what a lossy encoder costs any pipeline. Both are compared after a 5×5 mean
 * (as S-CIELAB-style metrics low-pass images before ΔE): a sub-pixel offset from rounding a crop,
 * or a resampler's treatment of sensor noise, is not a colour error.
 *
 * FIDELITY_REPORT=1 prints a summary per format; FIDELITY_REPORT=all every thumbnail too.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AVIF_EFFORT } from '../../src/imaging/encode-image.js';
import { createRegenerator, MemoryStore } from '../../src/index.js';
import { DEFAULT_QUALITY } from '../../src/options.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import type { OutputFormat } from '../../src/types.js';
import { deltaE2000, type Lab } from '../helpers/ciede2000.js';
import { referenceRender, srgbColourSpace, type Box, type ReferenceImage } from '../helpers/reference-render.js';

interface Fixture {
  file: string;
  description: string;
  width: number;
  height: number;
  orientation: number;
  markers: boolean;
  alpha: boolean;
  pages: number;
}
interface Manifest {
  markers: { colour: 'red' | 'green' | 'blue'; rgb: number[]; box: [number, number, number, number] }[];
  fixtures: Fixture[];
}

const DIR = new URL('../fixtures/images/', import.meta.url);
const MANIFEST = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as Manifest;
const FORMATS: OutputFormat[] = ['webp', 'jpeg', 'png', 'avif'];
const VARIANTS: Record<string, Box> = {
  small: { width: 150, height: 150, fit: 'cover' },
  card: { width: 200, height: 200, fit: 'contain' },
  large: { width: 320, height: 320, fit: 'inside' },
};
/** The bound on the mean CIEDE2000 difference from the reference, per thumbnail. */
const MAX_MEAN_DELTA_E = 1.5;
/** Mean |Δalpha| (0–1) allowed per thumbnail: lossy alpha in AVIF, edge pixels of a letterbox. */
const MAX_MEAN_ALPHA_ERROR = 0.02;
/** 5×5 neighbourhoods. */
const BLUR_RADIUS = 2;
const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  heif: 'image/heif',
  tif: 'image/tiff',
  gif: 'image/gif',
};

interface Comparison {
  /** Mean ΔE00 of 5×5 alpha-weighted means, over the pixels at least half opaque in the reference. */
  meanDeltaE: number;
  /** The same, pixel by pixel (computed and printed with FIDELITY_REPORT only). */
  pixelDeltaE: number;
  /** Mean |Δalpha| between the two decoded thumbnails (both opaque for jpeg). */
  meanAlphaError: number;
}

let colour: Awaited<ReturnType<typeof srgbColourSpace>>;
let origin: TestOrigin;
const references = new Map<string, Promise<ReferenceImage>>();
/** Each thumbnail's comparison, by format and `file/variant`. */
const figures = new Map<OutputFormat, Map<string, Comparison>>();

beforeAll(async () => {
  colour = await srgbColourSpace();
  const routes = Object.fromEntries(
    MANIFEST.fixtures.map((f) => [`/${f.file}`, { kind: 'image' as const, body: readFileSync(new URL(f.file, DIR)), contentType: CONTENT_TYPES[f.file.split('.').pop()!]! }]),
  );
  origin = await startTestOrigin({ routes });
});

afterAll(async () => {
  await origin?.close();
  if (process.env.FIDELITY_REPORT) report();
});

describe.each(FORMATS)('fidelity: %s output', (format) => {
  let regen: Regenerator;
  beforeAll(() => {
    regen = createRegenerator({ store: new MemoryStore(), variants: VARIANTS, format, allowHosts: [origin.host] });
  });
  afterAll(() => regen?.close());

  it.each(MANIFEST.fixtures.map((f) => [f.file, f] as const))('%s', async (_file, fixture) => {
    const record = { key: fixture.file, url: origin.urlFor(`/${fixture.file}`) };
    for (const [name, box] of Object.entries(VARIANTS)) {
      const thumb = await regen.get(record, name);
      // One fetch and one decode render every variant; the later ones come from memory.
      expect({ variant: name, outcome: thumb.outcome, reason: thumb.reason }).toEqual({ variant: name, outcome: name === 'small' ? 'regenerated' : 'memory', reason: undefined });
      const size = expectedSize(fixture, box);
      expect({ width: thumb.width, height: thumb.height }).toEqual(size);
      const { data, info } = await sharp(thumb.body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const meta = await sharp(thumb.body).metadata();
      expect({ format: meta.format, pages: meta.pages ?? 1, width: info.width, height: info.height }).toEqual({ format: format === 'avif' ? 'heif' : format, pages: 1, ...size });

      const ref = await reference(fixture, name);
      const result = compare(data, ref, await encodeLike(ref, format));
      let rows = figures.get(format);
      if (!rows) figures.set(format, (rows = new Map()));
      rows.set(`${fixture.file}/${name}`, result);
      expect(result.meanDeltaE, `${fixture.file} ${name}: mean ΔE00`).toBeLessThan(MAX_MEAN_DELTA_E);
      expect(result.meanAlphaError, `${fixture.file} ${name}: mean |Δalpha|`).toBeLessThan(MAX_MEAN_ALPHA_ERROR);
      if (name === 'large' && fixture.markers) expectUpright(data, info.width, info.height, fixture);
    }
  });
});

/** The size each variant must have, by the README's rules, worked out here independently. */
function expectedSize(fixture: Fixture, box: Box): { width: number; height: number } {
  if (box.fit !== 'inside') return { width: box.width, height: box.height };
  const scale = Math.min(box.width / fixture.width, box.height / fixture.height);
  if (scale >= 1) return { width: fixture.width, height: fixture.height };
  return scale === box.width / fixture.width
    ? { width: box.width, height: Math.max(1, Math.round(fixture.height * scale)) }
    : { width: Math.max(1, Math.round(fixture.width * scale)), height: box.height };
}

function reference(fixture: Fixture, variant: string): Promise<ReferenceImage> {
  const id = `${fixture.file}/${variant}`;
  let pending = references.get(id);
  if (!pending) {
    pending = referenceRender(readFileSync(new URL(fixture.file, DIR)), VARIANTS[variant]!, colour);
    references.set(id, pending);
  }
  return pending;
}

/**
 * The reference as a thumbnail in `format`: 8-bit, flattened on white for jpeg, alpha dropped
 * when opaque, encoded at rethumb's default quality, decoded to RGBA.
 */
async function encodeLike(ref: ReferenceImage, format: OutputFormat): Promise<Float32Array> {
  const { width, height } = ref;
  const pixels = width * height;
  const flatten = format === 'jpeg';
  const channels = flatten || ref.alpha.every((a) => a === 1) ? 3 : 4;
  const raw = Buffer.alloc(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const a = ref.alpha[p]!;
    for (let k = 0; k < 3; k++) {
      const c = ref.rgb[p * 3 + k]!;
      raw[p * channels + k] = Math.round(255 * (flatten ? c * a + 1 - a : c));
    }
    if (channels === 4) raw[p * 4 + 3] = Math.round(255 * a);
  }
  const image = sharp(raw, { raw: { width, height, channels } });
  const quality = DEFAULT_QUALITY[format];
  if (format === 'webp') image.webp({ quality });
  else if (format === 'jpeg') image.jpeg({ quality });
  else if (format === 'avif') image.avif({ quality, effort: AVIF_EFFORT });
  else image.png();
  const { data } = await sharp(await image.toBuffer()).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  return out;
}

/** Compare decoded 8-bit RGBA output with the decoded reference thumbnail (`expected`, RGBA 0–1). */
function compare(rgba: Buffer, ref: ReferenceImage, expected: Float32Array): Comparison {
  const { width, height } = ref;
  const pixels = width * height;
  const actual = new Float32Array(rgba.length);
  for (let i = 0; i < rgba.length; i++) actual[i] = rgba[i]! / 255;
  let alphaError = 0;
  for (let p = 0; p < pixels; p++) alphaError += Math.abs(actual[p * 4 + 3]! - expected[p * 4 + 3]!);
  const blurredExpected = boxBlur(expected, width, height);
  const blurredActual = boxBlur(actual, width, height);
  // The per-pixel figure only when reporting: it doubles the cost of the test.
  const perPixel = process.env.FIDELITY_REPORT !== undefined;
  let sum = 0;
  let pixelSum = 0;
  let counted = 0;
  // Every other pixel each way: after a 5×5 mean, neighbours say nearly the same (a quarter of the cost).
  const stride = width > 1 && height > 1 ? 2 : 1;
  for (let y = 0; y < height; y += stride) {
    for (let x = 0; x < width; x += stride) {
      const p = y * width + x;
      if (expected[p * 4 + 3]! < 0.5) continue;
      sum += deltaE2000(lab(blurredExpected, p), lab(blurredActual, p));
      if (perPixel) pixelSum += deltaE2000(lab(expected, p), lab(actual, p));
      counted += 1;
    }
  }
  return { meanDeltaE: counted === 0 ? 0 : sum / counted, pixelDeltaE: counted === 0 ? 0 : pixelSum / counted, meanAlphaError: alphaError / pixels };
}

function lab(rgba: Float32Array, p: number): Lab {
  return colour.space.srgbToLab(rgba[p * 4]!, rgba[p * 4 + 1]!, rgba[p * 4 + 2]!);
}

/** Alpha-weighted mean over a (2r+1)² neighbourhood (clipped at the edges), separable; alpha kept. */
function boxBlur(rgba: Float32Array, width: number, height: number, r = BLUR_RADIUS): Float32Array {
  // Premultiply, sum along rows then columns, divide by the summed alpha.
  const premultiplied = new Float32Array(rgba.length);
  for (let p = 0; p < rgba.length; p += 4) {
    const a = rgba[p + 3]!;
    premultiplied[p] = rgba[p]! * a;
    premultiplied[p + 1] = rgba[p + 1]! * a;
    premultiplied[p + 2] = rgba[p + 2]! * a;
    premultiplied[p + 3] = a;
  }
  const pass = (input: Float32Array, dx: number, dy: number): Float32Array => {
    const out = new Float32Array(input.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let d = -r; d <= r; d++) {
          const xx = x + d * dx;
          const yy = y + d * dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const q = (yy * width + xx) * 4;
          s0 += input[q]!;
          s1 += input[q + 1]!;
          s2 += input[q + 2]!;
          s3 += input[q + 3]!;
        }
        const o = (y * width + x) * 4;
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
        out[o + 3] = s3;
      }
    }
    return out;
  };
  const summed = pass(pass(premultiplied, 1, 0), 0, 1);
  const out = new Float32Array(rgba.length);
  for (let p = 0; p < rgba.length; p += 4) {
    const weight = summed[p + 3]!;
    for (let k = 0; k < 3; k++) out[p + k] = weight > 0 ? summed[p + k]! / weight : rgba[p + k]!;
    out[p + 3] = rgba[p + 3]!;
  }
  return out;
}

/**
 * The orientation markers sit where the upright scene has them: red top-left, green top-right,
 * blue bottom-left, told apart by their dominant channel.
 */
function expectUpright(rgba: Buffer, width: number, height: number, fixture: Fixture): void {
  for (const marker of MANIFEST.markers) {
    const [u0, v0, u1, v1] = marker.box;
    const i = (Math.floor(((v0 + v1) / 2) * height) * width + Math.floor(((u0 + u1) / 2) * width)) * 4;
    const rgb = [rgba[i] ?? 0, rgba[i + 1] ?? 0, rgba[i + 2] ?? 0];
    const channel = { red: 0, green: 1, blue: 2 }[marker.colour];
    const others = [0, 1, 2].filter((k) => k !== channel).map((k) => rgb[k]!);
    expect(rgb[channel]! - Math.max(...others), `${fixture.file}: ${marker.colour} marker in its place, got ${rgb.join(',')}`).toBeGreaterThan(40);
  }
}

function report(): void {
  const mean = (values: number[]): string => (values.reduce((a, b) => a + b, 0) / values.length).toFixed(2);
  for (const [format, rows] of figures) {
    const all = [...rows];
    if (process.env.FIDELITY_REPORT === 'all') {
      for (const [id, v] of all) console.log(`${format} ${id} ΔE00 ${v.meanDeltaE.toFixed(3)} (per pixel ${v.pixelDeltaE.toFixed(3)}) alpha ${v.meanAlphaError.toFixed(4)}`);
    }
    const worst = all.sort((a, b) => b[1].meanDeltaE - a[1].meanDeltaE)[0];
    console.log(
      `${format}: ${all.length} thumbnails, mean ΔE00 ${mean(all.map(([, v]) => v.meanDeltaE))} (per pixel ${mean(all.map(([, v]) => v.pixelDeltaE))}),` +
        ` worst ${worst?.[0]} ${worst?.[1].meanDeltaE.toFixed(2)}, max mean |Δalpha| ${Math.max(...all.map(([, v]) => v.meanAlphaError)).toFixed(4)}`,
    );
  }
}
