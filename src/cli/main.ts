#!/usr/bin/env node
/**
 * The `rethumb` command line: `rebuild`, `scan` and `estimate` (see `help.ts`). Wires the real
 * process — argv, stdout/stderr, SIGINT/SIGTERM — to `runCli()` and sets the exit code. The
 * bin (`bin.cjs`) loads it once it has sized libuv's thread pool.
 */
import type { CliSignals } from './cli-io.js';
import { runCli } from './run-cli.js';
import { tuneHeapForBatch } from './tune-heap.js';

// Before any work: fewer needless mark-compacts in a small heap full of image buffers (see tune-heap.ts).
tuneHeapForBatch();

/**
 * The first SIGINT or SIGTERM stops taking new work and lets records in flight finish for the
 * grace period (`--grace`); a second one, or the end of the grace, abandons them. Either way the
 * command still writes its journal and report before exiting.
 */
function processSignals(stderr: NodeJS.WritableStream): CliSignals {
  const stop = new AbortController();
  const abort = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  let graceMs = 10_000;
  const onSignal = (name: 'SIGINT' | 'SIGTERM'): void => {
    if (!stop.signal.aborted) {
      received = name;
      stop.abort();
      stderr.write(`\nrethumb: ${name}: taking no new records; finishing those in flight (${name === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to abandon them)\n`);
      setTimeout(() => abort.abort(), graceMs).unref();
    } else {
      abort.abort();
    }
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    stop: stop.signal,
    abort: abort.signal,
    get received() {
      return received;
    },
    setGraceMs: (ms) => {
      graceMs = ms;
    },
  };
}

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true }, processSignals(process.stderr)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rethumb: ${String((error as Error)?.stack ?? error)}\n`);
    process.exitCode = 1;
  },
);
