// A batch rebuild over a JSON Lines manifest (`{"key":…,"url":…}` a line), streamed: a million
// lines never sit in memory. Prints progress, the fallbacks per reason, and writes the records
// that fell back to OUT_DIR/fallbacks.jsonl, a manifest you can feed back in once their sources
// return. (The `rethumb rebuild` command does all this and more: resume, failure memory.)
//
//   node examples/batch-jsonl.js MANIFEST.jsonl OUT_DIR [--allow-host HOST[:PORT]]…
//   node examples/batch-jsonl.js --demo        # writes a manifest for a loopback origin, rebuilds it
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRegenerator, FileStore, readManifest } from 'rethumb';
import { demoOrigin } from './support/demo-origin.js';

const USAGE = 'usage: node examples/batch-jsonl.js MANIFEST.jsonl OUT_DIR [--allow-host HOST[:PORT]]…  (or --demo)';
/** @type {{ values: { demo?: boolean, 'allow-host'?: string[] }, positionals: string[] }} */
let args;
try {
  args = parseArgs({ options: { demo: { type: 'boolean' }, 'allow-host': { type: 'string', multiple: true } }, allowPositionals: true });
} catch (error) {
  console.error(`${/** @type {Error} */ (error).message}\n${USAGE}`);
  process.exit(2);
}
const origin = args.values.demo ? await demoOrigin() : undefined;
const work = origin ? await mkdtemp(join(tmpdir(), 'rethumb-batch-')) : undefined;
let [manifest, out] = args.positionals;
if (origin && work) {
  manifest = join(work, 'manifest.jsonl');
  out = join(work, 'thumbs');
  const lines = [...Array.from({ length: 10 }, (_, n) => ({ key: `photos/${n}`, url: origin.urlFor(`/photo-${n}.jpg`) })),
    { key: 'photos/gone', url: origin.urlFor('/gone.jpg') }, { key: 'photos/broken', url: origin.urlFor('/broken.jpg') }];
  await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}
if (!manifest || !out) {
  console.error(USAGE);
  process.exit(2);
}

const regen = createRegenerator({
  store: new FileStore(out),
  variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
  // Loopback and private addresses are refused unless allowed: the demo origin is on 127.0.0.1.
  allowHosts: [...(args.values['allow-host'] ?? []), ...(origin ? [origin.host] : [])],
});

/** The manifest's records; a malformed line is reported with its number and skipped. */
async function* records(/** @type {string} */ path) {
  const entries = readManifest(path, { format: 'jsonl', onProblem: (p) => console.error(`${path}:${p.line}: ${p.message}, skipped`) });
  for await (const entry of entries) yield entry.record;
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
let report;
try {
  report = await regen.rebuild(records(manifest), {
    signal: controller.signal,
    onProgress: (p) => process.stderr.write(`\r${p.done} done, ${p.counts.regenerated} regenerated, ${p.counts.placeholder} placeholders`),
  });
} finally {
  process.stderr.write('\n');
  await regen.close();
}

/** @type {Record<string, number>} Fallbacks per reason, in name order. */
const reasons = {};
for (const f of [...report.fallbacks].sort((a, b) => String(a.reason).localeCompare(String(b.reason)))) {
  reasons[f.reason ?? 'none'] = (reasons[f.reason ?? 'none'] ?? 0) + 1;
}
// The output directory may not exist yet: every record may have fallen back (placeholders are never stored).
await mkdir(out, { recursive: true });
await writeFile(join(out, 'fallbacks.jsonl'), report.fallbacks.map((f) => `${JSON.stringify(f.record)}\n`).join(''));
console.log(`${report.total} records: ${JSON.stringify(report.counts)}; ${report.fallbacks.length} fell back ${JSON.stringify(reasons)}`);
if (reasons.RETHUMB_FORBIDDEN_ADDRESS) {
  console.log('Records on loopback or private addresses were refused: pass --allow-host HOST:PORT for a host you trust.');
}
if (origin && work) {
  await origin.close();
  await rm(work, { recursive: true, force: true });
}
