/**
 * A FileStore of `count` present records for the scan and `--only-missing` figures, built fast
 * and small: every record gets its own key directory (as a real store has), and its two
 * thumbnails are hard links to a pool of real webp files (ext4 allows 65,000 links per file),
 * so a million records take a million directories but no file data of their own.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import sharp from 'sharp';

const POOL = 40;

/**
 * @param {string} root the store directory
 * @param {string} manifest the JSON Lines manifest to write (one line per record)
 * @param {number} count records
 * @param {string} url the URL every record names (never fetched: they are all present)
 * @param {Buffer[]} sources photos to make the pooled thumbnails from
 */
export async function buildBigStore(root, manifest, count, url, sources) {
  const pool = join(root, '.pool');
  await mkdir(pool, { recursive: true });
  for (let p = 0; p < POOL; p += 1) {
    const source = /** @type {Buffer} */ (sources[p % sources.length]);
    await writeFile(join(pool, `${p}.small.webp`), await sharp(source).resize({ width: 150, height: 150, fit: 'cover' }).webp().toBuffer());
    await writeFile(join(pool, `${p}.large.webp`), await sharp(source).resize({ width: 800 }).webp().toBuffer());
  }
  const out = createWriteStream(manifest);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const key = keyOf(i);
      const dir = join(root, key);
      await mkdir(dir, { recursive: true });
      await link(join(pool, `${i % POOL}.small.webp`), join(dir, 'small.webp'));
      await link(join(pool, `${i % POOL}.large.webp`), join(dir, 'large.webp'));
    }
  };
  const writing = (async () => {
    for (let i = 0; i < count; i += 1) {
      if (!out.write(`${JSON.stringify({ key: keyOf(i), url })}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  })();
  await Promise.all([...Array.from({ length: 16 }, worker), writing]);
}

/** @param {number} i */
function keyOf(i) {
  return `m/${String(i % 1000).padStart(3, '0')}/${i}`;
}
