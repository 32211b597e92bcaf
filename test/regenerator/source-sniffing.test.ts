/**
 * Sniffing on the fetch path: the early look at the first bytes refuses what is certainly not an
 * image before the rest downloads, and the final decision is made on as many bytes as the
 * format needs (a TIFF's directory usually follows its pixels).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { decode } from '../helpers/images.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' }, large: { width: 200 } } as const;
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const { origin, regenerator } = useHarness(VARIANTS);

describe('sniffing sources fetched by get()', () => {
  it('renders a TIFF whose directory follows its pixels, far past the first 4 100 bytes', async () => {
    const tiff = fixture('ifd-after-pixels.tif');
    // libtiff writes the IFD after the strips; its offset is in the header.
    expect(tiff.readUInt32LE(4)).toBeGreaterThan(100_000);
    const server = await origin({ '/scan.tif': { kind: 'image', body: tiff, contentType: 'image/tiff' } });
    const regen = regenerator(server);
    const record = { key: 'scans/1', url: server.urlFor('/scan.tif') };

    const large = await regen.get(record, 'large');
    expect({ outcome: large.outcome, reason: large.reason }).toEqual({ outcome: 'regenerated', reason: undefined });
    expect(await decode(large.body)).toEqual({ width: 200, height: 134, format: 'webp' });
    const small = await regen.get(record, 'small');
    expect(small.outcome).toBe('memory');
    expect(await decode(small.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(server.hits('/scan.tif')).toBe(1);
  });

  it('applies a TIFF Orientation tag (the same deferred sniff)', async () => {
    const server = await origin({ '/turned.tif': { kind: 'image', body: fixture('orient-6.tif'), contentType: 'image/tiff' } });
    const thumb = await regenerator(server).get({ url: server.urlFor('/turned.tif') }, 'large');
    expect(thumb.outcome).toBe('regenerated');
    // 240x160 upright; stored 160x240 with orientation 6.
    expect(await decode(thumb.body)).toEqual({ width: 200, height: 133, format: 'webp' });
  });

  it('still refuses bytes that merely start like a TIFF, once the whole body is in', async () => {
    const fake = Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x00, 0x00, 0x01, 0x00]), Buffer.alloc(20_000, 0x41)]);
    const server = await origin({ '/fake.tif': { kind: 'image', body: fake, contentType: 'image/tiff' } });
    const thumb = await regenerator(server).get({ url: server.urlFor('/fake.tif') }, 'small');
    expect({ outcome: thumb.outcome, reason: thumb.reason }).toEqual({ outcome: 'placeholder', reason: ErrorCodes.NOT_AN_IMAGE });
    expect(await decode(thumb.body)).toMatchObject({ width: 64, height: 64 });
  });

  it('refuses an HTML page labelled as an image on its first bytes, without waiting for the rest', async () => {
    // ~400 KB dripped over ~20 s: a download to the end would end as a timeout, not a refusal.
    const page = Buffer.from(`<!doctype html><html><head><title>Not found</title></head><body>${'<p>gone</p>'.repeat(40_000)}</body></html>`);
    const server = await origin({ '/photo.jpg': { kind: 'trickle', body: page, intervalMs: 50, chunkBytes: 1024, contentType: 'image/jpeg' } });
    const regen = regenerator(server, { timeoutMs: 10_000 });
    const thumb = await regen.get({ url: server.urlFor('/photo.jpg') }, 'small');
    expect({ outcome: thumb.outcome, reason: thumb.reason }).toEqual({ outcome: 'placeholder', reason: ErrorCodes.NOT_AN_IMAGE });
    expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE });
  });
});
