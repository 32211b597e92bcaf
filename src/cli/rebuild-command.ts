/** `rethumb rebuild`: `runBatch` with a progress display, a summary and a JSON report. */
import { join, resolve } from 'node:path';
import { countRecords } from '../batch/count-records.js';
import { ErrorCodes, isRethumbError, StoreError } from '../errors.js';
import { readJournalHeader } from '../batch/journal.js';
import { formatOfPath } from '../batch/read-manifest.js';
import { runBatch, type BatchReport } from '../batch/run-batch.js';
import { WorkersFailedError } from '../batch/process-pool.js';
import { resolveOptions } from '../options.js';
import { checkManifest, checkOutDir, checkOutputFile } from './check-paths.js';
import { advise, adviceLines, MALFORMED_RECORD_REASONS, reasonLines, type Advice } from './advice.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { commandLine, pathArg } from './command-line.js';
import { formatBytes, formatCount, formatDuration, formatRate, formatRecords } from './format.js';
import { JOB_SETTINGS, mergeSettings, optionWords, readRecordedSettings, recordSettings, withOptions, type GivenOption } from './job-settings.js';
import { machineSummary, planMachine, sizedRegenerator } from './machine-plan.js';
import { isRepeatable, parseInvocation, type RebuildArgs } from './parse-args.js';
import { createProgress } from './progress.js';
import { unusedPathBeside } from './unused-path.js';
import { problemReporter, warnIfEmpty } from './report-problem.js';
import { appliedHeapFlag } from './tune-heap.js';
import { writeJsonFile } from './write-json-file.js';

export async function rebuildCommand(typedArgs: RebuildArgs, io: CliIO, signals: CliSignals): Promise<number> {
  // Option values first (no I/O), then the paths.
  resolveOptions(typedArgs.regenerator);
  await checkManifest(typedArgs.manifest, io);
  await checkOutDir(typedArgs.out, true);
  const args = await withRecordedSettings(typedArgs, io.isTTY);
  if (args.report) await checkOutputFile('--report', args.report, args.manifest);
  if (args.fallbacks) await checkOutputFile('--fallbacks', args.fallbacks);
  signals.setGraceMs?.(args.graceMs);
  const machine = planMachine({ cores: args.cores, processes: args.processes, renderConcurrency: args.regenerator.renderConcurrency });
  const heapFlag = appliedHeapFlag();
  const display = createProgress({ mode: args.progress, stream: io.stderr, intervalMs: args.progressIntervalMs });
  let total: number | undefined;
  // The total is only for the display (percent, ETA): counted alongside, never waited for.
  if (args.manifest !== '-') {
    countRecords(args.manifest, args.manifestFormat ?? formatOfPath(args.manifest) ?? 'jsonl', signals.abort).then(
      (n) => void (total = n),
      () => {},
    );
  }
  const started = performance.now();
  // The quick count includes malformed lines; the display takes them off as they are found.
  let malformed = 0;
  const reportProblem = problemReporter(args, io, display.log);
  signals.setNotice?.(display.log);
  let report: BatchReport;
  try {
    report = await runBatch({
      manifest: args.manifest,
      ...(args.manifestFormat ? { manifestFormat: args.manifestFormat } : {}),
      regenerator: sizedRegenerator(args.regenerator, machine),
      processes: machine.processes,
      // Workers render as this process would have: the same Node options and V8 heap tuning
      // (but no debugger: its port is this process's).
      workerExecArgv: [...process.execArgv.filter((arg) => !arg.startsWith('--inspect')), ...(heapFlag ? [heapFlag] : [])],
      resume: args.resume,
      jobSettings: recordSettings(args.given),
      onlyMissing: args.onlyMissing,
      retryDegraded: args.retryDegraded,
      retryFailed: args.retryFailed,
      verify: args.verify,
      ...(args.fallbacks ? { fallbackReport: args.fallbacks } : {}),
      ...(args.hashes ? { hashes: args.hashes } : {}),
      stop: signals.stop,
      signal: signals.abort,
      onProblem: (problem) => {
        malformed += 1;
        reportProblem(problem);
      },
      onProgress: (p) =>
        display.update({
          done: p.done,
          total: total === undefined ? undefined : Math.max(p.done, total - malformed),
          doneThisRun: p.done - p.resumed,
          runMs: performance.now() - started,
          counts: p.counts,
          bytesDownloaded: p.bytesDownloaded,
          bytesWritten: p.bytesWritten,
        }),
    });
  } catch (error) {
    // The store refused writes (a full disk …): the journal holds what was stored, so the job
    // continues with --resume once the store is fixed; say how, as a command to paste.
    if (isRethumbError(error, ErrorCodes.STORE) && args.manifest !== '-') {
      throw new StoreError(`${error.message}:\n    ${resumeCommand(args, typedArgs)}`, error.cause ?? error);
    }
    // The records finished so far are journaled: say how to continue, in one line.
    if (error instanceof WorkersFailedError && args.manifest !== '-') throw new WorkersFailedError(`${error.message}; to continue, run: ${resumeCommand(args, typedArgs)}`);
    throw error;
  } finally {
    display.stop();
    signals.setNotice?.(undefined);
  }
  const next = nextCommands(report, args, typedArgs);
  const summary = {
    command: 'rebuild',
    out: resolve(args.out),
    ...report,
    durationMs: Math.round(report.durationMs),
    recordsPerSecond: round(report.recordsPerSecond),
    machine: machineSummary(machine),
    advice: next.advice,
    ...(next.resume ? { resumeCommand: next.resume } : {}),
    ...(next.retry ? { retryCommand: next.retry } : {}),
  };
  if (!report.interrupted) warnIfEmpty(args, io, report.total, report.malformedLines);
  if (args.report) await writeJsonFile(args.report, summary);
  if (args.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else if (!args.quiet) io.stdout.write(humanSummary(report, args, next));
  return report.interrupted ? interruptedExitCode(signals.received) : 0;
}

/**
 * With `--resume`: the settings the job was started with (recorded in its journal), merged with
 * what was given now, and parsed again — so `rethumb rebuild MANIFEST --out DIR --resume` is all
 * it takes to continue a job started with any flags. A journal without recorded settings (a
 * script's, or an older one) leaves the arguments as given.
 */
async function withRecordedSettings(args: RebuildArgs, isTTY: boolean): Promise<RebuildArgs> {
  if (!args.resume) return args;
  const header = await readJournalHeader(join(args.out, '.rethumb', 'journal.jsonl'));
  const recorded = readRecordedSettings(header?.settings);
  if (recorded === undefined) return args;
  const merged = mergeSettings(recorded, args.given);
  const invocation = parseInvocation(['rebuild', ...optionWords(merged), '--', args.manifest], isTTY);
  if (invocation.kind !== 'rebuild') throw new Error('Expected the merged arguments to be a rebuild');
  return invocation.args;
}

interface NextCommands {
  advice: Advice[];
  /** How to continue an interrupted job. */
  resume: string | undefined;
  /** How to retry the records that fell back, once the job is done. */
  retry: string | undefined;
}

/** What the user can paste next: advice per reason, and the resume or retry command. */
function nextCommands(r: BatchReport, args: RebuildArgs, typed: RebuildArgs): NextCommands {
  const base = ['rebuild', pathArg(args.manifest), '--out', pathArg(args.out)];
  // The job's settings as this run had them.
  const settings = args.given.filter((o) => o.name in JOB_SETTINGS);
  const advice = advise({
    fallbacks: r.fallbacks,
    reasons: r.fallbackReasons,
    // A fresh run (not --resume): the records that fell back are done in the journal.
    rerun: (extra) => commandLine([...base, ...optionWords(withOptions(settings, extra, isRepeatable))]),
  });
  if (r.interrupted && args.manifest === '-') return { advice, resume: undefined, retry: undefined };
  if (r.interrupted) return { advice, resume: resumeCommand(args, typed), retry: undefined };
  // Records refused by our own settings are retried by the advice's command, not this one, and
  // malformed records fail the same way until the manifest is fixed: no retry for them alone.
  const malformed = Object.entries(r.fallbackReasons).reduce((n, [reason, counted]) => n + (MALFORMED_RECORD_REASONS.has(reason) ? counted.count : 0), 0);
  const retryable = r.fallbackClasses.permanent + r.fallbackClasses.transient - malformed;
  if (r.fallbacks === 0 || retryable === 0) return { advice, resume: undefined, retry: undefined };
  const extra: GivenOption[] = [];
  // Permanent failures are held by the failure memory at the next run: force them.
  if (r.fallbackClasses.permanent > 0) extra.push({ name: 'retry-failed', value: undefined });
  // A derived stand-in is stored (degraded): only --retry-degraded replaces it.
  if (r.counts.derived > 0) extra.push({ name: 'retry-degraded', value: undefined });
  // The report and the fallbacks file are this job's: a retry writes its own beside the store.
  // Its hashes go to a new file beside the job's, which pasting the command must not overwrite.
  const kept = settings
    .filter((o) => o.name !== 'report' && o.name !== 'fallbacks')
    .map((o) => (o.name === 'hashes' && o.value !== undefined ? { ...o, value: unusedPathBeside(o.value) } : o));
  // The fallback report is named by its absolute path, so the store is too: pasted in another
  // directory, a relative --out would fill a new, empty store there (exit 0) instead of this one.
  return { advice, resume: undefined, retry: commandLine(['rebuild', r.fallbackReport, '--out', resolve(args.out), ...optionWords(withOptions(kept, extra, isRepeatable))]) };
}

/** How to continue this job: the journal restores the settings it was started with; what this run changed must be given again. */
function resumeCommand(args: RebuildArgs, typed: RebuildArgs): string {
  const typedNames = new Set(typed.given.map((o) => o.name));
  const overrides = args.resume ? args.given.filter((o) => o.name in JOB_SETTINGS && typedNames.has(o.name)) : [];
  return commandLine(['rebuild', pathArg(args.manifest), '--out', pathArg(args.out), ...optionWords(overrides), '--resume']);
}

function humanSummary(r: BatchReport, args: RebuildArgs, next: NextCommands): string {
  const c = r.counts;
  const lines = [
    `rethumb rebuild: ${formatRecords(r.total)} in ${formatDuration(r.durationMs)} (${formatRate(r.recordsPerSecond)})`,
    `  regenerated ${formatCount(c.regenerated)}, stored ${formatCount(c.stored)}, mirror ${formatCount(c.mirror)}, ` +
      `derived ${formatCount(c.derived)}, placeholder ${formatCount(c.placeholder)}`,
    `  downloaded ${formatBytes(r.bytesDownloaded)}, wrote ${formatBytes(r.bytesWritten)}`,
    `  fallbacks: ${formatCount(r.fallbacks)}${r.fallbacks > 0 ? `, listed in ${r.fallbackReport}` : ''}`,
    ...reasonLines(r.fallbackReasons),
  ];
  if (r.resumed > 0) lines.push(`  resumed: ${formatRecords(r.resumed)} ${r.resumed === 1 ? 'was' : 'were'} finished by earlier runs`);
  if (r.onHold > 0) lines.push(`  on hold: ${formatRecords(r.onHold)} whose failure in an earlier run is still on backoff (RETHUMB_RECENTLY_FAILED)`);
  if (r.malformedLines > 0) lines.push(`  malformed manifest lines skipped: ${formatCount(r.malformedLines)}`);
  if (r.hashes) lines.push(`  thumbhashes: ${formatCount(r.hashes.records)} records → ${r.hashes.file}`);
  if (args.report) lines.push(`  report: ${args.report}`);
  lines.push(...adviceLines(next.advice));
  if (next.retry) lines.push(`  retry the fallbacks once their sources are back:`, `    ${next.retry}`);
  if (next.resume) lines.push(`  interrupted: to continue, run:`, `    ${next.resume}`);
  else if (r.interrupted) lines.push('  interrupted: a manifest read from stdin cannot be resumed (pass it as a file to resume a job)');
  return `${lines.join('\n')}\n`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
