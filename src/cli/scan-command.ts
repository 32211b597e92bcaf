/** `rethumb scan`: what the store is missing for a manifest, without fetching. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { resolve } from 'node:path';
import { scanManifest, type ScanRecordResult } from '../batch/scan.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatCount, formatDuration, formatRate, formatRecords } from './format.js';
import type { ScanArgs } from './parse-args.js';
import { resolveOptions } from '../options.js';
import { checkManifest, checkOutDir, checkOutputFile } from './check-paths.js';
import { problemReporter, warnIfEmpty } from './report-problem.js';

export async function scanCommand(args: ScanArgs, io: CliIO, signals: CliSignals): Promise<number> {
  // Option values first (no I/O), then the paths.
  resolveOptions(args.regenerator);
  await checkManifest(args.manifest, io);
  await checkOutDir(args.out, false);
  if (args.list !== undefined) await checkOutputFile('--list', args.list);
  const list: NodeJS.WritableStream | undefined = args.list === undefined ? undefined : args.list === '-' ? io.stdout : createWriteStream(args.list);
  const variants = Object.keys(args.regenerator.variants);
  const format = args.regenerator.format ?? 'webp';
  let scanned = 0;
  const started = performance.now();
  const ticker =
    args.quiet || args.list === '-'
      ? undefined
      : setInterval(() => {
          const rate = (scanned / (performance.now() - started)) * 1000;
          io.stderr.write(args.json ? `${JSON.stringify({ progress: { scanned, recordsPerSecond: Math.round(rate) } })}\n` : `scan: ${formatCount(scanned)} records, ${formatRate(rate)}\n`);
        }, args.progressIntervalMs);
  ticker?.unref();
  const onRecord = async (result: ScanRecordResult): Promise<void> => {
    scanned += 1;
    if (!list || result.status === 'present') return;
    const line = JSON.stringify({
      ...result.entry.record,
      scan: { status: result.status, key: result.key, line: result.entry.line, missing: result.missing, degraded: result.degraded },
    });
    if (!list.write(`${line}\n`)) await once(list, 'drain');
  };
  let report;
  try {
    report = await scanManifest({
      manifest: args.manifest,
      ...(args.manifestFormat ? { manifestFormat: args.manifestFormat } : {}),
      store: args.regenerator.store,
      variants,
      format,
      ...(args.concurrency === undefined ? {} : { concurrency: args.concurrency }),
      signal: signals.stop,
      onRecord,
      onProblem: problemReporter(args, io),
    });
  } catch (error) {
    if (signals.stop.aborted) {
      io.stderr.write('rethumb scan: interrupted\n');
      return interruptedExitCode(signals.received);
    }
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
    if (list && list !== io.stdout) {
      (list as WriteStream).end();
      await finished(list as WriteStream);
    }
  }
  const summary = { command: 'scan', manifest: args.manifest, out: resolve(args.out), ...report, durationMs: Math.round(report.durationMs), recordsPerSecond: Math.round(report.recordsPerSecond) };
  warnIfEmpty(args, io, report.total, report.malformedLines);
  // With `--list -` stdout is the list: the summary goes to stderr so the list stays a manifest.
  const out = args.list === '-' ? io.stderr : io.stdout;
  if (args.json) out.write(`${JSON.stringify(summary)}\n`);
  else if (!args.quiet) {
    const c = report.counts;
    out.write(
      `rethumb scan: ${formatRecords(report.total)} in ${formatDuration(report.durationMs)} (${formatRate(report.recordsPerSecond)})\n` +
        `  present ${formatCount(c.present)}, missing ${formatCount(c.missing)}, degraded ${formatCount(c.degraded)}, invalid ${formatCount(c.invalid)}\n` +
        `  variant files missing: ${formatCount(report.variantsMissing)}, degraded: ${formatCount(report.variantsDegraded)}\n` +
        (report.malformedLines > 0 ? `  malformed manifest lines skipped: ${formatCount(report.malformedLines)}\n` : '') +
        (args.list && args.list !== '-' ? `  list: ${args.list}\n` : ''),
    );
  }
  return 0;
}
