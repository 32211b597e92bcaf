/**
 * `npm run bench`: rethumb's throughput against bare sharp and a naive loop, scan speed, memory
 * on a million records, and the estimate's accuracy — in one run, on this machine. Everything
 * is loopback and temporary: a corpus of photo-like JPEGs is generated, served by
 * `startTestOrigin`, and removed at the end. Each scenario runs in its own process
 * (`scenario.js`) so its peak RSS is its own. The last line printed is one JSON object of every
 * figure, for scripts comparing runs.
 *
 *   npm run bench                       # everything (a few minutes on 2 cores)
 *   npm run bench -- --skip-1m          # without the million-record store (fast)
 *   npm run bench -- --skip-experiments # without the thread-pool / allocator / sharp settings
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { startTestOrigin } from 'rethumb/testing';
import { buildBigStore } from './big-store.js';
import { makePhoto } from './corpus.js';

const run = promisify(execFile);
const SCENARIO = fileURLToPath(new URL('./scenario.js', import.meta.url));
const flags = new Set(process.argv.slice(2));
const SOURCES = 16;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 400);
const BIG = Number(process.env.BENCH_BIG ?? 1_000_000);
const SCAN = 100_000;
const SAMPLE = 50;
const WIDTH = 1600;
const HEIGHT = 1200;
const RENDER_CONCURRENCY = Math.max(1, Math.min(availableParallelism(), 3));

/** @type {Record<string, unknown>} */
const figures = {
  cores: availableParallelism(),
  node: process.version,
  sharp: sharp.versions.sharp,
  records: RECORDS,
  source_px: `${WIDTH}x${HEIGHT}`,
  variants: 'small=150x150:cover,large=800x webp q80',
  render_concurrency: RENDER_CONCURRENCY,
};

const root = await mkdtemp(join(tmpdir(), 'rethumb-bench-'));
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
try {
  log(`corpus: ${SOURCES} photos of ${WIDTH}x${HEIGHT}, ${RECORDS} records, ${figures.cores} cores`);
  const corpusDir = join(root, 'corpus');
  await mkdir(corpusDir);
  const photos = [];
  for (let i = 0; i < SOURCES; i += 1) {
    const photo = await makePhoto(i, WIDTH, HEIGHT);
    photos.push(photo);
    await writeFile(join(corpusDir, `${String(i).padStart(2, '0')}.jpg`), photo);
  }
  figures.source_kb = Math.round(photos.reduce((a, p) => a + p.length, 0) / photos.length / 1024);
  /** @type {Record<string, import('rethumb/testing').OriginRoute>} */
  const routes = {};
  for (let i = 0; i < RECORDS; i += 1) routes[`/p/${i}.jpg`] = { kind: 'image', body: /** @type {Buffer} */ (photos[i % SOURCES]), contentType: 'image/jpeg' };
  const origin = await startTestOrigin({ routes });
  const manifest = join(root, 'manifest.jsonl');
  await writeFile(manifest, Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ key: `b/${i}`, url: origin.urlFor(`/p/${i}.jpg`) })).join('\n') + '\n');
  let stores = 0;
  const freshStore = () => join(root, `store-${stores++}`);
  const rebuildArgs = () => ['rebuild', manifest, '--out', freshStore(), '--allow-host', origin.host, '--json'];

  try {
    // (a) and (b), alternated twice; the better of each pair is kept (the machine is shared).
    const base = { corpusDir, records: RECORDS, renderConcurrency: RENDER_CONCURRENCY };
    const a = [];
    const b = [];
    for (let round = 0; round < 2; round += 1) {
      a.push(await scenario('baseline', base));
      b.push(await scenario('rethumb', { args: rebuildArgs() }));
    }
    const baseline = best(a);
    const rebuild = best(b);
    const perVariant = await scenario('baseline-per-variant', base);
    const naive = await scenario('naive', { manifest, out: freshStore(), concurrency: 20 });
    Object.assign(figures, {
      baseline_images_per_s: baseline.perSecond,
      baseline_peak_rss_mb: baseline.peakRssMb,
      baseline_per_variant_images_per_s: perVariant.perSecond,
      rebuild_images_per_s: rebuild.perSecond,
      rebuild_peak_rss_mb: rebuild.peakRssMb,
      naive_images_per_s: naive.perSecond,
      naive_peak_rss_mb: naive.peakRssMb,
      rebuild_vs_baseline: ratio(rebuild.perSecond, baseline.perSecond),
      rebuild_vs_naive: ratio(rebuild.perSecond, naive.perSecond),
    });

    // estimate on a sample, against the actual duration of the same job (the rebuild above).
    const estimate = await scenario('cli', { args: ['estimate', manifest, '--out', freshStore(), '--allow-host', origin.host, '--sample', String(SAMPLE), '--json'] });
    const predicted = /** @type {{ durationMs: { estimate: number, low: number, high: number } }} */ (estimate.summary).durationMs;
    Object.assign(figures, {
      estimate_sample: SAMPLE,
      estimate_predicted_ms: Math.round(predicted.estimate),
      estimate_low_ms: Math.round(predicted.low),
      estimate_high_ms: Math.round(predicted.high),
      actual_ms: rebuild.ms,
      estimate_error_pct: Math.round(((predicted.estimate - rebuild.ms) / rebuild.ms) * 1000) / 10,
    });

    if (!flags.has('--skip-experiments')) {
      /** @type {Record<string, unknown>} */
      const experiments = {};
      /** @type {Array<[string, Record<string, string>, Record<string, unknown>]>} */
      const settings = [
        ['UV_THREADPOOL_SIZE=8', { UV_THREADPOOL_SIZE: '8' }, {}],
        ['MALLOC_ARENA_MAX=2', { MALLOC_ARENA_MAX: '2' }, {}],
        ['sharp.concurrency(1)', {}, { sharpConcurrency: 1 }],
        ['renderConcurrency=cores+1', {}, { render: RENDER_CONCURRENCY + 1 }],
      ];
      for (const [name, env, extra] of settings) {
        const render = typeof extra.render === 'number' ? extra.render : RENDER_CONCURRENCY;
        const sharpConcurrency = typeof extra.sharpConcurrency === 'number' ? { sharpConcurrency: extra.sharpConcurrency } : {};
        const x = await scenario('baseline', { ...base, renderConcurrency: render, ...sharpConcurrency }, env);
        const y = await scenario('rethumb', { args: [...rebuildArgs(), '--render-concurrency', String(render)], ...sharpConcurrency }, env);
        experiments[name] = { baseline_images_per_s: x.perSecond, rebuild_images_per_s: y.perSecond, rebuild_peak_rss_mb: y.peakRssMb, rebuild_vs_baseline: ratio(y.perSecond, x.perSecond) };
        log(`  ${name}: baseline ${x.perSecond}/s, rebuild ${y.perSecond}/s (${y.peakRssMb} MB)`);
      }
      figures.experiments = experiments;
    }

    if (!flags.has('--skip-1m')) {
      log(`building a store of ${BIG.toLocaleString('en-US')} present records (hard-linked thumbnails)…`);
      const bigRoot = join(root, 'big');
      const bigManifest = join(root, 'big.jsonl');
      const started = performance.now();
      await buildBigStore(bigRoot, bigManifest, BIG, origin.urlFor('/never-fetched.jpg'), photos);
      log(`  built in ${Math.round((performance.now() - started) / 1000)} s`);
      const scanManifest = join(root, 'scan.jsonl');
      await run('sh', ['-c', `head -n ${SCAN} "${bigManifest}" > "${scanManifest}"`]);
      const scan = await scenario('cli', { args: ['scan', scanManifest, '--out', bigRoot, '--json'] });
      const scanBig = await scenario('cli', { args: ['scan', bigManifest, '--out', bigRoot, '--json'] });
      const onlyMissing = await scenario('cli', { args: ['rebuild', bigManifest, '--out', bigRoot, '--only-missing', '--allow-host', origin.host, '--json'] });
      const stored = /** @type {{ counts: { stored: number } }} */ (onlyMissing.summary).counts.stored;
      if (stored !== BIG) throw new Error(`expected ${BIG} stored records, got ${stored}`);
      Object.assign(figures, {
        scan_100k_records_per_s: scan.perSecond,
        scan_100k_peak_rss_mb: scan.peakRssMb,
        scan_1m_records_per_s: scanBig.perSecond,
        scan_1m_peak_rss_mb: scanBig.peakRssMb,
        only_missing_1m_records_per_s: onlyMissing.perSecond,
        only_missing_1m_peak_rss_mb: onlyMissing.peakRssMb,
        origin_hits_during_1m: origin.hits('/never-fetched.jpg'),
      });
    }
  } finally {
    await origin.close();
  }
} finally {
  log('removing the temporary files…');
  await rm(root, { recursive: true, force: true });
}

printTable();
process.stdout.write(`${JSON.stringify(figures)}\n`);

/**
 * Run one scenario in its own process.
 * @param {string} name
 * @param {Record<string, unknown>} config
 * @param {Record<string, string>} [env]
 * @returns {Promise<{ scenario: string, items: number, ms: number, perSecond: number, peakRssMb: number, summary?: unknown }>}
 */
async function scenario(name, config, env = {}) {
  const { stdout } = await run(process.execPath, [SCENARIO, name, JSON.stringify(config)], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  log(`  ${name}${Object.keys(env).length ? ` ${JSON.stringify(env)}` : ''}: ${result.items} in ${result.ms} ms = ${result.perSecond}/s, peak RSS ${result.peakRssMb} MB`);
  return result;
}

/** @param {Array<{ perSecond: number }>} runs */
function best(runs) {
  return /** @type {any} */ (runs.reduce((x, y) => (y.perSecond > x.perSecond ? y : x)));
}

/**
 * @param {number} x
 * @param {number} y
 */
function ratio(x, y) {
  return Math.round((x / y) * 1000) / 1000;
}

function printTable() {
  const f = /** @type {Record<string, any>} */ (figures);
  const rows = [
    ['(a) bare sharp, in-memory buffers (baseline)', `${f.baseline_images_per_s} images/s`, `${f.baseline_peak_rss_mb} MB`],
    ['    bare sharp, one pipeline per variant', `${f.baseline_per_variant_images_per_s} images/s`, ''],
    ['(b) rethumb rebuild (fetch, sniff, render, atomic store)', `${f.rebuild_images_per_s} images/s`, `${f.rebuild_peak_rss_mb} MB`],
    ['(c) naive fetch + sharp loop (20 at once)', `${f.naive_images_per_s} images/s`, `${f.naive_peak_rss_mb} MB`],
    ['(b)/(a) rebuild_vs_baseline', String(f.rebuild_vs_baseline), ''],
    ['(b)/(c) rebuild_vs_naive', String(f.rebuild_vs_naive), ''],
    [`estimate (sample ${f.estimate_sample}) vs actual`, `${f.estimate_predicted_ms} ms [${f.estimate_low_ms}–${f.estimate_high_ms}] vs ${f.actual_ms} ms (${f.estimate_error_pct}%)`, ''],
  ];
  if (f.scan_100k_records_per_s !== undefined) {
    rows.push(
      ['scan, 100k present records', `${f.scan_100k_records_per_s} records/s`, `${f.scan_100k_peak_rss_mb} MB`],
      ['scan, 1M present records', `${f.scan_1m_records_per_s} records/s`, `${f.scan_1m_peak_rss_mb} MB`],
      ['rebuild --only-missing, 1M present records', `${f.only_missing_1m_records_per_s} records/s`, `${f.only_missing_1m_peak_rss_mb} MB`],
    );
  }
  log('');
  for (const [what, figure, rss] of rows) log(`${String(what).padEnd(58)} ${String(figure).padEnd(44)} ${rss}`);
  log('');
}
