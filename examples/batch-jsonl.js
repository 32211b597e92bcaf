// A batch rebuild over a JSON Lines manifest (`{"key":…,"url":…}` a line), streamed: a million
// lines never sit in memory. Prints progress and writes the records that fell back to a file
// you can feed back in as a manifest once their sources return.
//
//   node examples/batch-jsonl.js manifest.jsonl ./thumbs
//   node examples/batch-jsonl.js --demo        # writes a manifest for a loopback origin, rebuilds it
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRegenerator, FileStore } from 'rethumb';
import { demoOrigin } from './support/demo-origin.js';

const demo = process.argv.includes('--demo');
const origin = demo ? await demoOrigin() : undefined;
const work = demo ? await mkdtemp(join(tmpdir(), 'rethumb-batch-')) : undefined;
let [manifest, out] = process.argv.slice(2).filter((a) => a !== '--demo');
if (origin && work) {
  manifest = join(work, 'manifest.jsonl');
  out = join(work, 'thumbs');
  const lines = [...Array.from({ length: 10 }, (_, n) => ({ key: `photos/${n}`, url: origin.urlFor(`/photo-${n}.jpg`) })),
    { key: 'photos/gone', url: origin.urlFor('/gone.jpg') }, { key: 'photos/broken', url: origin.urlFor('/broken.jpg') }];
  await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}
if (!manifest || !out) {
  console.error('usage: node examples/batch-jsonl.js MANIFEST.jsonl OUT_DIR');
  process.exit(2);
}

/** @param {string} path @returns {AsyncGenerator<import('rethumb').ThumbRecord>} */
async function* readJsonLines(path) {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) yield JSON.parse(line);
}

const regen = createRegenerator({
  store: new FileStore(out),
  variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
  ...(origin ? { allowHosts: [origin.host] } : {}),
});
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const report = await regen.rebuild(readJsonLines(manifest), {
  signal: controller.signal,
  onProgress: (p) => process.stderr.write(`\r${p.done} done, ${p.counts.regenerated} regenerated, ${p.counts.placeholder} placeholders`),
});
process.stderr.write('\n');
await writeFile(join(out, 'fallbacks.jsonl'), report.fallbacks.map((f) => JSON.stringify(f.record)).join('\n'));
console.log(`demo: ${report.total} records: ${JSON.stringify(report.counts)}; ${report.fallbacks.length} fell back`);
await regen.close();
if (origin && work) {
  await origin.close();
  await rm(work, { recursive: true, force: true });
}
