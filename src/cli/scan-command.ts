/** `rethumb scan`: what the store is missing (with `--verify`, also what is damaged) for a manifest, without fetching. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { resolve } from 'node:path';
import { countRecords } from '../batch/count-records.js';
import { formatOfPath } from '../batch/read-manifest.js';
import { scanManifest, type ScanRecordResult, type ScanReport, type ScanStatus } from '../batch/scan.js';
import { scanListLine } from '../batch/scan-list.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import type { ScanArgs } from './parse-args.js';
import { problemReporter } from './report-problem.js';
import { createScanProgress } from './scan-progress.js';

export async function scanCommand(args: ScanArgs, io: CliIO, signals: CliSignals): Promise<number> {
  const list: NodeJS.WritableStream | undefined = args.list === undefined ? undefined : args.list === '-' ? io.stdout : createWriteStream(args.list);
  const variants = Object.keys(args.regenerator.variants);
  const format = args.regenerator.format ?? 'webp';
  const counts: Record<ScanStatus, number> = { present: 0, missing: 0, degraded: 0, damaged: 0, invalid: 0 };
  let done = 0;
  let total: number | undefined;
  const started = performance.now();
  // With `--list -` stdout is the list and stderr carries the summary: no progress lines there.
  const display = createScanProgress(args.list === '-' ? 'quiet' : args.progress, io.stderr, args.progressIntervalMs);
  if (args.manifest !== '-') {
    // The total is only for the display (percent, ETA): counted alongside, never waited for.
    countRecords(args.manifest, args.manifestFormat ?? formatOfPath(args.manifest) ?? 'jsonl', signals.stop).then(
      (n) => void (total = n),
      () => {},
    );
  }
  const onRecord = async (result: ScanRecordResult): Promise<void> => {
    done += 1;
    counts[result.status] += 1;
    display.update({ done, total: total === undefined ? undefined : Math.max(done, total), runMs: performance.now() - started, counts: { ...counts } });
    if (!list || result.status === 'present') return;
    if (!list.write(`${scanListLine(result)}\n`)) await once(list, 'drain');
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
      verify: args.verify,
      decode: args.decode,
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
    display.stop();
    if (list && list !== io.stdout) {
      (list as WriteStream).end();
      await finished(list as WriteStream);
    }
  }
  const summary = { command: 'scan', manifest: args.manifest, out: resolve(args.out), ...report, durationMs: Math.round(report.durationMs), recordsPerSecond: Math.round(report.recordsPerSecond) };
  // With `--list -` stdout is the list: the summary goes to stderr so the list stays a manifest.
  const out = args.list === '-' ? io.stderr : io.stdout;
  if (args.json) out.write(`${JSON.stringify(summary)}\n`);
  else if (!args.quiet) out.write(humanSummary(report, args));
  return 0;
}

function humanSummary(report: ScanReport, args: ScanArgs): string {
  const c = report.counts;
  const checked = report.decoded ? ', read, checked and decoded' : report.verified ? ', read and checked' : '';
  const lines = [
    `rethumb scan: ${formatCount(report.total)} records${checked} in ${formatDuration(report.durationMs)} (${formatRate(report.recordsPerSecond)})`,
    `  present ${formatCount(c.present)}, missing ${formatCount(c.missing)}, degraded ${formatCount(c.degraded)}, ` +
      `${report.verified ? `damaged ${formatCount(c.damaged)}, ` : ''}invalid ${formatCount(c.invalid)}`,
    `  variant files missing: ${formatCount(report.variantsMissing)}, degraded: ${formatCount(report.variantsDegraded)}` +
      (report.verified ? `, damaged: ${formatCount(report.variantsDamaged)}` : ''),
  ];
  if (report.variantsUnsealed > 0) {
    lines.push(`  written before checksums: ${formatCount(report.variantsUnsealed)} files (checked by structure only; --decode checks them fully)`);
  }
  if (report.malformedLines > 0) lines.push(`  malformed manifest lines skipped: ${formatCount(report.malformedLines)}`);
  if (args.list && args.list !== '-') {
    lines.push(`  list: ${args.list}`);
    if (c.missing + c.damaged + c.degraded > 0) lines.push(`  repair: ${repairCommand(args, c.degraded > 0)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The rebuild of the list with the scan's own output settings, ready to paste. */
function repairCommand(args: ScanArgs, retryDegraded: boolean): string {
  const { variants, format, quality } = args.regenerator;
  const words = ['rethumb', 'rebuild', args.list!, '--out', args.out];
  for (const [name, spec] of Object.entries(variants)) words.push('--variant', `${name}=${spec.width ?? ''}x${spec.height ?? ''}${spec.fit ? `:${spec.fit}` : ''}`);
  if (format !== undefined) words.push('--format', format);
  if (quality !== undefined) words.push('--quality', String(quality));
  if (retryDegraded) words.push('--retry-degraded');
  return words.map(shellWord).join(' ');
}

/** `word` as one POSIX shell word. */
function shellWord(word: string): string {
  return /^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
