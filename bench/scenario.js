/**
 * One benchmark scenario, run in a child process of `run.js` so that its peak RSS is its own.
 * Prints one JSON line: `{ scenario, items, ms, perSecond, peakRssMb, … }`.
 *
 *   node bench/scenario.js <name> '<json config>'
 *
 * Scenarios: `baseline` (bare sharp on in-memory buffers), `baseline-per-variant` (one sharp
 * pipeline per variant, the idiomatic form), `rethumb` (the CLI's `rebuild`, in-process, started as the bin starts),
 * `naive` (fetch + sharp + writeFile, `concurrency` at once, no stages), `cli` (any CLI
 * command in-process: scan, estimate, rebuild over a huge manifest), `get-stored` (`get()` of
 * stored thumbnails with and without the integrity check).
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../dist/cli/run-cli.js';
import { createRegenerator, FileStore } from '../dist/index.js';
import { tuneHeapForBatch } from '../dist/cli/tune-heap.js';
import { childrenCpuMs, mainThreadCpuMs } from './cpu-time.js';
import { peakRssBytes } from './peak-rss.js';

/**
 * @typedef {object} Config
 * @property {string} [corpusDir] directory of the source images (baseline)
 * @property {number} [records] records to process (baseline: sources are cycled)
 * @property {number} [renderConcurrency] images in sharp at once (baseline)
 * @property {number} [concurrency] downloads at once (naive)
 * @property {string} [manifest] JSON Lines manifest (naive)
 * @property {string} [out] store directory (naive)
 * @property {string[]} [args] CLI arguments (rethumb, cli)
 * @property {number} [sharpConcurrency] call sharp.concurrency(n) first
 * @property {boolean} [heapTuning] rethumb, cli: tune V8's heap as the `rethumb` bin does (default true)
 * @property {string} [format] get-stored: the store's output format (default webp)
 * @property {number} [rounds] get-stored: rounds of reads per mode (default 5)
 */

const SMALL = { width: 150, height: 150, fit: /** @type {const} */ ('cover') };
const LARGE = { width: 800 };

const [name = '', json = '{}'] = process.argv.slice(2);
/** @type {Config} */
const config = JSON.parse(json);
if (config.sharpConcurrency !== undefined) sharp.concurrency(config.sharpConcurrency);
// The CLI scenarios stand in for the `rethumb` bin, so they start as it does (src/cli/main.ts).
if ((name === 'rethumb' || name === 'cli') && config.heapTuning !== false) tuneHeapForBatch();

/** @type {Record<string, (config: Config) => Promise<{ items: number, ms: number, extra?: Record<string, unknown> }>>} */
const scenarios = { baseline, 'baseline-per-variant': baselinePerVariant, rethumb, naive, cli, 'get-stored': getStored };
const run = scenarios[name];
if (!run) throw new Error(`Unknown scenario ${name}`);
const result = await run(config);
const usage = process.resourceUsage();
const peakRssMb = Math.round(peakRssBytes() / 1024 / 1024);
// CPU time of the whole process (all threads: sharp's, libuv's, V8's), start-up included, and
// of its worker processes (`--processes N`) once they have exited. Unlike wall time it hardly
// moves when other processes share the machine, so it shows overhead.
const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000 + (childrenCpuMs() ?? 0));
process.stdout.write(
  `${JSON.stringify({ scenario: name, items: result.items, ms: Math.round(result.ms), perSecond: round((result.items / result.ms) * 1000), peakRssMb, cpuMs, ...result.extra })}\n`,
);

/**
 * Bare sharp, the same imaging work rethumb does: decode once (shrink-on-load to what the
 * largest variant needs), then resize and encode each variant from those pixels.
 * @param {Config} config
 */
async function baseline(config) {
  const sources = await loadCorpus(config);
  return pool(config.records ?? 0, config.renderConcurrency ?? 2, async (i) => {
    const body = /** @type {Buffer} */ (sources[i % sources.length]);
    const meta = await sharp(body).metadata();
    const w = meta.width ?? 1;
    const h = meta.height ?? 1;
    const scale = Math.min(1, Math.max(LARGE.width / w, SMALL.width / w, SMALL.height / h));
    const { data, info } = await sharp(body, { failOn: 'warning', autoOrient: true })
      .resize({ width: Math.ceil(w * scale), height: Math.ceil(h * scale), fit: 'fill' })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: /** @type {3} */ (info.channels) } };
    await sharp(data, raw).resize(SMALL).webp({ quality: 80 }).toBuffer();
    await sharp(data, raw).resize(LARGE).webp({ quality: 80 }).toBuffer();
  });
}

/**
 * Bare sharp as most code writes it: one pipeline per variant, each decoding the source.
 * @param {Config} config
 */
async function baselinePerVariant(config) {
  const sources = await loadCorpus(config);
  return pool(config.records ?? 0, config.renderConcurrency ?? 2, async (i) => {
    const body = /** @type {Buffer} */ (sources[i % sources.length]);
    await Promise.all([sharp(body).rotate().resize(SMALL).webp({ quality: 80 }).toBuffer(), sharp(body).rotate().resize(LARGE).webp({ quality: 80 }).toBuffer()]);
  });
}

/**
 * `rethumb rebuild …` in this process; throughput from its own report (process start excluded,
 * as the baseline's is).
 * @param {Config} config
 */
async function rethumb(config) {
  const mainBefore = mainThreadCpuMs();
  const summary = await cliJson(config.args ?? []);
  const mainAfter = mainThreadCpuMs();
  const regenerated = /** @type {number} */ (summary.counts.regenerated) + /** @type {number} */ (summary.counts.mirror);
  // The main thread's CPU over the run (with --processes, the parent's: reading, journaling, dispatching).
  const mainCpuMs = mainBefore === undefined || mainAfter === undefined ? undefined : Math.round(mainAfter - mainBefore);
  return { items: regenerated, ms: summary.durationMs, extra: { total: summary.total, counts: summary.counts, mainCpuMs, machine: summary.machine } };
}

/**
 * The naive loop: `concurrency` records at once, each fetched with `fetch`, resized per variant
 * by sharp and written with `writeFile` — no stages, no limits, no atomic writes.
 * @param {Config} config
 */
async function naive(config) {
  const text = await readFile(config.manifest ?? '', 'utf8');
  /** @type {Array<{ key: string, url: string }>} */
  const records = text.trim().split('\n').map((line) => JSON.parse(line));
  const out = config.out ?? '';
  return pool(records.length, config.concurrency ?? 20, async (i) => {
    const record = /** @type {{ key: string, url: string }} */ (records[i]);
    const response = await fetch(record.url);
    const body = Buffer.from(await response.arrayBuffer());
    const dir = join(out, record.key);
    await mkdir(dir, { recursive: true });
    const [small, large] = await Promise.all([sharp(body).rotate().resize(SMALL).webp({ quality: 80 }).toBuffer(), sharp(body).rotate().resize(LARGE).webp({ quality: 80 }).toBuffer()]);
    await Promise.all([writeFile(join(dir, 'small.webp'), small), writeFile(join(dir, 'large.webp'), large)]);
  });
}

/**
 * Any CLI command in-process, timed from outside; its JSON summary is passed through.
 * @param {Config} config
 */
async function cli(config) {
  const started = performance.now();
  const summary = await cliJson(config.args ?? []);
  const ms = performance.now() - started;
  return { items: typeof summary.total === 'number' ? summary.total : 0, ms, extra: { summary } };
}

/**
 * `get()` of every stored thumbnail of `records` records (keys `b/<i>`, two variants) from the
 * FileStore at `out`, memory cache off, one read at a time so each read's latency is its own, in
 * three modes: `verified` (the default: structure and sealed checksum, no decoder), `unverified`
 * (`verifyStored: false`: sharp's header read, as before seals) and `legacy` (the default check
 * on a copy of the store whose seals are stripped, as entries written before seals are read:
 * structure walk, then sharp's header read). Blocks alternate so every mode sees the same page
 * cache and JIT. CPU is the process's (every thread: sharp's and libuv's included) per read.
 * @param {Config} config
 */
async function getStored(config) {
  const records = config.records ?? 0;
  const rounds = config.rounds ?? 5;
  const format = /** @type {'webp' | 'png'} */ (config.format ?? 'webp');
  const out = config.out ?? '';
  const legacyRoot = `${out}-legacy`;
  for (let i = 0; i < records; i += 1) {
    for (const variant of ['small', 'large']) {
      const file = join(`b/${i}`, `${variant}.${format}`);
      await mkdir(join(legacyRoot, `b/${i}`), { recursive: true });
      await writeFile(join(legacyRoot, file), unseal(await readFile(join(out, file)), format));
    }
  }
  const make = (/** @type {string} */ root, /** @type {boolean} */ verifyStored) =>
    createRegenerator({ store: new FileStore(root), variants: { small: SMALL, large: LARGE }, format, memoryCacheBytes: 0, verifyStored });
  /** @typedef {'verified' | 'unverified' | 'legacy'} Mode */
  /** @type {Mode[]} */
  const names = ['verified', 'unverified', 'legacy'];
  const modes = { verified: make(out, true), unverified: make(out, false), legacy: make(legacyRoot, true) };
  /** @type {Record<Mode, { latencies: number[], cpuUs: number, reads: number, bytes: number }>} */
  const stats = { verified: fresh(), unverified: fresh(), legacy: fresh() };
  // Never fetched: every record is stored (a miss would show as a placeholder and fail the run).
  const url = 'http://192.0.2.1/never-fetched.jpg';
  const block = async (/** @type {Mode} */ mode) => {
    const regen = modes[mode];
    const s = stats[mode];
    const cpu = process.cpuUsage();
    for (let i = 0; i < records; i += 1) {
      for (const variant of ['small', 'large']) {
        const started = performance.now();
        const thumb = await regen.get({ key: `b/${i}`, url }, variant);
        s.latencies.push(performance.now() - started);
        if (thumb.outcome !== 'stored') throw new Error(`${mode} b/${i} ${variant}: ${thumb.outcome} ${thumb.reason ?? ''}`);
        s.bytes += thumb.body.length;
      }
    }
    const used = process.cpuUsage(cpu);
    s.cpuUs += used.user + used.system;
    s.reads += records * 2;
  };
  // One warm-up block each (page cache, JIT), not counted.
  for (const mode of names) await block(mode);
  for (const mode of names) stats[mode] = fresh();
  const started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    // A different mode first each round.
    for (let j = 0; j < names.length; j += 1) await block(/** @type {Mode} */ (names[(round + j) % names.length]));
  }
  const ms = performance.now() - started;
  await Promise.all(Object.values(modes).map((r) => r.close()));
  /** @type {Record<string, unknown>} */
  const extra = {};
  for (const mode of names) {
    const s = stats[mode];
    const sorted = [...s.latencies].sort((a, b) => a - b);
    const at = (/** @type {number} */ q) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 1000);
    extra[mode] = { reads: s.reads, p50_us: at(0.5), p99_us: at(0.99), cpu_us_per_read: Math.round(s.cpuUs / s.reads), mean_kb: Math.round(s.bytes / s.reads / 102.4) / 10 };
  }
  return { items: names.reduce((n, mode) => n + stats[mode].reads, 0), ms, extra };
}

function fresh() {
  return { latencies: /** @type {number[]} */ ([]), cpuUs: 0, reads: 0, bytes: 0 };
}

/**
 * `body` without its seal, as rethumb stored thumbnails before seals: the seal is the last chunk
 * (webp: `RTCK`, 22 bytes with padding; png: `rtCK`, 25 bytes, before IEND).
 * @param {Buffer} body
 * @param {'webp' | 'png'} format
 */
function unseal(body, format) {
  if (format === 'png') {
    const iend = body.length - 12;
    if (body.toString('latin1', iend - 21, iend - 17) !== 'rtCK') throw new Error('no seal to strip');
    return Buffer.concat([body.subarray(0, iend - 25), body.subarray(iend)]);
  }
  if (body.toString('latin1', body.length - 22, body.length - 18) !== 'RTCK') throw new Error('no seal to strip');
  const stripped = Buffer.from(body.subarray(0, body.length - 22));
  stripped.writeUInt32LE(stripped.length - 8, 4);
  return stripped;
}

/**
 * @param {string[]} args
 * @returns {Promise<Record<string, any>>}
 */
async function cliJson(args) {
  let stdout = '';
  let stderr = '';
  const never = new AbortController().signal;
  const code = await runCli(args, {
    stdout: /** @type {NodeJS.WritableStream} */ (/** @type {unknown} */ ({ write: (/** @type {string} */ s) => ((stdout += s), true) })),
    stderr: /** @type {NodeJS.WritableStream} */ (/** @type {unknown} */ ({ write: (/** @type {string} */ s) => ((stderr += s), true) })),
    isTTY: false,
  }, { stop: never, abort: never, received: undefined });
  if (code !== 0) throw new Error(`rethumb ${args.join(' ')} exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

/** @param {Config} config */
async function loadCorpus(config) {
  const dir = config.corpusDir ?? '';
  const names = (await readdir(dir)).filter((n) => /\.(jpg|png|webp)$/.test(n)).sort();
  return Promise.all(names.map((n) => readFile(join(dir, n))));
}

/**
 * Run `task(0 … count-1)`, `concurrency` at once; resolve with the count and the time taken.
 * @param {number} count
 * @param {number} concurrency
 * @param {(i: number) => Promise<void>} task
 */
async function pool(count, concurrency, task) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { items: count, ms: performance.now() - started };
}

/** @param {number} n */
function round(n) {
  return Math.round(n * 10) / 10;
}
