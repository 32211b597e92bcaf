/**
 * `npm run bench`: rethumb's throughput against bare sharp and a naive loop, scan speed, memory
 * on a million records, and the estimate's accuracy — in one run, on this machine. Everything
 * is loopback and temporary: a corpus of photo-like images of mixed formats and sizes is generated, served by
 * `startTestOrigin`, and removed at the end. Each scenario runs in its own process
 * (`scenario.js`) so its peak RSS is its own. The last line printed is one JSON object of every
 * figure, for scripts comparing runs.
 *
 *   npm run bench                       # everything (a few minutes on 2 cores)
 *   npm run bench -- --skip-1m          # without the million-record passes (fast)
 *   BENCH_RECORDS=300 BENCH_ROUNDS=2 BENCH_BIG=1000000 npm run bench   # the defaults
 *   npm run bench -- --skip-experiments # without the thread-pool / allocator / sharp / ThumbHash settings
 *   npm run bench -- --skip-fleet       # without rethumb/bullmq's Redis memory and fleet figures
 *   BENCH_REDIS_RECORDS=100000 npm run bench   # records queued/finished for Redis memory (default)
 *   npm run bench -- --skip-processes   # without --processes 2 against one process
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { startTestOrigin } from 'rethumb/testing';
import { buildBigStore, writeBigManifest } from './big-store.js';
import { KINDS, kindOf, makePhoto } from './corpus.js';
import { fleetFigures } from './fleet.js';

const run = promisify(execFile);
const SCENARIO = fileURLToPath(new URL('./scenario.js', import.meta.url));
const WITHOUT_THUMBHASH = fileURLToPath(new URL('./without-thumbhash.js', import.meta.url));
const flags = new Set(process.argv.slice(2));
const SOURCES = 16;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BIG = Number(process.env.BENCH_BIG ?? 1_000_000);
const STORE = Math.min(BIG, 100_000);
const SAMPLE = 50;
/** Rounds of stored reads per mode in the get() read benchmark, and records of its png store. */
const GET_ROUNDS = Number(process.env.BENCH_GET_ROUNDS ?? 5);
const PNG_RECORDS = Math.min(RECORDS, 60);
/** Records of the full-decode scan (two entries each). */
const DECODE_RECORDS = Math.min(STORE, 2_000);
/** The URL path of record `i`'s source (its extension says its format, as origins' do). @param {number} i */
const photoPath = (i) => `/p/${i}.${kindOf(i % SOURCES).ext}`;
/** @type {import('../dist/cli/plan-threads.cjs')} */
const { planThreads, threadPoolOfEnv } = createRequire(import.meta.url)('../dist/cli/plan-threads.cjs');
// What the `rethumb` bin does for one process on this machine (a UV_THREADPOOL_SIZE set for the
// bench wins, as it does for the bin): cores + 1 images in sharp at once on a pool of that + 4.
const userPool = threadPoolOfEnv(process.env.UV_THREADPOOL_SIZE);
const PLAN = planThreads({ cores: availableParallelism(), processes: 1, ...(userPool === undefined ? {} : { threadPool: userPool }) });
// Passed to the baseline and to rethumb explicitly.
const RENDER_CONCURRENCY = PLAN.renderConcurrency;
// Every scenario's libuv pool, as the bin sizes it (scenarios run `runCli` in-process, not the bin).
const POOL = { UV_THREADPOOL_SIZE: String(PLAN.threadPool) };

/** @type {Record<string, unknown>} */
const figures = {
  cores: availableParallelism(),
  node: process.version,
  sharp: sharp.versions.sharp,
  records: RECORDS,
  rounds: ROUNDS,
  sources: KINDS.map((k) => `${k.format} ${k.width}x${k.height}`).join(', '),
  variants: 'small=150x150:cover,large=800x webp q80',
  render_concurrency: RENDER_CONCURRENCY,
  thread_pool: PLAN.threadPool,
  load_before: Math.round((loadavg()[0] ?? 0) * 100) / 100,
};

const root = await mkdtemp(join(tmpdir(), 'rethumb-bench-'));
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
const benchStarted = performance.now();
try {
  log(`corpus: ${SOURCES} photos (${figures.sources}), ${RECORDS} records, ${figures.cores} cores, load ${figures.load_before}`);
  const corpusDir = join(root, 'corpus');
  await mkdir(corpusDir);
  const photos = [];
  for (let i = 0; i < SOURCES; i += 1) {
    const kind = kindOf(i);
    const photo = await makePhoto(i, kind.width, kind.height, kind.format);
    photos.push(photo);
    await writeFile(join(corpusDir, `${String(i).padStart(2, '0')}.${kind.ext}`), photo);
  }
  figures.source_kb = Math.round(photos.reduce((a, p) => a + p.length, 0) / photos.length / 1024);
  /** @type {Record<string, import('rethumb/testing').OriginRoute>} */
  const routes = {};
  for (let i = 0; i < RECORDS; i += 1) routes[photoPath(i)] = { kind: 'image', body: /** @type {Buffer} */ (photos[i % SOURCES]), contentType: kindOf(i % SOURCES).contentType };
  const origin = await startTestOrigin({ routes });
  const manifest = join(root, 'manifest.jsonl');
  await writeFile(manifest, Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ key: `b/${i}`, url: origin.urlFor(photoPath(i)) })).join('\n') + '\n');
  let stores = 0;
  const freshStore = () => join(root, `store-${stores++}`);
  const rebuildArgs = (render = RENDER_CONCURRENCY, out = freshStore(), from = manifest) => ['rebuild', from, '--out', out, '--allow-host', origin.host, '--render-concurrency', String(render), '--processes', '1', '--json'];
  // The CLI's own plan for N processes (render concurrency per process from the cores).
  const processesArgs = (/** @type {number} */ n) => ['rebuild', manifest, '--out', freshStore(), '--allow-host', origin.host, '--processes', String(n), '--json'];

  try {
    // (a), (b) and (c) interleaved, ROUNDS times; the best run of each is kept. Other processes
    // on a shared machine only ever slow a run down, so the best run is the least disturbed.
    const base = { corpusDir, records: RECORDS, renderConcurrency: RENDER_CONCURRENCY };
    /** @type {Result[]} */ const a = [];
    /** @type {Result[]} */ const b = [];
    /** @type {Result[]} */ const c = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      log(`round ${round + 1} of ${ROUNDS}`);
      a.push(await scenario('baseline', base));
      b.push(await scenario('rethumb', { args: rebuildArgs() }));
      c.push(await scenario('naive', { manifest, out: freshStore(), concurrency: 20 }));
    }
    const baseline = best(a);
    const rebuild = best(b);
    const naive = best(c);
    const perVariant = await scenario('baseline-per-variant', base);
    // The per-process ceiling of the throughput model: the main thread's CPU per image (b).
    const mainMs = Math.min(...b.map((r) => /** @type {number} */ (r.mainCpuMs) / r.items));
    Object.assign(figures, {
      main_thread_cpu_ms_per_image: Math.round(mainMs * 10) / 10,
      main_thread_ceiling_images_per_s: Math.round(1000 / mainMs),
      render_images_per_s_per_core: Math.round((1000 / cpuPerItem(a)) * 10) / 10,
      baseline_images_per_s: baseline.perSecond,
      baseline_peak_rss_mb: baseline.peakRssMb,
      baseline_cpu_ms_per_image: cpuPerItem(a),
      baseline_per_variant_images_per_s: perVariant.perSecond,
      rebuild_images_per_s: rebuild.perSecond,
      rebuild_peak_rss_mb: rebuild.peakRssMb,
      rebuild_cpu_ms_per_image: cpuPerItem(b),
      naive_images_per_s: naive.perSecond,
      naive_peak_rss_mb: naive.peakRssMb,
      naive_cpu_ms_per_image: cpuPerItem(c),
      rebuild_vs_baseline: ratio(rebuild.perSecond, baseline.perSecond),
      rebuild_vs_naive: ratio(rebuild.perSecond, naive.perSecond),
      rebuild_vs_baseline_by_round: a.map((x, i) => ratio(/** @type {Result} */ (b[i]).perSecond, x.perSecond)),
      rebuild_vs_naive_by_round: c.map((x, i) => ratio(/** @type {Result} */ (b[i]).perSecond, x.perSecond)),
    });
    // The ThumbHash's own cost, measured directly (the end-to-end experiment below is within noise).
    const hashMs = await thumbHashCost(photos);
    figures.thumbhash_cpu_ms_per_image = hashMs;
    figures.thumbhash_share_of_rebuild_cpu_pct = Math.round((hashMs / cpuPerItem(b)) * 10_000) / 100;

    // estimate on a sample, then the whole job right after it, under the same conditions.
    const estimate = await scenario('cli', { args: ['estimate', manifest, '--out', freshStore(), '--allow-host', origin.host, '--render-concurrency', String(RENDER_CONCURRENCY), '--sample', String(SAMPLE), '--json'] });
    const readStore = freshStore();
    const actual = await scenario('rethumb', { args: rebuildArgs(RENDER_CONCURRENCY, readStore) });
    const predicted = /** @type {{ durationMs: { estimate: number, low: number, high: number } }} */ (estimate.summary).durationMs;
    Object.assign(figures, {
      estimate_sample: SAMPLE,
      estimate_predicted_ms: Math.round(predicted.estimate),
      estimate_low_ms: Math.round(predicted.low),
      estimate_high_ms: Math.round(predicted.high),
      estimate_actual_ms: actual.ms,
      estimate_error_pct: Math.round(((predicted.estimate - actual.ms) / actual.ms) * 1000) / 10,
    });

    // get() of stored thumbnails (the request path's hit) with the integrity check and without it,
    // on the store the run above wrote: webp (the default) and png (the largest files, so the
    // checksum's worst case), memory cache off, one read at a time.
    log('get() from the store, with and without the integrity check');
    const webpReads = await scenario('get-stored', { out: readStore, records: RECORDS, rounds: GET_ROUNDS });
    const pngManifest = join(root, 'png.jsonl');
    await writeFile(pngManifest, Array.from({ length: PNG_RECORDS }, (_, i) => JSON.stringify({ key: `b/${i}`, url: origin.urlFor(photoPath(i)) })).join('\n') + '\n');
    const pngStore = freshStore();
    await scenario('rethumb', { args: [...rebuildArgs(RENDER_CONCURRENCY, pngStore, pngManifest), '--format', 'png'] });
    const pngReads = await scenario('get-stored', { out: pngStore, records: PNG_RECORDS, rounds: GET_ROUNDS, format: 'png' });
    for (const [name, reads] of [['webp', webpReads], ['png', pngReads]]) {
      const r = /** @type {{ verified: ReadFigures, unverified: ReadFigures, legacy: ReadFigures }} */ (/** @type {unknown} */ (reads));
      Object.assign(figures, {
        [`get_stored_${name}_kb`]: r.verified.mean_kb,
        [`get_stored_${name}_p50_us`]: r.verified.p50_us,
        [`get_stored_${name}_p99_us`]: r.verified.p99_us,
        [`get_stored_${name}_cpu_us`]: r.verified.cpu_us_per_read,
        [`get_unverified_${name}_p50_us`]: r.unverified.p50_us,
        [`get_unverified_${name}_p99_us`]: r.unverified.p99_us,
        [`get_unverified_${name}_cpu_us`]: r.unverified.cpu_us_per_read,
        [`get_verify_${name}_cpu_ratio`]: ratio(r.verified.cpu_us_per_read, r.unverified.cpu_us_per_read),
        [`get_legacy_${name}_p50_us`]: r.legacy.p50_us,
        [`get_legacy_${name}_p99_us`]: r.legacy.p99_us,
        [`get_legacy_${name}_cpu_us`]: r.legacy.cpu_us_per_read,
        [`get_legacy_${name}_cpu_ratio`]: ratio(r.legacy.cpu_us_per_read, r.unverified.cpu_us_per_read),
      });
    }

    if (!flags.has('--skip-processes')) {
      // One job in 2 processes against the same job in one, interleaved, best of each; CPU per
      // image counts the workers too. Each uses the CLI's own plan (render concurrency per process).
      /** @type {Result[]} */ const one = [];
      /** @type {Result[]} */ const two = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        log(`processes, round ${round + 1} of ${ROUNDS}`);
        one.push(await scenario('rethumb', { args: processesArgs(1) }));
        two.push(await scenario('rethumb', { args: processesArgs(2) }));
      }
      Object.assign(figures, {
        processes_1_images_per_s: best(one).perSecond,
        processes_2_images_per_s: best(two).perSecond,
        processes_2_vs_1: ratio(best(two).perSecond, best(one).perSecond),
        processes_2_vs_1_by_round: one.map((x, i) => ratio(/** @type {Result} */ (two[i]).perSecond, x.perSecond)),
        processes_1_cpu_ms_per_image: cpuPerItem(one),
        processes_2_cpu_ms_per_image: cpuPerItem(two),
        processes_2_peak_rss_mb: best(two).peakRssMb,
      });
    }

    if (!flags.has('--skip-experiments')) {
      // Each setting against rethumb's defaults run just before it (same conditions), and the
      // baseline under the same setting. CPU ms per image does not depend on the machine's load.
      /** @type {Record<string, unknown>} */
      const experiments = {};
      /** @type {Array<[string, Record<string, string>, { sharpConcurrency?: number, render?: number, heapTuning?: boolean, nodeArgs?: string[] }]>} */
      const settings = [
        // What the bin's V8 heap tuning (src/cli/tune-heap.ts) is worth: rethumb without it.
        ['V8 default heap growing', {}, { heapTuning: false }],
        ['UV_THREADPOOL_SIZE=8', { UV_THREADPOOL_SIZE: '8' }, {}],
        ['MALLOC_ARENA_MAX=2', { MALLOC_ARENA_MAX: '2' }, {}],
        ['sharp.concurrency(1)', {}, { sharpConcurrency: 1 }],
        // The former default, one image per core.
        [`renderConcurrency=${availableParallelism()}`, {}, { render: availableParallelism() }],
        // What computing each source's ThumbHash costs: rethumb with it stubbed out.
        ['without the ThumbHash', {}, { nodeArgs: ['--import', WITHOUT_THUMBHASH] }],
      ];
      for (const [name, env, extra] of settings) {
        log(`experiment ${name}`);
        const render = extra.render ?? RENDER_CONCURRENCY;
        const sharpConcurrency = extra.sharpConcurrency === undefined ? {} : { sharpConcurrency: extra.sharpConcurrency };
        const d = await scenario('rethumb', { args: rebuildArgs() });
        const heapTuning = extra.heapTuning === undefined ? {} : { heapTuning: extra.heapTuning };
        const y = await scenario('rethumb', { args: rebuildArgs(render), ...sharpConcurrency, ...heapTuning }, env, extra.nodeArgs);
        const x = await scenario('baseline', { ...base, renderConcurrency: render, ...sharpConcurrency }, env);
        experiments[name] = {
          rebuild_images_per_s: y.perSecond,
          rebuild_vs_default: ratio(y.perSecond, d.perSecond),
          rebuild_peak_rss_mb: y.peakRssMb,
          default_peak_rss_mb: d.peakRssMb,
          rebuild_cpu_ms_per_image: cpuPerItem([y]),
          default_cpu_ms_per_image: cpuPerItem([d]),
          baseline_images_per_s: x.perSecond,
          baseline_peak_rss_mb: x.peakRssMb,
        };
      }
      figures.experiments = experiments;
    }

    if (!flags.has('--skip-fleet')) {
      // rethumb/bullmq: Redis memory per 100 000 records, and 2 worker processes against 1.
      const paths = Array.from({ length: RECORDS }, (_, i) => photoPath(i));
      Object.assign(figures, await fleetFigures({ origin, paths, root, log, redisRecords: Number(process.env.BENCH_REDIS_RECORDS ?? 100_000), rounds: ROUNDS }));
    }

    if (!flags.has('--skip-1m')) {
      // The memory claim is about the process: streamed manifest, bounded queue, journal and
      // resume bitmap on disk. None of that keeps anything per key, so a manifest of BIG lines
      // over a store of STORE distinct present records measures it honestly, without spending
      // minutes creating (and deleting) a million directories.
      log(`building a store of ${STORE.toLocaleString('en-US')} present records (hard-linked thumbnails)…`);
      const bigRoot = join(root, 'big');
      const started = performance.now();
      await buildBigStore(bigRoot, STORE, photos);
      const never = origin.urlFor('/never-fetched.jpg');
      const storeManifest = join(root, 'store.jsonl');
      const bigManifest = join(root, 'big.jsonl');
      await writeBigManifest(storeManifest, STORE, STORE, never);
      await writeBigManifest(bigManifest, BIG, STORE, never);
      log(`  built in ${Math.round((performance.now() - started) / 1000)} s`);
      const scan = await scenario('cli', { args: ['scan', storeManifest, '--out', bigRoot, '--json'] });
      // Every entry read and checked (structure + sealed checksum), then a full decode on a sample.
      const verify = await scenario('cli', { args: ['scan', storeManifest, '--out', bigRoot, '--verify', '--json'] });
      const decodeManifest = join(root, 'decode.jsonl');
      await writeBigManifest(decodeManifest, DECODE_RECORDS, STORE, never);
      const decode = await scenario('cli', { args: ['scan', decodeManifest, '--out', bigRoot, '--decode', '--json'] });
      const verified = /** @type {{ counts: Record<string, number>, variantsDamaged: number }} */ (verify.summary);
      if (verified.counts.present !== STORE || verified.variantsDamaged !== 0) throw new Error(`scan --verify: ${JSON.stringify(verified.counts)}`);
      const scanBig = await scenario('cli', { args: ['scan', bigManifest, '--out', bigRoot, '--json'] });
      const onlyMissing = await scenario('cli', { args: ['rebuild', bigManifest, '--out', bigRoot, '--only-missing', '--allow-host', origin.host, '--json'] });
      const stored = /** @type {{ counts: { stored: number } }} */ (onlyMissing.summary).counts.stored;
      if (stored !== BIG) throw new Error(`expected ${BIG} stored records, got ${stored}`);
      const present = /** @type {{ counts?: Record<string, number> }} */ (scanBig.summary).counts;
      Object.assign(figures, {
        big_store_records: STORE,
        big_manifest_records: BIG,
        scan_100k_records_per_s: scan.perSecond,
        scan_100k_peak_rss_mb: scan.peakRssMb,
        scan_verify_entries: STORE * 2,
        scan_verify_entries_per_s: Math.round(verify.perSecond * 2),
        scan_verify_s: Math.round(verify.ms / 1000),
        scan_verify_peak_rss_mb: verify.peakRssMb,
        scan_verify_cpu_us_per_entry: Math.round((verify.cpuMs * 1000) / (STORE * 2)),
        scan_decode_entries: DECODE_RECORDS * 2,
        scan_decode_entries_per_s: Math.round(decode.perSecond * 2),
        scan_decode_peak_rss_mb: decode.peakRssMb,
        scan_1m_records_per_s: scanBig.perSecond,
        scan_1m_peak_rss_mb: scanBig.peakRssMb,
        scan_1m_counts: present,
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

figures.load_after = Math.round((loadavg()[0] ?? 0) * 100) / 100;
figures.bench_s = Math.round((performance.now() - benchStarted) / 1000);
printTable();
process.stdout.write(`${JSON.stringify(figures)}\n`);

/** @typedef {{ scenario: string, items: number, ms: number, perSecond: number, peakRssMb: number, cpuMs: number, mainCpuMs?: number, summary?: unknown }} Result */
/** @typedef {{ reads: number, p50_us: number, p99_us: number, cpu_us_per_read: number, mean_kb: number }} ReadFigures */

/**
 * Run one scenario in its own process.
 * @param {string} name
 * @param {Record<string, unknown>} config
 * @param {Record<string, string>} [env]
 * @param {string[]} [nodeArgs] node options before the script (e.g. `--import` a module hook)
 * @returns {Promise<Result>}
 */
async function scenario(name, config, env = {}, nodeArgs = []) {
  const { stdout } = await run(process.execPath, [...nodeArgs, SCENARIO, name, JSON.stringify(config)], { env: { ...POOL, ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  log(`  ${name}${Object.keys(env).length ? ` ${JSON.stringify(env)}` : ''}: ${result.items} in ${result.ms} ms = ${result.perSecond}/s, peak RSS ${result.peakRssMb} MB`);
  return result;
}

/**
 * CPU ms of one `thumbHashOf` call on what rethumb hands it for this corpus: each photo decoded
 * as `renderVariants` decodes it for the bench's variants (oriented sRGB, at the 800×600
 * intermediate the large variant needs), hashed 25 times.
 * @param {Buffer[]} sources
 */
async function thumbHashCost(sources) {
  const { thumbHashOf } = await import('../dist/imaging/thumbhash.js');
  const decoded = await Promise.all(
    sources.map(async (body) => {
      const { data, info } = await sharp(body, { autoOrient: true }).resize({ width: 800, height: 600, fit: 'fill' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: /** @type {3} */ (info.channels) };
    }),
  );
  for (const pixels of decoded) thumbHashOf(pixels); // warm up the JIT
  const rounds = 25;
  const before = process.cpuUsage();
  for (let round = 0; round < rounds; round += 1) for (const pixels of decoded) thumbHashOf(pixels);
  const used = process.cpuUsage(before);
  return Math.round(((used.user + used.system) / 1000 / (rounds * decoded.length)) * 1000) / 1000;
}

/** @param {Result[]} runs */
function best(runs) {
  return runs.reduce((x, y) => (y.perSecond > x.perSecond ? y : x));
}

/**
 * CPU ms per item, the least of `runs` (process start-up included).
 * @param {Result[]} runs
 */
function cpuPerItem(runs) {
  return Math.round(Math.min(...runs.map((r) => r.cpuMs / r.items)) * 10) / 10;
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
    ['(a) bare sharp, in-memory buffers (baseline)', `${f.baseline_images_per_s} images/s, ${f.baseline_cpu_ms_per_image} CPU ms each`, `${f.baseline_peak_rss_mb} MB`],
    ['    bare sharp, one pipeline per variant', `${f.baseline_per_variant_images_per_s} images/s`, ''],
    ['(b) rethumb rebuild (fetch, sniff, render, atomic store)', `${f.rebuild_images_per_s} images/s, ${f.rebuild_cpu_ms_per_image} CPU ms each`, `${f.rebuild_peak_rss_mb} MB`],
    ['(c) naive fetch + sharp loop (20 at once)', `${f.naive_images_per_s} images/s, ${f.naive_cpu_ms_per_image} CPU ms each`, `${f.naive_peak_rss_mb} MB`],
    ['(b) main thread: CPU ms per image, ceiling of one process', `${f.main_thread_cpu_ms_per_image} ms, ${f.main_thread_ceiling_images_per_s} images/s`, ''],
    ['(b)/(a) rebuild_vs_baseline', String(f.rebuild_vs_baseline), ''],
    ['(b)/(c) rebuild_vs_naive', String(f.rebuild_vs_naive), ''],
    ['ThumbHash of each source (thumbHashOf on the decoded pixels)', `${f.thumbhash_cpu_ms_per_image} CPU ms each, ${f.thumbhash_share_of_rebuild_cpu_pct}% of (b)`, ''],
    [`estimate (sample ${f.estimate_sample}) vs actual`, `${f.estimate_predicted_ms} ms [${f.estimate_low_ms}–${f.estimate_high_ms}] vs ${f.estimate_actual_ms} ms (${f.estimate_error_pct}%)`, ''],
  ];
  if (f.redis_mb_per_100k_queued !== undefined) {
    rows.push(
      [`Redis per 100 000 records queued / finished`, `${f.redis_mb_per_100k_queued} MB / ${f.redis_mb_per_100k_finished} MB (+ ${f.redis_mb_events_stream} MB events)`, ''],
      [`BullMQ fleet of 2 worker processes vs 1`, `${f.fleet_2_vs_1} (${f.fleet_2_images_per_s} vs ${f.fleet_1_images_per_s} images/s)`, ''],
      [`    CPU ms per image, fleet of 2 / of 1`, `${f.fleet_2_cpu_ms_per_image} / ${f.fleet_1_cpu_ms_per_image}`, ''],
    );
  }
  for (const name of ['webp', 'png']) {
    if (f[`get_stored_${name}_p50_us`] === undefined) continue;
    rows.push(
      [`get() stored ${name} (${f[`get_stored_${name}_kb`]} KB avg), integrity check`, `p50 ${f[`get_stored_${name}_p50_us`]} µs, p99 ${f[`get_stored_${name}_p99_us`]} µs, ${f[`get_stored_${name}_cpu_us`]} CPU µs`, ''],
      [`get() stored ${name}, header read only (no check)`, `p50 ${f[`get_unverified_${name}_p50_us`]} µs, p99 ${f[`get_unverified_${name}_p99_us`]} µs, ${f[`get_unverified_${name}_cpu_us`]} CPU µs`, ''],
      [`get() stored ${name} written before seals, checked`, `p50 ${f[`get_legacy_${name}_p50_us`]} µs, p99 ${f[`get_legacy_${name}_p99_us`]} µs, ${f[`get_legacy_${name}_cpu_us`]} CPU µs`, ''],
      [`  CPU per read vs unchecked: sealed, before seals (${name})`, `${f[`get_verify_${name}_cpu_ratio`]}, ${f[`get_legacy_${name}_cpu_ratio`]}`, ''],
    );
  }
  if (f.processes_2_vs_1 !== undefined) {
    rows.push(
      ['rebuild --processes 1', `${f.processes_1_images_per_s} images/s, ${f.processes_1_cpu_ms_per_image} CPU ms each`, ''],
      ['rebuild --processes 2', `${f.processes_2_images_per_s} images/s, ${f.processes_2_cpu_ms_per_image} CPU ms each`, `${f.processes_2_peak_rss_mb} MB (parent)`],
      ['--processes 2 / --processes 1', String(f.processes_2_vs_1), ''],
    );
  }
  if (f.scan_100k_records_per_s !== undefined) {
    rows.push(
      [`scan, ${f.big_store_records} present records`, `${f.scan_100k_records_per_s} records/s`, `${f.scan_100k_peak_rss_mb} MB`],
      [`scan --verify, ${f.scan_verify_entries} entries`, `${f.scan_verify_entries_per_s} entries/s (${f.scan_verify_s} s), ${f.scan_verify_cpu_us_per_entry} CPU µs each`, `${f.scan_verify_peak_rss_mb} MB`],
      [`scan --decode, ${f.scan_decode_entries} entries`, `${f.scan_decode_entries_per_s} entries/s`, `${f.scan_decode_peak_rss_mb} MB`],
      [`scan, ${f.big_manifest_records} records over them`, `${f.scan_1m_records_per_s} records/s`, `${f.scan_1m_peak_rss_mb} MB`],
      [`rebuild --only-missing, ${f.big_manifest_records} records`, `${f.only_missing_1m_records_per_s} records/s`, `${f.only_missing_1m_peak_rss_mb} MB`],
    );
  }
  log('');
  for (const [what, figure, rss] of rows) log(`${String(what).padEnd(58)} ${String(figure).padEnd(44)} ${rss}`);
  log('');
}
