/**
 * `scanManifest({ verify })`: no false alarms on a real store of 1 000 entries written by
 * rethumb (every output format, sources of every input format), decode included; entries written
 * before seals count as whole; the list line marks damaged records so a rebuild verifies them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/batch/read-manifest.js';
import { marksDamaged, scanListLine } from '../../src/batch/scan-list.js';
import { scanManifest, type ScanRecordResult } from '../../src/batch/scan.js';
import { createRegenerator, FileStore, MemoryStore } from '../../src/index.js';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';
import type { OutputFormat } from '../../src/types.js';
import { makeImage, truncate } from '../helpers/images.js';
import { tempRoot } from '../regenerator/support.js';

const FORMATS: readonly OutputFormat[] = ['webp', 'jpeg', 'png', 'avif'];
const VARIANTS = { small: { width: 48, height: 48, fit: 'cover' }, large: { width: 120 } } as const;
const RECORDS_PER_FORMAT = 125;

let origin: TestOrigin;
let root: string;
let cleanup: () => Promise<void>;
let manifest: string;
const store = () => new FileStore(root, { fsync: false });

/** Photo-like sources in every input format, sizes and shapes, some with alpha. */
async function sources(): Promise<Array<{ body: Buffer; type: string }>> {
  const photo = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } });
  const alpha = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 4, background: { r: 200, g: 40, b: 90, alpha: 0.5 } } });
  return Promise.all([
    photo(320, 240).jpeg({ quality: 85 }).toBuffer().then((body) => ({ body, type: 'image/jpeg' })),
    photo(200, 300).jpeg({ progressive: true }).toBuffer().then((body) => ({ body, type: 'image/jpeg' })),
    photo(260, 180).png().toBuffer().then((body) => ({ body, type: 'image/png' })),
    alpha(150, 150).png().toBuffer().then((body) => ({ body, type: 'image/png' })),
    photo(300, 200).webp().toBuffer().then((body) => ({ body, type: 'image/webp' })),
    alpha(180, 120).webp({ lossless: true }).toBuffer().then((body) => ({ body, type: 'image/webp' })),
    photo(160, 160).gif().toBuffer().then((body) => ({ body, type: 'image/gif' })),
    photo(240, 160).avif({ effort: 0 }).toBuffer().then((body) => ({ body, type: 'image/avif' })),
    makeImage('jpeg', 90, 400, { noise: true }).then((body) => ({ body, type: 'image/jpeg' })),
  ]);
}

beforeAll(async () => {
  ({ root, cleanup } = await tempRoot('scan-verify'));
  const images = await sources();
  const routes: Record<string, OriginRoute> = {};
  images.forEach((image, i) => (routes[`/${i}`] = { kind: 'image', body: image.body, contentType: image.type }));
  origin = await startTestOrigin({ routes });
  const records = Array.from({ length: RECORDS_PER_FORMAT }, (_, i) => ({ key: `s/${i}`, url: origin.urlFor(`/${i % images.length}`) }));
  manifest = join(root, 'manifest.jsonl');
  await writeFile(manifest, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  // 125 records × 2 variants × 4 formats = 1 000 real entries in one store.
  for (const format of FORMATS) {
    const regen = createRegenerator({ store: store(), variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
    try {
      const report = await regen.rebuild(records);
      expect(report.counts.regenerated, format).toBe(RECORDS_PER_FORMAT);
    } finally {
      await regen.close();
    }
  }
}, 120_000);

afterAll(async () => {
  await origin?.close();
  await cleanup?.();
});

describe('scanManifest({ verify })', () => {
  it('reports zero damaged on an intact store of 1 000 real entries, with and without a full decode', async () => {
    let entries = 0;
    for (const format of FORMATS) {
      for (const decode of [false, true]) {
        const report = await scanManifest({ manifest, store: store(), variants: ['small', 'large'], format, verify: true, decode });
        expect(report, `${format}${decode ? ' decoded' : ''}`).toMatchObject({
          total: RECORDS_PER_FORMAT,
          counts: { present: RECORDS_PER_FORMAT, missing: 0, degraded: 0, damaged: 0, invalid: 0 },
          variantsDamaged: 0,
          variantsUnsealed: 0,
          verified: true,
          decoded: decode,
        });
      }
      entries += RECORDS_PER_FORMAT * 2;
    }
    expect(entries).toBeGreaterThanOrEqual(1000);
  });

  it('counts entries written before seals as whole (unsealed), and a damaged record first', async () => {
    const mem = new MemoryStore();
    const legacy = await makeImage('webp', 48, 48, { noise: true });
    await mem.put({ key: 'old', variant: 'small', format: 'webp' }, { body: legacy, degraded: false });
    await mem.put({ key: 'old', variant: 'large', format: 'webp' }, { body: legacy, degraded: false });
    // A record with one damaged and one missing variant is `damaged` (the list marks it for a rebuild).
    await mem.put({ key: 'hurt', variant: 'small', format: 'webp' }, { body: truncate(legacy, 0.5), degraded: false });
    const seen: ScanRecordResult[] = [];
    const lines = ['old', 'hurt'].map((key) => `${JSON.stringify({ key, url: 'http://203.0.113.1/never.jpg' })}\n`);
    const report = await scanManifest({ manifest: Readable.from(lines), store: mem, variants: ['small', 'large'], verify: true, onRecord: (r) => void seen.push(r) });
    expect(report).toMatchObject({ counts: { present: 1, damaged: 1 }, variantsUnsealed: 2, variantsDamaged: 1, variantsMissing: 1 });
    expect(seen[1]).toMatchObject({ status: 'damaged', missing: ['large'], damaged: [{ variant: 'small', damage: 'truncated' }] });

    // The list line marks it, and a manifest reader hands that mark to the rebuild.
    const line = scanListLine(seen[1]!);
    expect(JSON.parse(line)).toMatchObject({ key: 'hurt', scan: { status: 'damaged', damaged: ['small'], damage: { small: 'truncated' } } });
    expect(marksDamaged(JSON.parse(line))).toBe(true);
    expect(marksDamaged(JSON.parse(scanListLine({ ...seen[1]!, status: 'missing', damaged: [] })))).toBe(false);
    const entries = [];
    for await (const entry of readManifest(Readable.from([`${line}\n${JSON.stringify({ key: 'x', url: 'http://203.0.113.1/x.jpg' })}\n`]))) entries.push(entry);
    expect(entries.map((e) => [e.record.key, e.verify === true])).toEqual([
      ['hurt', true],
      ['x', false],
    ]);
    // Without verify, a scan only asks whether files exist: the damaged one looks present.
    const quick = await scanManifest({ manifest: Readable.from(lines), store: mem, variants: ['small', 'large'] });
    expect(quick.counts).toMatchObject({ present: 1, missing: 1, damaged: 0 });
  });
});
