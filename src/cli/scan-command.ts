/** `rethumb scan`: what the store is missing (with `--verify`, also what is damaged) for a manifest, without fetching. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { join, resolve } from 'node:path';
import { countRecords } from '../batch/count-records.js';
import { readJournalHeader } from '../batch/journal.js';
import { formatOfPath } from '../batch/read-manifest.js';
import { scanManifest, type ScanRecordResult, type ScanReport, type ScanStatus } from '../batch/scan.js';
import { scanListLine } from '../batch/scan-list.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatCount, formatDuration, formatRate, formatRecords } from './format.js';
import { parseInvocation, type ScanArgs } from './parse-args.js';
import { resolveOptions } from '../options.js';
import { checkManifest, checkOutDir, checkOutputFile } from './check-paths.js';
import { problemReporter, warnIfEmpty } from './report-problem.js';
import { commandLine, pathArg } from './command-line.js';
import { createScanProgress } from './scan-progress.js';
import { optionWords, readRecordedSettings } from './job-settings.js';

export async function scanCommand(given: ScanArgs, io: CliIO, signals: CliSignals): Promise<number> {
  // Option values first (no I/O), then the paths.
  resolveOptions(given.regenerator);
  await checkManifest(given.manifest, io);
  await checkOutDir(given.out, false);
  const args = await withStoreOutputSettings(given, io);
  if (args.list !== undefined) await checkOutputFile('--list', args.list, args.manifest);
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
  const c = report.counts;
  const repair = args.list && args.list !== '-' && c.missing + c.damaged + c.degraded > 0 ? await repairCommand(args, c.degraded > 0) : undefined;
  const summary = {
    command: 'scan',
    manifest: args.manifest,
    out: resolve(args.out),
    ...report,
    durationMs: Math.round(report.durationMs),
    recordsPerSecond: Math.round(report.recordsPerSecond),
    ...(repair ? { repairCommand: repair } : {}),
  };
  warnIfEmpty(args, io, report.total, report.malformedLines);
  // With `--list -` stdout is the list: the summary goes to stderr so the list stays a manifest.
  const out = args.list === '-' ? io.stderr : io.stdout;
  if (args.json) out.write(`${JSON.stringify(summary)}\n`);
  else if (!args.quiet) out.write(humanSummary(report, args, repair));
  return 0;
}

function humanSummary(report: ScanReport, args: ScanArgs, repair: string | undefined): string {
  const c = report.counts;
  const checked = report.decoded ? ', read, checked and decoded' : report.verified ? ', read and checked' : '';
  const lines = [
    `rethumb scan: ${formatRecords(report.total)}${checked} in ${formatDuration(report.durationMs)} (${formatRate(report.recordsPerSecond)})`,
    `  present ${formatCount(c.present)}, missing ${formatCount(c.missing)}, degraded ${formatCount(c.degraded)}, ` +
      `${report.verified ? `damaged ${formatCount(c.damaged)}, ` : ''}invalid ${formatCount(c.invalid)}`,
    `  variant files missing: ${formatCount(report.variantsMissing)}, degraded: ${formatCount(report.variantsDegraded)}` +
      (report.verified ? `, damaged: ${formatCount(report.variantsDamaged)}` : ''),
  ];
  if (report.variantsUnsealed > 0) {
    const how = report.decoded ? 'no checksum to check: decoded in full' : 'checked by structure only; --decode checks them fully';
    lines.push(`  written before checksums: ${formatCount(report.variantsUnsealed)} files (${how})`);
  }
  if (report.malformedLines > 0) lines.push(`  malformed manifest lines skipped: ${formatCount(report.malformedLines)}`);
  if (args.list && args.list !== '-') {
    lines.push(`  list: ${args.list}`);
    if (repair) lines.push(`  repair: ${repair}`);
  } else if (c.missing + c.damaged + c.degraded > 0) {
    lines.push('  to repair them: add --list FILE; the scan then prints the rebuild to run');
  }
  return `${lines.join('\n')}\n`;
}

/** What the store's thumbnails are: the variants, their format and quality. */
const OUTPUT_SETTINGS: ReadonlySet<string> = new Set(['variant', 'format', 'quality']);

/**
 * Given none of `--variant`, `--format` and `--quality`, a scan looks for what the store's last
 * rebuild wrote, as its journal recorded, not for the defaults: a store built with `--format
 * jpeg` scanned for webp would be all missing, and the printed repair would refetch every source
 * to write webp beside it. Any of them given: the command line decides, all of them.
 */
async function withStoreOutputSettings(args: ScanArgs, io: CliIO): Promise<ScanArgs> {
  if (args.given.some((o) => OUTPUT_SETTINGS.has(o.name))) return args;
  const header = await readJournalHeader(join(args.out, '.rethumb', 'journal.jsonl')).catch(() => undefined);
  const recorded = (readRecordedSettings(header?.settings) ?? []).filter((o) => OUTPUT_SETTINGS.has(o.name));
  if (recorded.length === 0) return args;
  const invocation = parseInvocation(['scan', ...optionWords([...args.given, ...recorded]), '--', args.manifest], io.isTTY);
  if (invocation.kind !== 'scan') throw new Error('Expected the merged arguments to be a scan');
  if (!args.quiet && !args.json) io.stderr.write(`rethumb scan: as the store's last rebuild wrote them: ${optionWords(recorded).join(' ')}\n`);
  return invocation.args;
}

/**
 * How the store's last rebuild reached its sources, as recorded in its journal: a repair must
 * fetch the way it did (a source behind `--allow-host` is refused without it), and scan, which
 * fetches nothing, has no such flags of its own.
 */
const SOURCE_SETTINGS: ReadonlySet<string> = new Set(['allow-host', 'allow-private-networks', 'allow-svg', 'max-bytes', 'max-pixels', 'per-host', 'concurrency']);

/** The rebuild of the list with the scan's own output settings and the store's last job's source settings, ready to paste. */
async function repairCommand(args: ScanArgs, retryDegraded: boolean): Promise<string> {
  const { variants, format, quality } = args.regenerator;
  const words = ['rebuild', pathArg(args.list!), '--out', pathArg(args.out)];
  for (const [name, spec] of Object.entries(variants)) words.push('--variant', `${name}=${spec.width ?? ''}x${spec.height ?? ''}${spec.fit ? `:${spec.fit}` : ''}`);
  if (format !== undefined) words.push('--format', format);
  if (quality !== undefined) words.push('--quality', String(quality));
  if (retryDegraded) words.push('--retry-degraded');
  const header = await readJournalHeader(join(args.out, '.rethumb', 'journal.jsonl')).catch(() => undefined);
  const recorded = readRecordedSettings(header?.settings) ?? [];
  words.push(...optionWords(recorded.filter((o) => SOURCE_SETTINGS.has(o.name))));
  return commandLine(words);
}
