import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { restrictDecoders } from '../../src/imaging/decoder-policy.js';
import { readImageHeader, renderVariants } from '../../src/imaging/render-variants.js';
import { makeImage, type FixtureFormat } from '../helpers/images.js';

// The block list is process-wide and SVG stays allowed once allowed, so the tests in this file
// run in order: before the policy, under it without SVG, then with SVG. Vitest runs each test
// file in its own process (pool: 'forks'), so no other file sees these changes.

const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><script>alert(1)</script><rect width="20" height="10" fill="#00f"/></svg>',
);
const ACCEPTED: FixtureFormat[] = ['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'];

let dir: string;
let vipsFile: string;
let uhdr: Buffer;

/** Decodes every pixel for real; rejects when sharp cannot load the input. */
async function decodes(input: Buffer | string): Promise<{ width: number; height: number }> {
  const { info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-decoder-policy-'));
  // libvips' native `.v` format: loadable from a file by the VipsForeignLoadVips loader.
  vipsFile = join(dir, 'image.v');
  await sharp({ create: { width: 8, height: 6, channels: 3, background: '#123456' } }).toFile(vipsFile);
  // sharp 0.35.5 has `withGainMap()` at run time but not in its type declarations.
  const base = sharp({ create: { width: 32, height: 24, channels: 3, background: '#c33' } }) as Sharp & { withGainMap(): Sharp };
  uhdr = await base.withGainMap().jpeg().toBuffer();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('restrictDecoders', () => {
  it('starts from a sharp that loads SVG and .v files (so the refusals below mean something)', async () => {
    expect(await decodes(SVG)).toEqual({ width: 20, height: 10 });
    expect(await decodes(vipsFile)).toEqual({ width: 8, height: 6 });
    // Read through libultrahdr while it is still unblocked: the fixture really has a gain map.
    expect((await sharp(uhdr).metadata()).gainMap).toBeDefined();
  });

  it('blocks SVG and the vips format once applied without allowSvg', async () => {
    restrictDecoders({ allowSvg: false });
    await expect(decodes(SVG)).rejects.toThrow();
    await expect(decodes(vipsFile)).rejects.toThrow();
    await expect(readImageHeader(SVG, { maxPixels: 1e8 })).rejects.toMatchObject({ code: ErrorCodes.DECODE_FAILED });
  });

  it.each(ACCEPTED)('still loads %s', async (format) => {
    restrictDecoders({ allowSvg: false });
    const body = await makeImage(format, 30, 20);
    expect(await decodes(body)).toEqual({ width: 30, height: 20 });
    const header = await readImageHeader(body, { maxPixels: 1e8 });
    expect(header).toMatchObject({ width: 30, height: 20 });
  });

  it('loads an Ultra HDR JPEG through the plain JPEG loader (libultrahdr stays blocked)', async () => {
    restrictDecoders({ allowSvg: false });
    expect(await decodes(uhdr)).toEqual({ width: 32, height: 24 });
  });

  it('leaves raw pixel input and create alone: they use no loader', async () => {
    restrictDecoders({ allowSvg: false });
    const raw = await sharp({ create: { width: 4, height: 3, channels: 3, background: '#fff' } }).raw().toBuffer();
    expect(raw.length).toBe(4 * 3 * 3);
    expect(await decodes(await sharp(raw, { raw: { width: 4, height: 3, channels: 3 } }).png().toBuffer())).toEqual({ width: 4, height: 3 });
  });

  it('is idempotent', async () => {
    restrictDecoders({ allowSvg: false });
    restrictDecoders({ allowSvg: false });
    await expect(decodes(SVG)).rejects.toThrow();
    expect(await decodes(await makeImage('png', 5, 5))).toEqual({ width: 5, height: 5 });
  });

  it('re-applies the policy, undoing a stray unblock elsewhere in the process', async () => {
    sharp.unblock({ operation: ['VipsForeignLoadVips'] });
    expect(await decodes(vipsFile)).toEqual({ width: 8, height: 6 });
    restrictDecoders({ allowSvg: false });
    await expect(decodes(vipsFile)).rejects.toThrow();
  });

  it('unblocks SVG when asked, and keeps it for later callers that did not ask', async () => {
    restrictDecoders({ allowSvg: true });
    expect(await decodes(SVG)).toEqual({ width: 20, height: 10 });
    restrictDecoders({ allowSvg: false });
    expect(await decodes(SVG)).toEqual({ width: 20, height: 10 });
    await expect(decodes(vipsFile)).rejects.toThrow();
  });

  it('renders an SVG (scripts never run) once allowed', async () => {
    restrictDecoders({ allowSvg: true });
    const out = await renderVariants(SVG, [{ name: 'small', width: 40, height: undefined, fit: 'inside' }], { format: 'png', quality: 100, maxPixels: 1e8 });
    const small = out.get('small');
    // inside never enlarges: the SVG's own 20x10 at the default 72 dpi.
    expect(small).toMatchObject({ width: 20, height: 10, format: 'png' });
    const { dominant } = await sharp(small?.body).stats();
    expect(dominant.b).toBeGreaterThan(200);
  });
});
