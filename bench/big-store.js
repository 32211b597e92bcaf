/**
 * A FileStore of present records for the scan and `--only-missing` figures, built fast and
 * small: every record gets its own key directory (as a real store has), and its two thumbnails
 * are hard links to a pool of real webp files (ext4 allows 65,000 links per file), so the store
 * takes one directory per record but no file data of its own. The pool's files are sealed as
 * rethumb seals what it stores, so `scan --verify` checks them as it would a real store's (its
 * figure is then CPU-bound: the pool's 80 files stay in the page cache).
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import sharp from 'sharp';
import { sealImage } from '../dist/integrity/seal-image.js';

const POOL = 40;

/**
 * Store `count` present records (keys `keyOf(0 … count-1)`) under `root`.
 * @param {string} root the store directory
 * @param {number} count records
 * @param {Buffer[]} sources photos to make the pooled thumbnails from
 */
export async function buildBigStore(root, count, sources) {
  const pool = join(root, '.pool');
  await mkdir(pool, { recursive: true });
  for (let p = 0; p < POOL; p += 1) {
    const source = /** @type {Buffer} */ (sources[p % sources.length]);
    for (const [variant, resize] of /** @type {const} */ ([['small', { width: 150, height: 150, fit: 'cover' }], ['large', { width: 800 }]])) {
      const { data, info } = await sharp(source).resize(resize).webp().toBuffer({ resolveWithObject: true });
      await writeFile(join(pool, `${p}.${variant}.webp`), sealImage(data, 'webp', info));
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const dir = join(root, keyOf(i));
      await mkdir(dir, { recursive: true });
      await link(join(pool, `${i % POOL}.small.webp`), join(dir, 'small.webp'));
      await link(join(pool, `${i % POOL}.large.webp`), join(dir, 'large.webp'));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * A JSON Lines manifest of `lines` records over the `distinct` keys of `buildBigStore`, visited
 * with a large prime stride (so consecutive lines are far apart in the store, not one warm
 * directory after another). Every record names `url`, which is never fetched: all are present.
 * @param {string} path
 * @param {number} lines
 * @param {number} distinct
 * @param {string} url
 */
export async function writeBigManifest(path, lines, distinct, url) {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i += 1) {
    const k = (i * 7919) % distinct;
    if (!out.write(`${JSON.stringify({ key: keyOf(k), url })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** @param {number} i */
function keyOf(i) {
  return `m/${String(i % 1000).padStart(3, '0')}/${i}`;
}
