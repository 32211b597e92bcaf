'use strict';
/**
 * How the `rethumb` command line sizes itself to one machine: how many worker processes a
 * rebuild runs, how many images each renders at once, and how many threads libuv's pool gets.
 *
 * CommonJS with no dependencies, because the bin (`bin.cjs`) applies it before libuv's thread
 * pool starts — that is, before any ES module is loaded, since Node reads ES modules through
 * that pool — and the pool's size cannot change once it has started. The ESM command line
 * reads the same functions (through `createRequire`) to resolve and report its settings.
 *
 * The model (README, "Throughput on one machine"): sharp renders on every core, but
 * everything else about a record — fetching, sniffing, storing, journaling — runs on one
 * JavaScript thread per process, so a process finishes at most 1000 / MAIN_THREAD_MS_PER_IMAGE
 * images a second however many cores render for it. Past that, more processes.
 */

/**
 * CPU ms one image costs the main thread (fetch, sniff, store, journal, scheduling), measured
 * by `npm run bench` (`main_thread_cpu_ms_per_image`) on 1600×1200 JPEGs.
 */
const MAIN_THREAD_MS_PER_IMAGE = 5;

/**
 * CPU ms one image costs sharp (decode once, two variants, webp), measured by `npm run bench`
 * (`baseline_cpu_ms_per_image`, the bare-sharp scenario) on the same sources.
 */
const RENDER_MS_PER_IMAGE = 55;

/**
 * How busy a main thread may be, as a share of its time: past about half, the callbacks that
 * hand work to sharp and read sockets wait behind one another and cores idle meanwhile.
 */
const MAIN_THREAD_TARGET = 0.5;

/**
 * Cores one process keeps busy before its main thread is the bottleneck: a core renders
 * 1000 / RENDER_MS_PER_IMAGE images a second and the main thread, at MAIN_THREAD_TARGET of its
 * time, serves MAIN_THREAD_TARGET × 1000 / MAIN_THREAD_MS_PER_IMAGE of them (5 with the
 * measured constants).
 */
const CORES_PER_PROCESS = Math.max(1, Math.floor((RENDER_MS_PER_IMAGE / MAIN_THREAD_MS_PER_IMAGE) * MAIN_THREAD_TARGET));

/** libuv's pool size when `UV_THREADPOOL_SIZE` is unset. */
const LIBUV_DEFAULT_THREAD_POOL = 4;

/** Threads the file system and DNS keep beside sharp's: as many as libuv gives them by default. */
const IO_THREADS = LIBUV_DEFAULT_THREAD_POOL;

/** libuv's largest pool (`UV_THREADPOOL_SIZE` is capped there). */
const MAX_THREAD_POOL = 1024;

/** The largest `renderConcurrency` the library accepts (options.ts). */
const MAX_RENDER_CONCURRENCY = 256;

/** The largest `--processes`. */
const MAX_PROCESSES = 256;

/**
 * Worker processes for a rebuild on `cores` cores when the user names none: one per
 * CORES_PER_PROCESS cores, so no main thread is the bottleneck; one (no workers) on a machine
 * that one process keeps busy.
 * @param {number} cores
 * @returns {number}
 */
function defaultProcesses(cores) {
  return Math.min(MAX_PROCESSES, Math.max(1, Math.ceil(cores / CORES_PER_PROCESS)));
}

/**
 * Images each of `processes` processes renders at once on `cores` cores: its share of the cores,
 * plus one, as `renderConcurrency`'s default does for one process — a render spends part of its
 * time between sharp calls on its own process's main thread, and a core would idle meanwhile.
 * @param {number} cores
 * @param {number} processes
 * @returns {number}
 */
function renderConcurrencyFor(cores, processes) {
  return Math.min(MAX_RENDER_CONCURRENCY, coresPerProcess(cores, processes) + 1);
}

/**
 * Each process's share of the cores (the regenerator's `cores` option in that process).
 * @param {number} cores
 * @param {number} processes
 * @returns {number}
 */
function coresPerProcess(cores, processes) {
  return Math.max(1, Math.ceil(cores / processes));
}

/**
 * libuv threads for `renderConcurrency` images in sharp at once: one per render (sharp holds a
 * pool thread for a whole pipeline), plus libuv's own four for the file system and DNS, so a
 * full render stage never makes a store write or a `dns.lookup` wait.
 * @param {number} renderConcurrency
 * @returns {number}
 */
function threadPoolFor(renderConcurrency) {
  return Math.min(MAX_THREAD_POOL, renderConcurrency + IO_THREADS);
}

/**
 * The pool size `UV_THREADPOOL_SIZE` asks libuv for, or undefined when it is unset (libuv reads
 * it as an integer, 0 or garbage meaning 1, at most 1024).
 * @param {string | undefined} value
 * @returns {number | undefined}
 */
function threadPoolOfEnv(value) {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number.parseInt(value, 10);
  return Math.min(MAX_THREAD_POOL, Number.isInteger(n) && n > 0 ? n : 1);
}

/**
 * @typedef {object} ThreadPlanInput
 * @property {number} cores CPU cores of the machine (or `--cores`).
 * @property {number} [processes] `--processes`, when given.
 * @property {number} [renderConcurrency] `--render-concurrency`, when given (per process).
 * @property {number} [threadPool] libuv's pool size when it is already fixed (the user's
 *   `UV_THREADPOOL_SIZE`, or the pool this process started with): it wins, and caps the
 *   default render concurrency at one thread less, as in the library.
 */

/**
 * @typedef {object} ThreadPlan
 * @property {number} cores
 * @property {number} processes Worker processes (1: the rebuild runs in this process).
 * @property {number} coresPerProcess Each process's share of the cores.
 * @property {number} renderConcurrency Images in sharp at once, per process.
 * @property {number} threadPool libuv's pool size, per process.
 */

/**
 * The plan for one invocation.
 * @param {ThreadPlanInput} input
 * @returns {ThreadPlan}
 */
function planThreads(input) {
  const { cores } = input;
  const processes = input.processes ?? defaultProcesses(cores);
  const share = coresPerProcess(cores, processes);
  const wanted = input.renderConcurrency ?? renderConcurrencyFor(cores, processes);
  const threadPool = input.threadPool ?? threadPoolFor(wanted);
  const renderConcurrency = input.renderConcurrency ?? Math.max(1, Math.min(wanted, threadPool - 1));
  return { cores, processes, coresPerProcess: share, renderConcurrency, threadPool };
}

/** The flags that size a job to a machine, as the journal records them. */
const MACHINE_FLAGS = ['cores', 'processes', 'render-concurrency'];

/**
 * The machine flags a job's journal recorded (`DIR/.rethumb/journal.jsonl`'s header, the
 * `settings` pairs of job-settings.ts), for a `--resume` that does not give them again: the
 * resumed run restores them, so the pool must be sized for them now, before it starts. Empty
 * when there is no readable journal (the real command line then says why).
 * @param {string} out `--out DIR`
 * @returns {Record<string, string>}
 */
function recordedMachineFlags(out) {
  const { closeSync, openSync, readSync } = require('node:fs');
  const { join } = require('node:path');
  /** @type {Record<string, string>} */
  const flags = {};
  let fd;
  try {
    fd = openSync(join(out, '.rethumb', 'journal.jsonl'), 'r');
    // The header is the first line: the manifest's identity, the output and the flags given.
    const buffer = Buffer.alloc(1_048_576);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.toString('utf8', 0, length);
    const end = text.indexOf('\n');
    const header = JSON.parse(end === -1 ? text : text.slice(0, end));
    if (header === null || header.rethumbJournal !== 1 || !Array.isArray(header.settings)) return flags;
    for (const pair of header.settings) {
      if (Array.isArray(pair) && MACHINE_FLAGS.includes(pair[0]) && typeof pair[1] === 'string') flags[pair[0]] = pair[1];
    }
  } catch {
    // No journal, or not one this version reads: nothing to restore.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return flags;
}

/**
 * What the bin knows before the command line is parsed: `--cores`, `--processes` and
 * `--render-concurrency` read loosely from `argv` (a malformed value is ignored here and
 * refused by the real parser) or, for `rebuild --resume`, from the job's journal, which the
 * resumed run restores them from; the command (only `rebuild` runs worker processes) and the
 * machine's cores.
 * @param {readonly string[]} argv
 * @param {number} machineCores
 * @returns {ThreadPlanInput}
 */
function planInputOfArgv(argv, machineCores) {
  const { parseArgs } = require('node:util');
  const { values: given, positionals } = parseArgs({
    args: [...argv],
    options: {
      cores: { type: 'string' },
      processes: { type: 'string' },
      'render-concurrency': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
    },
    strict: false,
    allowPositionals: true,
  });
  const rebuild = positionals[0] === 'rebuild';
  const recorded = rebuild && given.resume === true && typeof given.out === 'string' ? recordedMachineFlags(given.out) : {};
  // A flag given again overrides the recorded one, as in job-settings.ts's mergeSettings.
  const values = { ...recorded, ...given };
  /** @param {unknown} value */
  const count = (value) => (typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : undefined);
  const processes = rebuild ? count(values.processes) : 1;
  const renderConcurrency = count(values['render-concurrency']);
  return {
    cores: count(values.cores) ?? machineCores,
    ...(processes === undefined ? {} : { processes }),
    ...(renderConcurrency === undefined ? {} : { renderConcurrency }),
  };
}

module.exports = {
  CORES_PER_PROCESS,
  IO_THREADS,
  LIBUV_DEFAULT_THREAD_POOL,
  MAIN_THREAD_MS_PER_IMAGE,
  MAX_PROCESSES,
  defaultProcesses,
  planInputOfArgv,
  planThreads,
  threadPoolFor,
  threadPoolOfEnv,
};
