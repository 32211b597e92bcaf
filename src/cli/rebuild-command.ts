/** `rethumb rebuild`: `runBatch` with a progress display, a summary and a JSON report. */
import { resolve } from 'node:path';
import { countRecords } from '../batch/count-records.js';
import { formatOfPath } from '../batch/read-manifest.js';
import { runBatch, type BatchReport } from '../batch/run-batch.js';
import { interruptedExitCode, type CliIO, type CliSignals } from './cli-io.js';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';
import { machineSummary, planMachine, sizedRegenerator } from './machine-plan.js';
import type { RebuildArgs } from './parse-args.js';
import { createProgress } from './progress.js';
import { problemReporter } from './report-problem.js';
import { appliedHeapFlag } from './tune-heap.js';
import { writeJsonFile } from './write-json-file.js';

export async function rebuildCommand(args: RebuildArgs, io: CliIO, signals: CliSignals): Promise<number> {
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
  const reportProblem = problemReporter(args, io);
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
  } finally {
    display.stop();
  }
  const summary = { command: 'rebuild', out: resolve(args.out), ...report, durationMs: Math.round(report.durationMs), recordsPerSecond: round(report.recordsPerSecond), machine: machineSummary(machine) };
  if (args.report) await writeJsonFile(args.report, summary);
  if (args.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else if (!args.quiet) io.stdout.write(humanSummary(report, args));
  return report.interrupted ? interruptedExitCode(signals.received) : 0;
}

function humanSummary(r: BatchReport, args: RebuildArgs): string {
  const c = r.counts;
  const lines = [
    `rethumb rebuild: ${formatCount(r.total)} records in ${formatDuration(r.durationMs)} (${formatRate(r.recordsPerSecond)})`,
    `  regenerated ${formatCount(c.regenerated)}, stored ${formatCount(c.stored)}, mirror ${formatCount(c.mirror)}, ` +
      `derived ${formatCount(c.derived)}, placeholder ${formatCount(c.placeholder)}`,
    `  downloaded ${formatBytes(r.bytesDownloaded)}, wrote ${formatBytes(r.bytesWritten)}`,
    `  fallbacks: ${formatCount(r.fallbacks)}${r.fallbacks > 0 ? ` (retry them: rethumb rebuild ${r.fallbackReport} --out ${args.out})` : ''} → ${r.fallbackReport}`,
  ];
  if (r.resumed > 0) lines.push(`  resumed: ${formatCount(r.resumed)} records were finished by earlier runs`);
  if (r.onHold > 0) lines.push(`  on hold: ${formatCount(r.onHold)} records whose failure is still on backoff (--retry-failed forces them)`);
  if (r.malformedLines > 0) lines.push(`  malformed manifest lines skipped: ${formatCount(r.malformedLines)}`);
  if (r.hashes) lines.push(`  thumbhashes: ${formatCount(r.hashes.records)} records → ${r.hashes.file}`);
  if (args.report) lines.push(`  report: ${args.report}`);
  if (r.interrupted) lines.push(`  interrupted: continue with \`rethumb rebuild ${args.manifest} --out ${args.out} --resume\``);
  return `${lines.join('\n')}\n`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
